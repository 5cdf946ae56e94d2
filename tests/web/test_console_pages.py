"""The console's pages over real HTTP (no browser): what each shows, and the Redrive, Re-run and
Stop requests with the CLI's semantics. Executions here fail at Validate: no Spark work."""

from __future__ import annotations

import itertools
import re

import markupsafe

from lake.ui.graph import COLOURS
from lake.ui.timeline import FAILED, SUCCEEDED
from lake.ui.web.execution_view import short_reason

from .web_support import Browserless, finished, latin1_export, wait_for


def a_failed_upload(lake, tmp_path, name: str = "q2.csv") -> str:
    execution = lake.upload(latin1_export(tmp_path / name), f"travel_times/bogota/{name}")
    finished(lake, execution)
    return execution


def test_the_executions_page_lists_and_filters(quiet_web, quiet_lake, tmp_path):
    console = Browserless(quiet_web.url)
    assert "No executions" in console.text("/executions")
    name = a_failed_upload(quiet_lake, tmp_path)
    listed = console.text("/executions")
    assert name in listed and "travel_times/bogota/q2.csv" in listed
    assert name in console.text("/executions?status=FAILED")
    assert name not in console.text("/executions?status=SUCCEEDED")
    assert 'http-equiv="refresh"' not in listed  # nothing runs: no reloading


def test_a_failed_execution_page_tells_where_why_and_what_to_do(quiet_web, quiet_lake, tmp_path):
    name = a_failed_upload(quiet_lake, tmp_path)
    html = Browserless(quiet_web.url).text(f"/executions/{name}")
    # The story (functions/story.py): where, why, what to do, as the CLI and the e-mail say
    story = html[html.index('id="story"') :]
    assert "at Validate: NotUtf8" in story
    assert "is not UTF-8" in story
    assert (
        "upload it again" in story and "lake upload FILE --key travel_times/bogota/q2.csv" in story
    )
    # The graph, inline, coloured: Validate failed, Transform never reached
    svg = html[html.index("<svg") : html.index("</svg>")]
    failed_stroke = COLOURS[FAILED][0]
    assert re.search(rf"Validate: {FAILED}</title><rect [^>]*stroke=\"{failed_stroke}\"", svg)
    assert "Transform: not reached" in svg
    # Each state's timing and attempts, the input, and the full history
    assert re.search(r"<strong>Validate</strong>.*?\d+\.\d s", html, re.S)
    assert "&#34;key&#34;: &#34;travel_times/bogota/q2.csv&#34;" in html
    events = quiet_lake.history(name)
    assert html.count('<td class="num">') >= len(events)
    for event in events:
        assert event["type"] in html
    # Redrive is offered (AWS redrives any failed execution), and Re-run; Stop is not
    assert 'id="redrive"' in html and 'id="rerun"' in html and 'id="stop"' not in html


def test_rerun_starts_a_new_execution_with_the_same_input(quiet_web, quiet_lake, tmp_path):
    name = a_failed_upload(quiet_lake, tmp_path)
    console = Browserless(quiet_web.url)
    confirm = console.text(f"/executions/{name}/rerun")
    assert "same input" in confirm and "lake rerun" in confirm
    done = console.submit(f"/executions/{name}/rerun", f"/executions/{name}/rerun")
    assert done.status == 303
    new = done.headers["Location"].rsplit("/", 1)[-1]
    assert new != name
    record = finished(quiet_lake, new)
    assert record.rerun_of == quiet_lake.execution(name).arn
    assert record.input == quiet_lake.execution(name).input
    assert f"Re-run of {name} started" in console.text(f"/executions/{new}")


def test_redrive_continues_the_same_execution(quiet_web, quiet_lake, tmp_path):
    name = a_failed_upload(quiet_lake, tmp_path)
    console = Browserless(quiet_web.url)
    done = console.submit(f"/executions/{name}/redrive", f"/executions/{name}/redrive")
    assert done.status == 303 and done.headers["Location"].endswith(f"/executions/{name}")
    record = finished(quiet_lake, name)
    # Validate was the state that did not finish: it runs again (and fails the same way)
    assert (record.status, record.redrive_count) == ("FAILED", 1)
    assert [e["type"] for e in quiet_lake.history(name)].count("ExecutionRedriven") == 1


def test_stop_is_refused_for_an_execution_that_has_ended(quiet_web, quiet_lake, tmp_path):
    name = a_failed_upload(quiet_lake, tmp_path)
    console = Browserless(quiet_web.url)
    page = console.text(f"/executions/{name}/stop")
    assert "It is not running (it ended FAILED)" in page and 'id="confirm"' not in page
    refused = console.submit(f"/executions/{name}/rerun", f"/executions/{name}/stop")
    assert refused.status == 409
    assert quiet_lake.execution(name).status == "FAILED"


def test_the_alerts_page_shows_the_mails_sent(quiet_web, quiet_lake, tmp_path):
    name = a_failed_upload(quiet_lake, tmp_path)
    # The alert is sent after the execution ends (its status change reaches the alert rule).
    [alert] = wait_for(quiet_lake.alerts, 30, "the alert of the failed execution")
    html = Browserless(quiet_web.url).text("/alerts")
    assert str(markupsafe.escape(alert["subject"])) in html
    assert f'href="/executions/{name}"' in html
    assert "Failed state: Validate" in html


def test_upload_mistakes_are_told_before_anything_is_copied(quiet_web, quiet_lake, tmp_path):
    console = Browserless(quiet_web.url)
    data = latin1_export(tmp_path / "x.csv").read_bytes()
    cases = [
        ({"city": "bogota"}, "Choose the export"),
        ({"file": ("x.csv", data, "text/csv")}, "Say which city x.csv is about"),
        ({"city": "São Paulo", "file": ("x.csv", data, "text/csv")}, "sao-paulo"),
        ({"city": "bogota", "file": ("x.txt", data, "text/plain")}, "is not a travel-times export"),
    ]
    for fields, says in cases:
        response = console.submit("/upload", "/upload", fields)
        assert response.status == 400, fields
        assert says in response.data.decode(), (fields, says)
    assert quiet_lake.executions() == []
    assert not list(quiet_lake.home.bucket_path(quiet_lake.home.settings.raw_bucket).rglob("*.*"))


def test_the_colours_are_the_graphs(quiet_web):
    css = Browserless(quiet_web.url).text("/colours.css")
    for outcome in (SUCCEEDED, FAILED):
        stroke, fill = COLOURS[outcome]
        assert stroke in css and fill in css


def test_a_spark_stack_trace_is_folded_out_of_the_reason():
    reason = (
        "Glue job run jr_1 ended FAILED: Py4JJavaError: An error occurred calling o1.parquet.\n"
        ": org.apache.hadoop.fs.ParentNotDirectoryException: Parent path is not a directory\n"
        "\tat org.apache.hadoop.fs.RawLocalFileSystem.mkdirs(RawLocalFileSystem.java:672)\n"
        "\tat org.apache.spark.sql.Dataset.write(Dataset.scala:1)\n"
    )
    short = short_reason(reason)
    assert short.endswith("Parent path is not a directory")
    assert "RawLocalFileSystem" not in short
    assert short_reason("x" * 5000).endswith(" …")


def test_the_lake_chart_has_a_bar_per_day_and_labels_that_do_not_overlap():
    import datetime as dt

    from lake.ui.web.charts import LABEL_GAP, rows_per_day_chart

    days = [(dt.date(2019, 1, 1) + dt.timedelta(days=i), 10 + i % 7) for i in range(0, 365, 2)]
    svg = str(rows_per_day_chart(days, "rows in <script>"))
    assert svg.count('class="bar') == len(days)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    xs = [
        float(x)
        for x in re.findall(r'<text x="([\d.]+)" y="\d+" class="tick" text-anchor="middle"', svg)
    ]
    assert len(xs) >= 4
    assert all(b - a >= LABEL_GAP for a, b in itertools.pairwise(xs))
    assert "<title>2019-01-01: 10 rows</title>" in svg
