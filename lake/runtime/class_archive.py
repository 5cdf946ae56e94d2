"""Write the JVM class archive that every local SparkSession maps (`lake.aws.spark.CLASS_ARCHIVE`):

    python -m lake.aws.class_archive [ARCHIVE]

`make` runs it once per installation. It trains the archive on what a first `lake upload` does:
in a scratch lake home, the real upload of a small generated export (the workflow, the Glue job,
the catalog, the partition registration), then a query, in a JVM that writes the classes it
loaded to ARCHIVE when it exits."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from lake.aws.spark import CLASS_ARCHIVE, local_spark_session
from lake.home import HOME_ENV

TRAINING_ROWS = 2_000


def write_class_archive(archive: Path) -> None:
    from lake.ui.cli import main
    from lake.ui.generate import generate

    archive.parent.mkdir(parents=True, exist_ok=True)
    archive.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="lake-class-archive-") as scratch:
        home = Path(scratch) / "home"
        os.environ[HOME_ENV] = str(home)
        os.environ["LAKE_NO_DAEMON"] = "1"  # the engine in this process, on the session below
        spark = local_spark_session(home, archive_classes_to=archive)
        export = generate(Path(scratch) / "training.csv", rows=TRAINING_ROWS, city="bogota").path
        if main(["upload", str(export), "--city", "bogota"]) != 0:
            raise SystemExit("the training upload failed: no class archive written")
        main(["query", "SELECT count(*) FROM travel_times"])
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
