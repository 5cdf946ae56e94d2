"""Warming the engine up while nobody waits: the SparkSession at once, then the catalog, then,
when no request and no execution has come for a moment, a few runs of the real Glue job on a
small export in a scratch folder and a query, so that the next upload finds the job's code
compiled (the JVM's JIT too). Gives way to real work at once."""

from __future__ import annotations

import logging
import shutil
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WARM_UP_AFTER_QUIET_S = 0.5
WARM_UP_ROWS = 5_000
WARM_UP_RUNS = 3
WARM_UP_JOB_GROUP = "lake-engine-warm-up"

log = logging.getLogger("lake.engine")


def warm_up(engine: Any, quiet: Callable[[], bool], stop: threading.Event) -> None:
    """Start Spark and the catalog now, then, while nothing else runs, run the Glue script on a
    small export in a scratch folder and a query, so that the first real run finds the code
    paths compiled. Never competes with real work: the job runs only when `quiet()`."""
    began = time.monotonic()
    try:
        engine.session()  # the JVM: what a first Glue run waits for
        log.info("warm-up: Spark ready in %.1f s", time.monotonic() - began)
        began = time.monotonic()
        engine.spark()  # the catalog (Hive, Derby) and the table: meanwhile, a run may go on
        log.info("warm-up: the catalog ready in %.1f s", time.monotonic() - began)
    except Exception:
        log.exception("warm-up: could not start Spark (a request will try again)")
        return
    quiet_since = None
    runs = 0
    scratch = engine.home.root / "engine-warm-up"
    try:
        while runs < WARM_UP_RUNS and not stop.is_set():
            if not quiet():
                quiet_since = None
                if stop.wait(0.2):
                    return
                continue
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since < WARM_UP_AFTER_QUIET_S:
                if stop.wait(0.1):
                    return
                continue
            t0 = time.monotonic()
            if _warm_up_run(engine, scratch, runs, quiet):
                runs += 1
                log.info("warm-up: job run %d on %d rows in %.1f s", runs, WARM_UP_ROWS,
                         time.monotonic() - t0)  # fmt: skip
            else:
                quiet_since = None
                log.info("warm-up: a job run gave way to a request after %.1f s",
                         time.monotonic() - t0)  # fmt: skip
        if not stop.is_set():
            t0 = time.monotonic()
            engine.query(f"SELECT count(*) FROM `{engine.home.settings.table}` WHERE year = 0")
            log.info("warm-up: query in %.1f s; warm", time.monotonic() - t0)
    except Exception:
        log.exception("warm-up failed (the engine still serves; the first run will be slower)")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _warm_up_run(engine: Any, scratch: Path, run: int, quiet: Callable[[], bool]) -> bool:
    """One run of the Glue job (`glue.job.run`, what the script calls) on a generated export,
    writing only under `scratch`. It gives way to real work: its Spark jobs run in a job group
    of their own, cancelled as soon as a request or an execution comes (False then: the run did
    not finish).

    Not a Glue job run: it takes no turn in the job's run queue, so a real run starts at once
    instead of waiting for a cancelled warm-up to unwind (up to 2 s measured, when the cancel
    came while the warm-up was building its DataFrame). Its last steps meanwhile share the
    cores with the real run."""
    from glue import logs as job_logs
    from glue.job import JobArguments
    from glue.job import run as run_job
    from lake.aws.logs import ROUTING_STREAM, logging_to

    settings = engine.home.settings
    source = scratch / "raw" / "travel_times" / "bogota" / "warm-up.csv"
    if not source.exists():
        write_warm_up_export(source, WARM_UP_ROWS)
    curated = scratch / f"curated-{run}"
    arguments = JobArguments(
        source_path=source.as_uri(),
        source_key="travel_times/bogota/warm-up.csv",
        curated_path=curated.as_uri() + "/",
        manifest_path=(curated / "manifests" / "warm-up.json").as_uri(),
        database=settings.database,
        table=settings.table,
        reject_threshold=settings.reject_threshold,
    )
    spark = engine.session()
    context = spark.sparkContext
    # (a job group is this thread's: Spark pins Python threads to JVM threads)
    context.setJobGroup(WARM_UP_JOB_GROUP, "warm-up", interruptOnCancel=True)
    finished = threading.Event()
    gave_way = threading.Event()

    def give_way() -> None:
        while not finished.wait(0.1):
            if gave_way.is_set() or not quiet():
                gave_way.set()
                # again and again: a cancel ends the group's running jobs, not the next ones
                context.cancelJobGroup(WARM_UP_JOB_GROUP)

    threading.Thread(target=give_way, name="warm-up-gives-way", daemon=True).start()
    try:
        job_logs.configure_logging(ROUTING_STREAM)  # as the Glue integration runs the script
        with logging_to(scratch / "warm-up.log"):  # (the scratch folder goes when warm)
            sys.settrace(_stopping_when(gave_way))
            run_job(spark, arguments)
    except Exception:
        if not gave_way.is_set():
            raise
    finally:
        sys.settrace(None)
        finished.set()
        for key in ("spark.jobGroup.id", "spark.job.description", "spark.job.interruptOnCancel"):
            context.setLocalProperty(key, None)  # this thread's later jobs are no warm-up's
    return not gave_way.is_set()


class GaveWay(Exception):
    """A warm-up run stopped between two steps of the job's code, for real work."""


def _stopping_when(gave_way: threading.Event) -> Callable[..., None]:
    """A trace function (`sys.settrace`, this thread only) that stops the job's Python code at
    the next call of one of its own functions once `gave_way` is set. Cancelling the job group
    ends Spark jobs only; between them the job builds its DataFrames on the driver, and a run
    told to give way went on doing that, sharing the two cores with the real run for up to 2 s
    (measured in a bench's second upload). Only calls into `glue` modules raise: never
    in the middle of a Py4J exchange, which would leave the thread's connection out of step.
    Python unsets a trace function that raises (https://docs.python.org/3/library/sys.html#sys.settrace),
    so the job's cleanup runs untraced."""

    def trace(frame: Any, event: str, arg: Any) -> None:
        if gave_way.is_set() and frame.f_globals.get("__name__", "").startswith("glue."):
            raise GaveWay("the warm-up gave way to real work")
        return None  # no tracing of the lines within the call

    return trace


def write_warm_up_export(path: Path, rows: int) -> Path:
    """A small export in the contract's shape (quoted names, weekly and monthly ranges, one bad
    row), enough to take the job through every step of a real run."""
    import csv

    from contract.formats import TRAVEL_TIMES

    ranges = [
        "1/7/2019 - 1/13/2019, Weekdays, Evening (7PM - 12AM)",
        "2/1/2019 - 2/28/2019, Weekends, AM Peak (7AM - 10AM)",
        "3/4/2019 - 3/10/2019, Every day, Daily Average",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(TRAVEL_TIMES.required_headers)
        for i in range(rows):
            origin, destination = i % 97 + 1, (i * 7) % 89 + 1
            mean = 300 + (i * 37) % 2400
            writer.writerow(
                [
                    origin,
                    f"Zona {origin}, Bogotá",
                    destination,
                    f'Calle "{destination}", Kennedy',
                    ranges[i % len(ranges)],
                    mean,
                    mean - 100,
                    mean + 250,
                ]
            )
        writer.writerow(["x", "bad", 1, "row", ranges[0], "oops", "", ""])
    return path
