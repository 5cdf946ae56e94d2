"""What `make` builds for the local runtime's JVM (lake/aws/spark.py): the Hadoop file system that
sets modes without a `chmod` process, and the class archive every session maps."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lake.aws.spark import CLASS_ARCHIVE, LOCAL_FS_CLASS, LOCAL_FS_JAR

pytestmark = pytest.mark.spark
needs_make = "run `make` (it builds .venv/share/movement-lake)"


def _local_fs(spark):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path("file:///")
    return jvm, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


@pytest.mark.skipif(not LOCAL_FS_JAR.is_file(), reason=needs_make)
def test_the_session_writes_local_files_through_the_nio_file_system(spark):
    _, fs = _local_fs(spark)
    assert fs.getClass().getName() == LOCAL_FS_CLASS


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o700, 0o444, 0o000, 0o777])
def test_set_permission_sets_exactly_the_mode(spark, tmp_path, mode):
    jvm, fs = _local_fs(spark)
    target = tmp_path / "file"
    target.write_text("x")
    permission = jvm.org.apache.hadoop.fs.permission.FsPermission.createImmutable(mode)
    fs.setPermission(jvm.org.apache.hadoop.fs.Path(target.as_uri()), permission)
    assert stat.S_IMODE(os.stat(target).st_mode) == mode


def test_spark_writes_files_and_folders_private_to_the_owner(spark, tmp_path):
    # The session's umask (077) applies as with Hadoop's own: files 0600, folders 0700.
    out = tmp_path / "out"
    spark.range(6).selectExpr("id", "id % 2 AS part").write.partitionBy("part").parquet(str(out))
    written = [p for p in out.rglob("*") if p.name.endswith(".parquet") or p.is_dir()]
    assert any(p.is_dir() for p in written) and any(p.is_file() for p in written)
    for path in written:
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path


def _mapped_bytes(pid: int, file: Path) -> int:
    """Bytes of `file` the process has mapped (/proc/PID/maps: `start-end perms offset dev inode
    path`)."""
    total = 0
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[5] == str(file):
            start, end = (int(x, 16) for x in fields[0].split("-"))
            total += end - start
    return total


@pytest.mark.skipif(not CLASS_ARCHIVE.is_file(), reason=needs_make)
def test_the_session_maps_the_class_archive(spark):
    # The JVM maps the archive's class regions only when the archive matches its class path and
    # jars; otherwise it silently loads every class from the jars (a stale archive: run `make`).
    jvm = spark.sparkContext._jvm
    pid = jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getPid()
    assert _mapped_bytes(pid, CLASS_ARCHIVE) > CLASS_ARCHIVE.stat().st_size // 2, (
        f"the JVM does not use {CLASS_ARCHIVE}: rebuild it with `make`"
    )
