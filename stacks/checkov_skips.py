"""checkov skips, each naming its check and the exact reason, on the one resource they concern.
checkov reads `Metadata.checkov.skip: [{id, comment}]` of a CloudFormation resource
(https://www.checkov.io/2.Basics/Suppressing%20and%20Skipping%20Policies.html, "CloudFormation")."""

from __future__ import annotations

from aws_cdk import CfnResource
from constructs import IConstruct


def skip_check(construct: IConstruct, check_id: str, reason: str) -> None:
    """Skip checkov's `check_id` (e.g. "CKV_AWS_117") on the CloudFormation resource of
    `construct` (itself a CfnResource, or an L2 construct whose default child is one)."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise ValueError(f"{construct.node.path} has no CloudFormation resource to skip a check on")
    metadata = resource.get_metadata("checkov") or {}
    skips = [s for s in metadata.get("skip", []) if s["id"] != check_id]
    resource.add_metadata(
        "checkov", {**metadata, "skip": [*skips, {"id": check_id, "comment": reason}]}
    )
