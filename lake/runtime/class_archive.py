"""Write the JVM class archive that every local SparkSession maps (`lake.aws.spark.CLASS_ARCHIVE`):

    python -m lake.runtime.class_archive [ARCHIVE]

`make` runs it once per installation. It trains the archive on what a first `lake upload` does:
in a scratch lake home, the upload of a small export through the workflow (Validate, the Glue
job, the catalog, the partition registration), then a query, in a JVM that writes the classes
it loaded to ARCHIVE when it exits."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from lake.aws.spark import CLASS_ARCHIVE, local_spark_session
from lake.home import LakeHome
from lake.runtime.api import Lake
from lake.runtime.warm_up import write_warm_up_export

TRAINING_ROWS = 2_000
TRAINING_KEY = "travel_times/bogota/class-archive-training.csv"


def write_class_archive(archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lake-class-archive-") as scratch:
        home = LakeHome.at(Path(scratch) / "home").ensure()
        # The engine below (this process's own) finds this session: the one JVM of the process.
        spark = local_spark_session(home.root, archive_classes_to=archive)
        export = write_warm_up_export(Path(scratch) / "training.csv", TRAINING_ROWS)
        with Lake(home) as lake:
            name = lake.upload(export, TRAINING_KEY)
            while not (record := lake.execution(name)).finished:
                time.sleep(0.2)
            if record.status != "SUCCEEDED":
                raise SystemExit(
                    f"the training upload ended {record.status}: no class archive written"
                )
            lake.query(f"SELECT count(*) FROM `{home.settings.table}`")
        # The JVM writes the archive as it exits: stop it and wait for that.
        jvm = spark.sparkContext._gateway.proc
        spark.stop()
        jvm.stdin.close()
        jvm.wait(timeout=300)
    if not archive.is_file():
        raise SystemExit(f"the JVM wrote no class archive at {archive}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    archive = Path(args[0]) if args else CLASS_ARCHIVE
    began = time.monotonic()
    write_class_archive(archive.resolve())
    size = archive.stat().st_size >> 20
    print(f"class archive: {archive} ({size} MiB, {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
