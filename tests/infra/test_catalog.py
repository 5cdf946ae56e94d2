"""The Glue table follows the data contract's columns; the Athena workgroup enforces engine v3,
encrypted results in the results bucket and a per-query scan limit."""

from __future__ import annotations

import pytest
from infra_support import synthesized

from contract.columns import DATA_COLUMNS, PARTITION_COLUMNS
from settings import load_settings

pytestmark = pytest.mark.infra


def table_input() -> dict:
    return synthesized().only("AWS::Glue::Table")["TableInput"]


def test_the_database_is_the_configured_one():
    database = synthesized().only("AWS::Glue::Database")
    assert database["DatabaseInput"]["Name"] == load_settings().database
    assert synthesized().only("AWS::Glue::Table")["DatabaseName"] == load_settings().database


def test_the_table_has_the_contracts_columns_and_partition_keys_in_order():
    table = table_input()
    assert table["Name"] == "travel_times"
    columns = table["StorageDescriptor"]["Columns"]
    assert [(c["Name"], c["Type"]) for c in columns] == [
        (c.name, c.athena_type) for c in DATA_COLUMNS
    ]
    assert [(c["Name"], c["Type"]) for c in table["PartitionKeys"]] == [
        (c.name, c.athena_type) for c in PARTITION_COLUMNS
    ]


def test_the_table_is_snappy_parquet_under_travel_times_in_the_curated_bucket():
    synth = synthesized()
    table = table_input()
    storage = table["StorageDescriptor"]
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    assert storage["InputFormat"].endswith("MapredParquetInputFormat")
    assert storage["OutputFormat"].endswith("MapredParquetOutputFormat")
    assert table["TableType"] == "EXTERNAL_TABLE"
    assert table["Parameters"]["parquet.compression"] == "SNAPPY"
    assert storage["Location"] == {
        "Fn::Join": ["", ["s3://", synth.ref(synth.stack.buckets.curated), "/travel_times/"]]
    }


def test_the_workgroup_enforces_engine_v3_encrypted_results_and_a_scan_limit():
    synth = synthesized()
    workgroup = synth.only("AWS::Athena::WorkGroup")
    assert workgroup["Name"] == load_settings().athena_workgroup
    config = workgroup["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["EngineVersion"] == {"SelectedEngineVersion": "Athena engine version 3"}
    assert config["BytesScannedCutoffPerQuery"] == (
        load_settings().athena_bytes_scanned_cutoff_per_query
    )
    results = config["ResultConfiguration"]
    assert results["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert results["OutputLocation"] == {
        "Fn::Join": ["", ["s3://", synth.ref(synth.stack.buckets.athena_results), "/athena/"]]
    }
