"""What a real run writes into the lake home (the data Spark writes, the database, the logs,
the alert outbox) is its owner's only: 0600 files in 0700 folders, from the moment it exists
(the umask, not a chmod afterwards)."""

from __future__ import annotations

import os
import stat

import pytest
from e2e_support import export, lake

pytestmark = pytest.mark.e2e


def test_a_run_leaves_nothing_readable_by_others(lake_home, tmp_path, capsys):
    previous = os.umask(0o022)  # a shell's usual umask: `lake` itself makes it 077
    try:
        good = export(tmp_path / "2019.csv", rows=300)
        status, _, err = lake(capsys, "upload", str(good), "--city", "bogota")
        assert status == 0, err
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n")
        assert lake(capsys, "upload", str(bad), "--city", "lima")[0] == 1  # logs and an alert
    finally:
        os.umask(previous)
    written = [
        *(lake_home.buckets.rglob("*")),
        *(lake_home.logs.rglob("*")),
        *(lake_home.outbox.rglob("*")),
        *lake_home.root.glob("lake.db*"),
    ]
    parquet = [p for p in written if p.suffix == ".parquet"]
    assert parquet and list(lake_home.outbox.glob("*.eml")) and list(lake_home.logs.iterdir())
    loose = {str(p): oct(stat.S_IMODE(p.stat().st_mode)) for p in written}
    loose = {p: mode for p, mode in loose.items() if int(mode, 8) & 0o077}
    assert not loose
