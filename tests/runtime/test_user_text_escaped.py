"""Keys and other user text are printed as themselves, never read as rich markup: a key holding
`[/]` made `lake watch` exit with a MarkupError, and `[link=...]` injected a terminal
hyperlink."""

from __future__ import annotations

import datetime as dt
import types

from rich.console import Console

from lake.home import LakeHome
from lake.runtime import QueryOutcome
from lake.runtime.eventbridge import Landing
from lake.runtime.history_db import ExecutionRecord
from lake.runtime.watcher import RawFolderWatcher
from lake.ui import cli
from lake.ui.views import alerts_table, describe_panel, executions_table, query_table

CLOSER = "travel_times/bogota/a[/]b.csv"
LINK = "travel_times/bogota/[link=https:evil.example]click me[/link].csv"


def _console() -> Console:
    return Console(record=True, force_terminal=True, width=300, color_system="truecolor")


def _no_links(console: Console) -> bool:
    return all(
        segment.style is None or segment.style.link is None
        for segment in console._record_buffer  # what was printed, styles included
    )


def _printed(console: Console) -> str:
    return console.export_text(clear=False)


def _record(key: str, status: str = "FAILED", error: str | None = None) -> ExecutionRecord:
    return ExecutionRecord(
        arn=f"arn:aws:states:us-east-1:0:execution:sm:{status.lower()}",
        name=f"x-{status.lower()}",
        state_machine_arn="arn:aws:states:us-east-1:0:stateMachine:sm",
        status=status,
        input="{}",
        start_date=dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp(),
        stop_date=dt.datetime(2024, 1, 1, 0, 1, tzinfo=dt.UTC).timestamp(),
        source_key=key,
        error=error,
    )


def test_the_watcher_prints_keys_with_markup_as_they_are(tmp_path):
    # GIVEN files whose keys hold markup, in the raw bucket
    home = LakeHome(tmp_path / "home").ensure()
    raw = home.bucket_path(home.settings.raw_bucket)
    for key in (CLOSER, LINK):
        (raw / key).parent.mkdir(parents=True, exist_ok=True)
        (raw / key).write_text("x\n")
    records = {}

    class Engine:
        def __init__(self):
            self.home = home
            self.store = types.SimpleNamespace(find_execution=records.get)

        def object_landed(self, bucket, key):
            name = f"x-{len(records)}"
            records[name] = _record(key, error="MissingColumns: [/] [link=x]y[/link]")
            if key == CLOSER:
                raise ValueError(f"cannot read {key} [bold]")
            return Landing(name, True)

    console = _console()
    watcher = RawFolderWatcher(Engine(), console)
    # WHEN the watch hands them to the engine and reports how they ended (no MarkupError)
    watcher.scan()
    watcher._report_finished()
    # THEN each key is printed as it is, and nothing became a hyperlink
    printed = _printed(console)
    assert f"could not start {CLOSER}: cannot read {CLOSER} [bold]" in printed
    assert f"▶ {LINK} → execution x-" in printed
    assert "MissingColumns: [/] [link=x]y[/link]" in printed
    assert _no_links(console)


def test_tables_print_user_text_as_it_is():
    console = _console()
    failed = _record(LINK, error="[/]")
    console.print(executions_table([failed, _record(CLOSER, "SUCCEEDED")]))
    console.print(describe_panel(failed))
    console.print(
        alerts_table([{"date": "2024-01-01", "subject": f"FAILED: {CLOSER}", "delivery": "[/]"}])
    )
    console.print(query_table(QueryOutcome(["[b]zone[/b]"], [(LINK,), ("[/]",), (None,)])))
    printed = _printed(console)
    assert LINK in printed and CLOSER in printed
    assert "[b]zone[/b]" in printed
    assert _no_links(console)


def test_a_refused_key_holding_markup_is_named_as_it_is(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAKE_HOME", str(tmp_path / "home"))
    source = tmp_path / "x.txt"
    source.write_text("x\n")
    key = "travel_times/[/]bogota/[link=https://evil.example/]x[/link].txt"
    assert cli.main(["upload", str(source), "--key", key]) == 2
    err = capsys.readouterr().err
    assert key in err and "would not start the workflow" in err
