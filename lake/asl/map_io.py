"""A Distributed Map's reads and writes: ItemReader, ItemBatcher and ResultWriter.

The S3 calls go through integrations looked up by their Resource ARN, like Task states; the
interpreter records no task events for them (AWS records none either).

Integration contracts (what the runtime must serve):

- ``arn:aws:states:::s3:listObjectsV2``: parameters are ItemReader.Parameters (``Bucket``,
  ``Prefix``, ...) plus ``ContinuationToken`` after the first page; it returns S3's
  ListObjectsV2 response: ``Contents`` (each item as the Map receives it: ``Key``, ``Etag``,
  ``LastModified``, ``Size``, ``StorageClass``), ``IsTruncated``, ``NextContinuationToken``.
- ``arn:aws:states:::s3:getObject``: parameters ``Bucket`` and ``Key``; it returns the object's
  text, or ``{"Body": text}``.
- ``arn:aws:states:::s3:putObject``: parameters ``Bucket``, ``Key`` and ``Body`` (text).

Step Functions guide: "ItemReader (Map)" (JSON, JSONL and CSV files, CSVHeaderLocation
FIRST_ROW or GIVEN, every CSV value a string, MaxItems), "ItemBatcher (Map)" (a child's input is
``{"Items": [...]}`` plus ``"BatchInput"`` when given, batches bounded by MaxItemsPerBatch and
MaxInputBytesPerBatch) and "ResultWriter (Map)" (``<Prefix>/<map run id>/manifest.json`` and
``SUCCEEDED_n.json`` / ``FAILED_n.json`` / ``PENDING_n.json`` result files).
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from lake.asl.errors import (
    STATES_ITEM_READER_FAILED,
    STATES_RESULT_WRITER_FAILED,
    StatesError,
    TaskFailure,
)
from lake.asl.history import to_json
from lake.asl.limits import payload_bytes
from lake.asl.map_definition import CSV_DELIMITERS
from lake.asl.model import TaskRequest
from lake.asl.payload import render

if TYPE_CHECKING:
    from lake.asl.run import Run

_MAX_PAGES = 100_000


def _call(run: Run, resource: str, parameters: dict, name: str, error: str) -> Any:
    request = TaskRequest(
        resource=resource,
        parameters=parameters,
        state_name=name,
        context=json.loads(to_json(run.context)),
        timeout_seconds=None,
    )
    try:
        return run.resolve(resource)(request)
    except TaskFailure as failure:
        raise StatesError(error, f"{failure.error}: {failure.cause}".rstrip(": ")) from failure
    except StatesError:
        raise
    except Exception as crash:
        raise StatesError(error, f"{type(crash).__name__}: {crash}") from crash


def read_items(run: Run, name: str, reader: dict, effective: Any, max_items: int | None) -> list:
    """The items an ItemReader reads; States.ItemReaderFailed when it cannot."""
    parameters = render(reader.get("Parameters", {}), effective, run.context, run.rng)
    config = reader.get("ReaderConfig", {})
    resource = reader["Resource"]
    if resource.endswith("listObjectsV2"):
        items: list = []
        token = None
        for _ in range(_MAX_PAGES):
            page_parameters = dict(parameters)
            if token:
                page_parameters["ContinuationToken"] = token
            page = _call(run, resource, page_parameters, name, STATES_ITEM_READER_FAILED)
            items += (page or {}).get("Contents", [])
            token = (page or {}).get("NextContinuationToken")
            if not (page or {}).get("IsTruncated") or not token:
                break
            if max_items and len(items) >= max_items:
                break
        return items[:max_items] if max_items else items
    body = _call(run, resource, parameters, name, STATES_ITEM_READER_FAILED)
    text = body.get("Body") if isinstance(body, dict) else body
    if not isinstance(text, str):
        raise StatesError(STATES_ITEM_READER_FAILED, "The object's body is not text")
    try:
        items = _parse(text, config, max_items)
    except (ValueError, csv.Error) as error:
        raise StatesError(
            STATES_ITEM_READER_FAILED,
            f"Could not read the {config['InputType']} items of s3://"
            f"{parameters.get('Bucket')}/{parameters.get('Key')}: {error}",
        ) from error
    return items[:max_items] if max_items else items


def _parse(text: str, config: dict, max_items: int | None) -> list:
    kind = config["InputType"]
    if kind == "JSON":
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("a JSON item file must hold an array")
        return items
    if kind == "JSONL":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    delimiter = CSV_DELIMITERS[config.get("CSVDelimiter", "COMMA")]
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    headers = config.get("CSVHeaders")
    if config.get("CSVHeaderLocation", "FIRST_ROW") == "FIRST_ROW":
        headers = next(rows, None)
        if headers is None:
            return []
    items = []
    for row in rows:
        if not row:
            continue
        if len(row) != len(headers):
            raise ValueError(
                f"row {len(items) + 1} has {len(row)} fields, the header {len(headers)}"
            )
        items.append(dict(zip(headers, row, strict=True)))
        if max_items and len(items) >= max_items:
            break
    return items


def batches(run: Run, batcher: dict, effective: Any, items: list, sizes: tuple) -> list[dict]:
    """The children's inputs when an ItemBatcher groups items: ``{"Items": [...]}`` (plus
    ``"BatchInput"``), each within MaxItemsPerBatch and MaxInputBytesPerBatch."""
    max_items, max_bytes = sizes
    extra = {}
    if "BatchInput" in batcher:
        extra = {"BatchInput": render(batcher["BatchInput"], effective, run.context, run.rng)}
    out: list[dict] = []
    current: list = []
    for item in items:
        candidate = [*current, item]
        too_many = max_items and len(candidate) > max_items
        too_big = max_bytes and payload_bytes({**extra, "Items": candidate}) > max_bytes
        if current and (too_many or too_big):
            out.append({**extra, "Items": current})
            candidate = [item]
        current = candidate
    if current:
        out.append({**extra, "Items": current})
    return out


def write_results(
    run: Run,
    name: str,
    writer: dict,
    effective: Any,
    map_run_id: str,
    map_run_arn: str,
    records: dict[str, list[dict]],
) -> dict:
    """Write the result files and manifest.json; return ResultWriterDetails (Bucket, Key).

    ``records`` maps SUCCEEDED / FAILED / PENDING to the children's result records.
    States.ResultWriterFailed when a write fails.
    """
    parameters = render(writer.get("Parameters", {}), effective, run.context, run.rng)
    bucket = parameters.get("Bucket")
    prefix = str(parameters.get("Prefix", "")).rstrip("/")
    base = f"{prefix}/{map_run_id}" if prefix else map_run_id
    jsonl = writer.get("WriterConfig", {}).get("OutputType") == "JSONL"
    files: dict[str, list[dict]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, entries in records.items():
        if not entries:
            continue
        key = f"{base}/{status}_0.{'jsonl' if jsonl else 'json'}"
        body = "\n".join(to_json(e) for e in entries) if jsonl else to_json(entries)
        _put(run, writer["Resource"], bucket, key, body, name)
        files[status].append({"Key": key, "Size": len(body.encode("utf-8"))})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    key = f"{base}/manifest.json"
    _put(run, writer["Resource"], bucket, key, to_json(manifest), name)
    return {"Bucket": bucket, "Key": key}


def _put(run: Run, resource: str, bucket: Any, key: str, body: str, name: str) -> None:
    parameters = {"Bucket": bucket, "Key": key, "Body": body}
    _call(run, resource, parameters, name, STATES_RESULT_WRITER_FAILED)
