"""The public face of the interpreter: start an execution, or redrive one that ended badly."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from lake.asl import limits
from lake.asl.definition import StateMachineDefinition
from lake.asl.errors import STATES_RUNTIME, ExecutionInputTooLarge, StatesError
from lake.asl.history import History, context_time, parse_event_time, to_json
from lake.asl.limits import payload_bytes, too_large
from lake.asl.model import ExecutionResult, Integration, Services
from lake.asl.observer import MapRunObserver
from lake.asl.redrive import plan_redrive
from lake.asl.resume import Resume
from lake.asl.run import Run
from lake.asl.task_tokens import TaskTokens

DEFAULT_ROLE_ARN = "arn:aws:iam::000000000000:role/movement-lake-local"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Executor:
    """Runs executions of one definition against a set of task integrations.

    ``integrations`` maps each Task Resource ARN to its integration, or is a function that
    returns the integration for a Resource. ``on_event`` sees each history event as it is
    recorded. ``time_scale`` multiplies every wait (Retry intervals, Wait states);
    ``timeout_scale`` multiplies TimeoutSeconds (the task's and the execution's), kept apart
    so that tests can make retries instant without shortening real jobs' deadlines.
    ``sleep``, ``rng`` and ``clock`` are injectable for tests.

    ``task_tokens`` is the registry ``.waitForTaskToken`` tasks wait on (share one between
    executors so that any of them, or a CLI, can complete a token); a private one is made when
    none is given. ``observer`` (a ``MapRunObserver``) is told about Distributed Map runs and
    their child executions, so that a runtime can record them (DescribeMapRun, ListExecutions).
    """

    def __init__(
        self,
        definition: StateMachineDefinition,
        integrations: Mapping[str, Integration] | Callable[[str], Integration],
        on_event: Callable[[dict], None] | None = None,
        time_scale: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = _utc_now,
        timeout_scale: float = 1.0,
        task_tokens: TaskTokens | None = None,
        observer: MapRunObserver | None = None,
    ) -> None:
        if isinstance(integrations, Mapping):
            missing = sorted(definition.resources() - set(integrations))
            if missing:
                raise ValueError(f"no integration for Resource(s): {', '.join(missing)}")
        self.definition = definition
        self._integrations = integrations
        self._resolved: dict[str, Integration] = {}
        self._on_event = on_event
        self._time_scale = time_scale
        self._timeout_scale = timeout_scale
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        self.task_tokens = task_tokens or TaskTokens()
        self.observer = observer or MapRunObserver()

    def start(
        self,
        *,
        execution_arn: str,
        name: str,
        input: Any,
        state_machine_arn: str,
        role_arn: str = DEFAULT_ROLE_ARN,
        abort: threading.Event | None = None,
    ) -> ExecutionResult:
        """Run a new execution to its end (StartExecution, synchronously).

        ``abort``, when set, stops the execution (ABORTED) between states or during a wait
        (Retry interval, Wait state); a task already running is let finish first, so that a
        job is never left half-written behind a redrive that starts it again.
        """
        execution_input = json.loads(to_json(input))  # a private copy; fails early if not JSON
        if too_large(execution_input):
            raise ExecutionInputTooLarge(
                f"the execution input is {payload_bytes(execution_input)} bytes, more than Step "
                f"Functions' {limits.MAX_PAYLOAD_BYTES}-byte quota (States.DataLimitExceeded)"
            )
        history = History(self._clock, self._on_event)
        started = history.add(
            "ExecutionStarted",
            {
                "input": to_json(execution_input),
                "inputDetails": {"truncated": False},
                "roleArn": role_arn,
            },
        )
        execution = {
            "Id": execution_arn,
            "Input": execution_input,
            "Name": name,
            "RoleArn": role_arn,
            "StartTime": context_time(parse_event_time(started["timestamp"])),
            "RedriveCount": 0,
        }
        run = self._run(history, execution, state_machine_arn, abort)
        return run.execute(self.definition.start_at, execution_input)

    def redrive(
        self,
        previous_events: list[dict],
        *,
        execution_arn: str,
        name: str,
        state_machine_arn: str,
        abort: threading.Event | None = None,
    ) -> ExecutionResult:
        """Continue an execution that ended FAILED, TIMED_OUT or ABORTED (RedriveExecution).

        Resumes at the state that did not finish, with its original input; earlier events are
        kept and new ones follow an ExecutionRedriven event. A Parallel or Map state reruns only
        its branches, iterations or Map Run children that did not succeed. Raises NotRedrivable
        with AWS's reason when the execution cannot be redriven.
        """
        now = self._clock()
        plan = plan_redrive(self.definition, previous_events, now)
        history = History(self._clock, self._on_event, previous_events)
        history.add("ExecutionRedriven", {"redriveCount": plan.redrive_count})
        execution = {
            "Id": execution_arn,
            "Input": plan.execution_input,
            "Name": name,
            "RoleArn": plan.role_arn,
            "StartTime": context_time(plan.start_time),
            "RedriveCount": plan.redrive_count,
            "RedriveTime": context_time(now),
        }
        run = self._run(history, execution, state_machine_arn, abort)
        run.resume = Resume(
            plan.state_name, plan.state_input, plan.entered_id, tuple(previous_events)
        )
        return run.execute(plan.state_name, plan.state_input)

    def _run(
        self,
        history: History,
        execution: dict,
        state_machine_arn: str,
        abort: threading.Event | None,
    ) -> Run:
        arn_parts = state_machine_arn.split(":")
        context = {
            "Execution": execution,
            "StateMachine": {"Id": state_machine_arn, "Name": arn_parts[-1]},
            "State": {},
        }
        return Run(
            definition=self.definition,
            resolve=self._resolve,
            history=history,
            context=context,
            rng=self._rng,
            sleep=self._sleep,
            abort=abort,
            time_scale=self._time_scale,
            timeout_scale=self._timeout_scale,
            clock=self._clock,
            region=arn_parts[3] if len(arn_parts) > 3 and arn_parts[3] else "local",
            services=Services(self.task_tokens, self.observer, self._on_event),
        )

    def _resolve(self, resource: str) -> Integration:
        if isinstance(self._integrations, Mapping):
            return self._integrations[resource]
        if resource not in self._resolved:
            try:
                self._resolved[resource] = self._integrations(resource)
            except Exception as error:
                raise StatesError(
                    STATES_RUNTIME, f"No local integration for Resource '{resource}': {error}"
                ) from error
        return self._resolved[resource]
