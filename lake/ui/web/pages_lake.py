"""The lake's contents and the query page.

- The lake: rows and partitions per city and day, as the catalog answers them (the same
  `travel_times` table Athena queries), a chart per city and every partition in a table.
- Query: SQL in, a table out (the first rows; the CSV download has them all), and the time it
  took: what `lake query` answers. A query may change the catalog (DDL), so it is a POST with
  the form's CSRF token."""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from typing import Any

from flask import Blueprint, Response, render_template, request

from contract.table import quote_identifier
from lake.runtime import EngineError, Lake, QueryOutcome
from lake.ui.views import plain, query_csv
from lake.ui.web.charts import rows_per_day_chart
from lake.ui.web.rendering import current_lake

blueprint = Blueprint("lake", __name__)
SHOWN_ROWS = 1000
MAX_SQL = 100_000
EXAMPLE_SQL = (
    "SELECT city, year, month, count(*) AS row_count,\n"
    "       round(avg(mean_travel_time_s) / 60, 1) AS mean_minutes\n"
    "FROM travel_times\nGROUP BY city, year, month\nORDER BY city, year, month"
)


class QueryRefused(Exception):
    """The query could not run; the message says why (a bad query, or no engine)."""


def run_query(lake: Lake, sql: str) -> tuple[QueryOutcome, float]:
    """Run SQL through the lake's engine; its outcome and the seconds it took. Raises
    QueryRefused with the engine's one-line reason (as `lake query` prints it)."""
    if not sql.strip():
        raise QueryRefused("Write a SQL statement first.")
    if len(sql) > MAX_SQL:
        raise QueryRefused(f"That statement is longer than {MAX_SQL:,} characters.")
    began = time.perf_counter()
    try:
        outcome = lake.query(sql)
    except EngineError as e:
        raise QueryRefused(str(e)) from e
    except Exception as e:
        # Spark's AnalysisException / ParseException: the user's to fix; one line, no trace.
        if type(e).__name__ in ("AnalysisException", "ParseException"):
            raise QueryRefused(str(e).strip().splitlines()[0]) from e
        raise
    return outcome, time.perf_counter() - began


@blueprint.get("/lake")
def lake_contents() -> str:
    lake = current_lake()
    s = lake.home.settings
    sql = (
        "SELECT city, year, month, day, count(*) AS row_count "
        f"FROM {quote_identifier(s.database)}.{quote_identifier(s.table)} "
        "GROUP BY city, year, month, day"
    )
    try:
        outcome, seconds = run_query(lake, sql)
    except QueryRefused as e:
        return render_template("lake.html", problem=str(e), cities=[], table=s.table, sql=sql)
    by_city: dict[str, list[tuple[dt.date, int]]] = defaultdict(list)
    for city, year, month, day, rows in outcome.rows:
        by_city[city].append((dt.date(int(year), int(month), int(day)), int(rows)))
    cities = [
        {
            "name": city,
            "rows": sum(n for _, n in days),
            "partitions": len(days),
            "first": min(days)[0],
            "last": max(days)[0],
            "chart": rows_per_day_chart(days, f"rows per day in {city}"),
            "days": sorted(days),
        }
        for city, days in sorted(by_city.items())
    ]
    return render_template(
        "lake.html",
        cities=cities,
        table=f"{s.database}.{s.table}",
        seconds=seconds,
        sql=sql,
        problem=None,
    )


@blueprint.get("/query")
def query_form() -> str:
    return render_template("query.html", sql=request.args.get("sql") or EXAMPLE_SQL)


@blueprint.post("/query")
def query() -> Response:
    sql = request.form.get("sql", "")
    try:
        outcome, seconds = run_query(current_lake(), sql)
    except QueryRefused as e:
        page = render_template("query.html", sql=sql, problem=str(e))
        return Response(page, status=400)
    rows: list[list[Any]] = [
        ["" if v is None else plain(v) for v in row] for row in outcome.rows[:SHOWN_ROWS]
    ]
    page = render_template(
        "query.html",
        sql=sql,
        columns=outcome.columns,
        rows=rows,
        total=len(outcome.rows),
        shown=len(rows),
        seconds=seconds,
    )
    return Response(page)


@blueprint.post("/query.csv")
def query_as_csv() -> Response:
    sql = request.form.get("sql", "")
    try:
        outcome, _ = run_query(current_lake(), sql)
    except QueryRefused as e:
        return Response(render_template("query.html", sql=sql, problem=str(e)), status=400)
    return Response(
        query_csv(outcome),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="query.csv"'},
    )
