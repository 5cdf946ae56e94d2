"""cdk-nag suppressions, each naming its rule and the exact reason, kept as narrow as possible."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions
from constructs import IConstruct


def suppress(
    construct: IConstruct,
    rule: str,
    reason: str,
    *,
    applies_to: Sequence[str] | None = None,
    children: bool = False,
) -> None:
    """Suppress one AwsSolutions rule on `construct` (and its children when `children`), for
    exactly the findings in `applies_to` when given (e.g. "Resource::*")."""
    NagSuppressions.add_resource_suppressions(
        construct,
        [NagPackSuppression(id=rule, reason=reason, applies_to=list(applies_to or []) or None)],
        apply_to_children=children,
    )


XRAY_REASON = (
    "X-Ray's PutTraceSegments, PutTelemetryRecords, GetSamplingRules and GetSamplingTargets "
    "support no resource-level permissions: the IAM reference allows only Resource '*'."
)


def arn_token(construct: IConstruct) -> str:
    """How cdk-nag writes the `Fn::GetAtt <Resource>.Arn` of a construct in a finding, so that
    `applies_to` can name it: `<LogicalId.Arn>`."""
    cfn = construct.node.default_child
    if cfn is None:
        raise ValueError(f"{construct.node.path} has no CloudFormation resource")
    return f"<{Stack.of(construct).get_logical_id(cfn)}.Arn>"  # type: ignore[arg-type]
