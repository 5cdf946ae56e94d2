"""The local SparkSession: one per process, warm for as long as the process lives.

Configured to behave like AWS Glue 5.1 (Spark 3.5, non-ANSI SQL, UTC session time zone) and sized
for one machine. Hive support gives the local Athena engine a persistent catalog (a Derby
metastore) under the lake home, which runs Athena's Hive DDL verbatim."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

# Errors only. In a Python (interpreter) session Spark prints "Setting default log level" unless
# the level of its own loggers (configured here through `org`) equals the root's.
_LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n
logger.org.name = org
logger.org.level = error
logger.com.name = com
logger.com.level = error
logger.datanucleus.name = DataNucleus
logger.datanucleus.level = error
"""


# The JVM's heap (local mode runs the executors in the driver's JVM). 1 GB, not more: Spark uses
# what it is given (a task's sort keeps rows in memory up to its share before it spills), so with
# 2 GB a 10M-row file's peak was 1.7x a 1M-row file's (1,453 -> 2,513 MiB), and with 1 GB it is
# 1.2x (1,199 -> 1,454 MiB): both sizes meet the limit, which holds for any size. The price: the
# 10M-row run took 240 s instead of 195 s (more spills and collections; warm, one run each).
DRIVER_MEMORY = "1g"
# A 1.3 GB export is read in about 20 splits: work for both cores to the end, each task small.
# (Spark's default is 128 MB: https://spark.apache.org/docs/3.5.1/sql-performance-tuning.html)
SPLIT_BYTES = "64m"
# Shuffles: a few tasks per core, which adaptive execution merges when small
# (https://spark.apache.org/docs/3.5.1/sql-performance-tuning.html#coalescing-post-shuffle-partitions).
# The Glue job, for its shuffle by start date, raises the initial number in the session it runs
# in (glue.job.DATE_BUCKETS); in the engine's shared session, later queries start from it too,
# and adaptive execution merges those buckets back the same way.
SHUFFLE_PER_CORE = 8
# What `make` builds for the JVM, kept in the virtualenv beside the pyspark it is built for (a
# checkout not built by `make` runs without them, slower):
BUILT = Path(sys.prefix) / "share" / "movement-lake"
# - Hadoop's local file system sets the mode of each file and folder it creates through a `chmod`
#   process (pyspark ships no Hadoop native library); this one (lake/aws/java) sets it through
#   Java NIO: a warm run of a small export went from 2.86 s to 2.48 s (median of 10).
LOCAL_FS_JAR = BUILT / "local-fs.jar"
LOCAL_FS_CLASS = "movementlake.NioLocalFileSystem"
# - An archive of the classes a first upload loads, parsed and verified (AppCDS,
#   https://docs.oracle.com/en/java/javase/17/vm/class-data-sharing.html), written by
#   `python -m lake.runtime.class_archive`. Every JVM maps it instead of loading those classes from
#   the jars: a cold start's JVM 4.7 -> 3.2 s, its first transform 20.5 -> 18.7 s, the catalog
#   7.0 -> 6.0 s (bench.cold_start, one run each); a first upload end to end 36.3 -> 29.6 s. The
#   JVM checks that it matches its class path and jars and silently does without it when not.
CLASS_ARCHIVE = BUILT / "classes.jsa"


def _class_archive_options(archive_classes_to: Path | None) -> str:
    if archive_classes_to is not None:
        return f" -XX:ArchiveClassesAtExit={archive_classes_to} -Xlog:cds*=off"
    if CLASS_ARCHIVE.is_file():
        return f" -XX:SharedArchiveFile={CLASS_ARCHIVE} -Xlog:cds*=off"
    return ""


def local_spark_session(
    home: Path,
    app_name: str = "movement-lake",
    shuffle_partitions: int | None = None,
    driver_memory: str = DRIVER_MEMORY,
    cores: int | None = None,
    archive_classes_to: Path | None = None,
) -> SparkSession:
    """Get (or create) this process's SparkSession with its catalog and warehouse under `home`,
    on `cores` cores (default: all of the machine's). `archive_classes_to`: the JVM writes the
    classes it loaded there when it exits (`lake.runtime.class_archive`)."""
    home = Path(home).resolve()
    catalog = home / "catalog"
    catalog.mkdir(parents=True, exist_ok=True)
    cores = cores or os.cpu_count() or 2
    # Quiet on the console: the CLI shows its own progress; Spark's errors still reach stderr.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no hostname warning
    log_config = catalog / "log4j2.properties"
    log_config.write_text(_LOG4J2)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        # Memory is bounded by these, whatever the file's size: the heap (local mode runs the
        # executors in the driver's JVM), splits of at most SPLIT_BYTES read at once per core,
        # and a fixed number of shuffle partitions; the job collects nothing row-sized.
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.files.maxPartitionBytes", SPLIT_BYTES)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")  # Glue 5.1 default: bad casts give null
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions or cores * SHUFFLE_PER_CORE))
        .config("spark.sql.adaptive.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.warehouse.dir", str(catalog / "warehouse"))
        .config(
            "spark.hadoop.javax.jdo.option.ConnectionURL",
            f"jdbc:derby:;databaseName={catalog / 'metastore_db'};create=true",
        )
        .config("spark.ui.showConsoleProgress", "false")
        # Hadoop sets the mode of what it writes itself (0644 by default): the lake's files are
        # its owner's only, like everything else in a lake home.
        .config("spark.hadoop.fs.permissions.umask-mode", "077")
        .config(
            "spark.driver.extraJavaOptions",
            f"-Dderby.system.home={catalog} -Dlog4j2.configurationFile={log_config.as_uri()}"
            + _class_archive_options(archive_classes_to),
        )
        .enableHiveSupport()
    )
    if LOCAL_FS_JAR.is_file():
        # (local mode: the executors run in the driver's JVM, on its class path)
        builder = builder.config("spark.driver.extraClassPath", str(LOCAL_FS_JAR)).config(
            "spark.hadoop.fs.file.impl", LOCAL_FS_CLASS
        )
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
