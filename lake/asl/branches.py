"""Running branches (Parallel) and iterations (inline Map) side by side, for real.

Each job runs on a ``Run.scoped`` copy with its own context object, in a pool of at most
``max_workers`` threads, so MaxConcurrency bounds what runs at once. Results come back in the
jobs' order whatever order they finish in. The first job to fail cancels the others: they stop
at their next state boundary or wait (a task already running is let finish), and the failure is
raised once all have stopped.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lake.asl.errors import StatesError
from lake.asl.model import CANCELLED, Stopped

if TYPE_CHECKING:
    from lake.asl.run import Run

Job = Callable[["Run"], Any]


def branch_context(context: dict) -> dict:
    """A branch's own context object: the execution's, without the parent state's entry."""
    return {key: copy.deepcopy(value) for key, value in context.items() if key != "State"}


@contextlib.contextmanager
def recording_end(run: Run, kind: str) -> Iterator[None]:
    """The end event of a Map or Parallel state (`kind`) around the block that runs its
    iterations or branches: <kind>StateFailed for a failure, <kind>StateAborted when the execution
    was aborted, <kind>StateSucceeded when the block completes."""
    try:
        yield
    except StatesError:
        run.history.add(f"{kind}StateFailed")
        raise
    except Stopped as stop:
        if stop.status == "ABORTED":
            run.history.add(f"{kind}StateAborted")
        raise
    run.history.add(f"{kind}StateSucceeded")


def run_all(
    run: Run,
    jobs: list[Job],
    max_workers: int,
    on_cancelled: Callable[[int], None] | None = None,
) -> list[Any]:
    """Run every job; return their outputs in order, or raise the first failure (StatesError or
    Stopped). ``on_cancelled(index)`` is told of each job stopped because another failed."""
    if not jobs:
        return []
    cancel = threading.Event()
    lock = threading.Lock()
    failures: list[BaseException] = []
    outputs: list[Any] = [None] * len(jobs)

    def work(index: int) -> None:
        if cancel.is_set():
            return  # never started: a sibling had already failed
        scoped = run.scoped(branch_context(run.context), cancel)
        try:
            outputs[index] = jobs[index](scoped)
        except Stopped as stop:
            if stop.status == CANCELLED:
                if on_cancelled is not None:
                    on_cancelled(index)
                return
            with lock:
                failures.append(stop)
            cancel.set()
        except StatesError as error:
            with lock:
                failures.append(error)
            cancel.set()
        except BaseException as error:  # a bug: surface it instead of hanging the state
            with lock:
                failures.append(error)
            cancel.set()

    workers = max(1, min(max_workers, len(jobs)))
    if workers == 1:
        for index in range(len(jobs)):
            work(index)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="asl-branch") as pool:
            list(pool.map(work, range(len(jobs))))
    if failures:
        raise failures[0]
    return outputs
