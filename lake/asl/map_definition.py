"""Load-time checks of a Map state: inline or distributed, and what each mode accepts.

Step Functions guide, "Map state" (state-map), "Using Map state in Inline mode" and "Using Map
state in Distributed mode": ItemProcessor (or the legacy Iterator) holds the states each item
runs; ProcessorConfig.Mode is INLINE (the default) or DISTRIBUTED; ItemReader, ItemBatcher,
ResultWriter, ToleratedFailurePercentage/Count and Label exist only in Distributed mode;
ItemSelector replaces the legacy Parameters. ItemReader reads items through
``arn:aws:states:::s3:listObjectsV2`` or ``arn:aws:states:::s3:getObject`` ("ItemReader (Map)"),
ResultWriter writes through ``arn:aws:states:::s3:putObject`` ("ResultWriter (Map)").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lake.asl.paths import parse_reference_path
from lake.asl.payload import check_template
from lake.asl.service_catalog import ITEM_READER_RESOURCES, RESULT_WRITER_RESOURCES

MAP_FIELDS = frozenset(
    {
        "ItemProcessor",
        "Iterator",
        "ItemsPath",
        "ItemSelector",
        "Parameters",
        "ItemReader",
        "ItemBatcher",
        "ResultWriter",
        "MaxConcurrency",
        "MaxConcurrencyPath",
        "ToleratedFailurePercentage",
        "ToleratedFailurePercentagePath",
        "ToleratedFailureCount",
        "ToleratedFailureCountPath",
        "Label",
        "ResultSelector",
        "ResultPath",
        "Retry",
        "Catch",
    }
)
_DISTRIBUTED_ONLY = (
    "ItemReader",
    "ItemBatcher",
    "ResultWriter",
    "ToleratedFailurePercentage",
    "ToleratedFailurePercentagePath",
    "ToleratedFailureCount",
    "ToleratedFailureCountPath",
    "Label",
)
_INPUT_TYPES = frozenset({"JSON", "JSONL", "CSV"})  # MANIFEST and PARQUET are not implemented
CSV_DELIMITERS = {"COMMA": ",", "PIPE": "|", "SEMICOLON": ";", "SPACE": " ", "TAB": "\t"}


def mode_of(state: dict) -> str:
    """INLINE or DISTRIBUTED."""
    processor = state.get("ItemProcessor") or {}
    return (processor.get("ProcessorConfig") or {}).get("Mode", "INLINE")


def processor_of(state: dict) -> dict:
    """The machine each item runs: ItemProcessor, or the legacy Iterator."""
    return state.get("ItemProcessor") or state["Iterator"]


def check_map(
    state: dict,
    check_recovery: Callable[[dict, dict], None],
    check_machine: Callable[[Any, str], None],
    states: dict | None = None,
) -> None:
    """Validate a Map state; raise ValueError naming the field."""
    if ("ItemProcessor" in state) == ("Iterator" in state):
        raise ValueError("needs exactly one of 'ItemProcessor' and 'Iterator'")
    if "ItemSelector" in state and "Parameters" in state:
        raise ValueError("fields 'ItemSelector' and 'Parameters' exclude each other")
    key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
    processor = state[key]
    if not isinstance(processor, dict):
        raise ValueError(f"field '{key}' must be an object")
    unknown = set(processor) - {"StartAt", "States", "Comment", "ProcessorConfig"}
    if unknown:
        raise ValueError(f"{key}: field '{sorted(unknown)[0]}' is not supported")
    config = processor.get("ProcessorConfig", {})
    if not isinstance(config, dict) or set(config) - {"Mode", "ExecutionType"}:
        raise ValueError(f"{key}.ProcessorConfig may hold only Mode and ExecutionType")
    mode = config.get("Mode", "INLINE")
    if mode not in ("INLINE", "DISTRIBUTED"):
        raise ValueError(f"{key}.ProcessorConfig.Mode must be INLINE or DISTRIBUTED")
    if mode == "DISTRIBUTED" and config.get("ExecutionType") not in ("STANDARD", "EXPRESS"):
        raise ValueError(f"{key}.ProcessorConfig.ExecutionType must be STANDARD or EXPRESS")
    if mode == "INLINE":
        for field in _DISTRIBUTED_ONLY:
            if field in state:
                raise ValueError(f"field '{field}' exists only in a DISTRIBUTED Map")
    for field in ("ItemSelector", "Parameters", "ResultSelector"):
        if field in state:
            if not isinstance(state[field], dict):
                raise ValueError(f"field '{field}' must be an object")
            check_template(state[field], f"field '{field}'")
    if "ItemsPath" in state:
        if "ItemReader" in state:
            raise ValueError("fields 'ItemsPath' and 'ItemReader' exclude each other")
        _path("ItemsPath", state["ItemsPath"])
    _count(state, "MaxConcurrency", 0, None)
    _count(state, "ToleratedFailureCount", 0, None)
    _count(state, "ToleratedFailurePercentage", 0, 100, number=True)
    if "Label" in state:
        label = state["Label"]
        if (
            not isinstance(label, str)
            or not 0 < len(label) <= 40
            or any(c in label for c in ' <>{}[]?*"#%\\^|~`$&,;:/')
        ):
            raise ValueError(
                "field 'Label' must be 1-40 characters without spaces or <>{}[]?*\"#%\\^|~`$&,;:/"
            )
    if "ItemReader" in state:
        _check_reader(state["ItemReader"])
    if "ItemBatcher" in state:
        _check_batcher(state["ItemBatcher"])
    if "ResultWriter" in state:
        _check_writer(state["ResultWriter"])
    check_recovery(state, states or {})
    check_machine(processor, key)


def _path(field: str, text: Any) -> None:
    # Step Functions guide, "ItemsPath (Map)": the value must be a reference path.
    try:
        parse_reference_path(text, allow_context=True)
    except ValueError as error:
        raise ValueError(f"field '{field}': {error}") from error


def _count(holder: dict, field: str, low: float, high: float | None, number: bool = False) -> None:
    if field in holder and f"{field}Path" in holder:
        raise ValueError(f"fields '{field}' and '{field}Path' exclude each other")
    if f"{field}Path" in holder:
        try:
            parse_reference_path(holder[f"{field}Path"])
        except ValueError as error:
            raise ValueError(f"field '{field}Path': {error}") from error
    if field not in holder:
        return
    value = holder[field]
    kinds = (int, float) if number else (int,)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < low:
        raise ValueError(f"field '{field}' must be a {'number' if number else 'integer'} >= {low}")
    if high is not None and value > high:
        raise ValueError(f"field '{field}' must be at most {high}")


def _check_reader(reader: Any) -> None:
    if not isinstance(reader, dict) or set(reader) - {"Resource", "Parameters", "ReaderConfig"}:
        raise ValueError("ItemReader may hold only Resource, Parameters and ReaderConfig")
    resource = reader.get("Resource")
    if resource not in ITEM_READER_RESOURCES:
        raise ValueError(
            f"ItemReader.Resource {resource!r} is not supported by the local runtime (supported: "
            f"{', '.join(sorted(ITEM_READER_RESOURCES))})"
        )
    check_template(reader.get("Parameters", {}), "ItemReader.Parameters")
    config = reader.get("ReaderConfig", {})
    allowed = {"InputType", "CSVHeaderLocation", "CSVHeaders", "CSVDelimiter", "MaxItems"}
    unknown = set(config) - allowed - {"MaxItemsPath"}
    if unknown:
        raise ValueError(
            f"ItemReader.ReaderConfig: field '{sorted(unknown)[0]}' is not supported by the "
            "local runtime"
        )
    if resource.endswith("getObject"):
        if config.get("InputType") not in _INPUT_TYPES:
            raise ValueError(
                "ItemReader.ReaderConfig.InputType must be JSON, JSONL or CSV for s3:getObject "
                "(MANIFEST and PARQUET are not supported by the local runtime)"
            )
    elif "InputType" in config:
        raise ValueError("ItemReader.ReaderConfig.InputType does not apply to s3:listObjectsV2")
    if config.get("InputType") == "CSV":
        location = config.get("CSVHeaderLocation", "FIRST_ROW")
        if location not in ("FIRST_ROW", "GIVEN"):
            raise ValueError("ItemReader.ReaderConfig.CSVHeaderLocation must be FIRST_ROW or GIVEN")
        if (location == "GIVEN") != ("CSVHeaders" in config):
            raise ValueError("ItemReader.ReaderConfig.CSVHeaders goes with CSVHeaderLocation GIVEN")
        if config.get("CSVDelimiter", "COMMA") not in CSV_DELIMITERS:
            raise ValueError(
                f"ItemReader.ReaderConfig.CSVDelimiter must be one of {', '.join(CSV_DELIMITERS)}"
            )
    _count(config, "MaxItems", 0, 100_000_000)


def _check_batcher(batcher: Any) -> None:
    allowed = {
        "MaxItemsPerBatch",
        "MaxItemsPerBatchPath",
        "MaxInputBytesPerBatch",
        "MaxInputBytesPerBatchPath",
        "BatchInput",
    }
    if not isinstance(batcher, dict) or set(batcher) - allowed:
        raise ValueError(f"ItemBatcher may hold only {', '.join(sorted(allowed))}")
    if not any(key in batcher for key in allowed - {"BatchInput"}):
        raise ValueError("ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch")
    _count(batcher, "MaxItemsPerBatch", 1, None)
    _count(batcher, "MaxInputBytesPerBatch", 1, 262_144)
    if "BatchInput" in batcher:
        check_template(batcher["BatchInput"], "ItemBatcher.BatchInput")


def _check_writer(writer: Any) -> None:
    if not isinstance(writer, dict) or set(writer) - {"Resource", "Parameters", "WriterConfig"}:
        raise ValueError("ResultWriter may hold only Resource, Parameters and WriterConfig")
    if "Resource" not in writer and "WriterConfig" not in writer:
        raise ValueError("ResultWriter needs Resource and Parameters, WriterConfig, or all three")
    if "Resource" in writer:
        if writer["Resource"] not in RESULT_WRITER_RESOURCES:
            raise ValueError(
                f"ResultWriter.Resource {writer['Resource']!r} is not supported (supported: "
                f"{', '.join(sorted(RESULT_WRITER_RESOURCES))})"
            )
        check_template(writer.get("Parameters", {}), "ResultWriter.Parameters")
    config = writer.get("WriterConfig", {})
    if config.get("Transformation", "NONE") not in ("NONE", "COMPACT", "FLATTEN"):
        raise ValueError(
            "ResultWriter.WriterConfig.Transformation must be NONE, COMPACT or FLATTEN"
        )
    if config.get("OutputType", "JSON") not in ("JSON", "JSONL"):
        raise ValueError("ResultWriter.WriterConfig.OutputType must be JSON or JSONL")
