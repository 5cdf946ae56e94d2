"""The upload page: pick an export and its city; the file lands in the raw bucket at
`travel_times/<city>/<file name>` (what `lake upload FILE --city CITY` does), its event starts
the workflow, and the page follows the execution it started."""

from __future__ import annotations

import tempfile
from pathlib import Path

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from contract.errors import InvalidSourceKey
from contract.layout import EXPECTED_LAYOUT, RAW_PREFIX, city_slug_suggestion, parse_source_key
from lake.runtime import EngineError, Lake
from lake.ui.web.rendering import current_lake

blueprint = Blueprint("upload", __name__)
RECENT = 10


@blueprint.get("/upload")
def upload_form() -> str:
    return _form(current_lake())


@blueprint.post("/upload")
def upload() -> Response | str:
    lake = current_lake()
    city = request.form.get("city", "").strip()
    chosen = request.files.get("file")
    file_name = Path((chosen.filename or "").replace("\\", "/")).name if chosen else ""
    if not file_name:
        return _form(lake, "Choose the export to upload.", city, status=400)
    if not city:
        return _form(lake, f"Say which city {file_name} is about.", city, status=400)
    key = f"{RAW_PREFIX}{city}/{file_name}"
    try:
        parse_source_key(key)  # the layout the validator checks, told before copying anything
        lake.check_upload(key)
    except InvalidSourceKey as e:
        hint = (
            f" Try the city {city_slug_suggestion(city)!r}."
            if f"{city!r} is not a valid city" in str(e)
            else ""
        )
        return _form(lake, f"{e}{hint}", city, status=400)
    except ValueError as e:
        return _form(lake, str(e), city, status=400)
    assert chosen is not None
    with tempfile.TemporaryDirectory(prefix="lake-upload-") as folder:
        source = Path(folder) / file_name
        chosen.save(source)
        try:
            name = lake.upload(source, key)
        except EngineError as e:
            return _form(lake, f"The upload did not start the workflow: {e}", city, status=409)
    flash(f"Uploaded {file_name} to s3://{lake.home.settings.raw_bucket}/{key}: execution {name}.")
    return redirect(url_for("executions.show_execution", name=name), code=303)


def _form(lake: Lake, problem: str | None = None, city: str = "", status: int = 200) -> Response:
    records, _ = lake.execution_page(limit=200)
    uploads = [r for r in records if r.source_key][:RECENT]
    cities = sorted({parse_city(r.source_key) for r in records if r.source_key} - {""})
    page = render_template(
        "upload.html",
        problem=problem,
        city=city,
        cities=cities,
        uploads=uploads,
        layout=EXPECTED_LAYOUT,
        bucket=lake.home.settings.raw_bucket,
    )
    return Response(page, status=status)


def parse_city(key: str | None) -> str:
    """The city folder of a raw key ("" when it has none)."""
    parts = (key or "").removeprefix(RAW_PREFIX).split("/")
    return parts[0] if len(parts) == 2 else ""
