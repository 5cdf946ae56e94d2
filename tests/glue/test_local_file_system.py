"""The local runtime's Hadoop file system (lake/aws/java): files and folders get the modes
Hadoop's own gives them, set without a `chmod` process."""

from __future__ import annotations

import os
import stat

import pytest

from lake.aws.spark import LOCAL_FS_CLASS, LOCAL_FS_JAR

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not LOCAL_FS_JAR.is_file(), reason="build/local-fs.jar: run `make` first"),
]


def _local_fs(spark):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path("file:///")
    return jvm, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


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
