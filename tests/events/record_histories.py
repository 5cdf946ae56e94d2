"""Record the Step Functions fixtures of tests/events from real executions of the local runtime
(the same ASL file, validator, Glue script and SQL), so that they hold what the code really
produces. Run it after changing what a failure looks like:

    .venv/bin/python tests/events/record_histories.py

Each scenario runs through `lake upload` on a fresh lake home; its history and its status-change
event are then moved into an AWS account's names (region eu-west-1, account 123456789012, the
stack's bucket names, a UUID execution name) so that the alert tests read them as AWS would
deliver them. Scenarios: validate_failed (a Latin-1 file: NotUtf8 at Validate), transform_failed
(the curated bucket cannot be written: a Glue failure that is not the file's fault) and
transform_rejected (too many bad rows: TooManyRejects from the job)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lake.home import LOCAL_ACCOUNT, LOCAL_REGION, LakeHome  # noqa: E402
from lake.runtime import Lake  # noqa: E402
from lake.runtime.eventbridge import status_change_of  # noqa: E402
from lake.ui.generate import generate  # noqa: E402

EVENTS = Path(__file__).resolve().parent
ACCOUNT, REGION = "123456789012", "eu-west-1"
NAME = "6c0e5f9a-3d1b-4e8e-b0a2-7f1d2c3b4a5e"
KEY = "travel_times/bogota/2019-q2.csv"


def _latin1(path: Path) -> None:
    generate(path, rows=50, seed=3, city="bogota")  # Spanish names: "Usaquén", "Engativá", ...
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))


def _blocked_curated(path: Path, home: LakeHome) -> None:
    generate(path, rows=200, seed=4, city="bogota", date_ranges=2)
    staging = home.bucket_path(home.settings.curated_bucket) / "_staging"
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_text("a file where the job's staging folder must be\n")


def _too_many_rejects(path: Path) -> None:
    generate(path, rows=400, seed=5, city="bogota", date_ranges=2, bad_share=0.05)


SCENARIOS = {
    "validate_failed": lambda path, home: _latin1(path),
    "transform_failed": _blocked_curated,
    "transform_rejected": lambda path, home: _too_many_rejects(path),
}


def _aws_names(text: str, home: LakeHome, local_name: str) -> str:
    s = home.settings
    for scheme in ("file://", "file:", ""):
        text = text.replace(f"{scheme}{home.buckets}/", "s3://")
    for bucket in (s.raw_bucket, s.curated_bucket, s.athena_results_bucket):
        text = text.replace(f"{bucket}", f"{bucket}-{ACCOUNT}-{REGION}")
    return (
        text.replace(f"{LOCAL_REGION}:{LOCAL_ACCOUNT}", f"{REGION}:{ACCOUNT}")
        .replace(LOCAL_ACCOUNT, ACCOUNT)
        .replace(local_name, NAME)
        .replace(str(home.root), "/home/glue")
        .replace(str(ROOT), "/var/task")
    )


def record(scenario: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        home = LakeHome(Path(folder) / "lake").ensure()
        source = Path(folder) / "2019-q2.csv"
        SCENARIOS[scenario](source, home)
        with Lake(home, time_scale=0.001) as lake:
            name = lake.upload(source, KEY)
            lake.close()  # waits for the execution to end
            record = lake.execution(name)
            history = lake.history(name)
        status = status_change_of(record)  # the event the runtime itself sends
        for prefix, document in (("sfn_status", status), ("sfn_history", {"events": history})):
            text = _aws_names(json.dumps(document, indent=2, ensure_ascii=False), home, name)
            (EVENTS / f"{prefix}_{scenario}.json").write_text(text + "\n", encoding="utf-8")
        print(f"{scenario}: {record.status} {record.error} ({len(history)} events)")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        record(sys.argv[1])
    else:  # one process per scenario: a process's Spark catalog belongs to one lake home
        import subprocess

        for scenario in sys.argv[1:] or SCENARIOS:
            subprocess.run([sys.executable, __file__, scenario], check=True)
