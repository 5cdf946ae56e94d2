"""The Glue database and `travel_times` table of the data contract, and the Athena workgroup that
registers partitions and serves queries (engine v3, enforced settings, encrypted results, a
bytes-scanned limit per query)."""

from __future__ import annotations

from aws_cdk import Aws, Stack
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from contract.columns import DATA_COLUMNS, PARTITION_COLUMNS
from contract.layout import TABLE_PREFIX
from settings import Settings

PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
ATHENA_ENGINE = "Athena engine version 3"
ATHENA_RESULTS_PREFIX = "athena/"


class Catalog(Construct):
    """Database, table and workgroup; exposes the ARNs that the workflow's queries need."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        settings: Settings,
        curated: s3.IBucket,
        athena_results: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        self.database_name = settings.database
        self.table_name = settings.table
        self.table_location = f"s3://{curated.bucket_name}/{TABLE_PREFIX}"

        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=settings.database,
                description="movement-lake: Uber Movement travel times (Parquet lake)",
            ),
        )
        self.table = glue.CfnTable(
            self,
            "TravelTimes",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=settings.database,
            table_input=glue.CfnTable.TableInputProperty(
                name=settings.table,
                description="Uber Movement travel times, one row per zone pair and date range",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "parquet",
                    "parquet.compression": "SNAPPY",
                    "EXTERNAL": "TRUE",
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(
                        name=col.name, type=col.athena_type, comment=col.comment
                    )
                    for col in PARTITION_COLUMNS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    columns=[
                        glue.CfnTable.ColumnProperty(
                            name=col.name, type=col.athena_type, comment=col.comment
                        )
                        for col in DATA_COLUMNS
                    ],
                    location=self.table_location,
                    input_format=PARQUET_INPUT,
                    output_format=PARQUET_OUTPUT,
                    compressed=True,
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=PARQUET_SERDE,
                        parameters={"serialization.format": "1"},
                    ),
                ),
            ),
        )
        self.table.node.add_dependency(self.database)

        self.workgroup_name = settings.athena_workgroup
        self.results_location = f"s3://{athena_results.bucket_name}/{ATHENA_RESULTS_PREFIX}"
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=settings.athena_workgroup,
            description="movement-lake: partition registration and queries of the lake",
            state="ENABLED",
            recursive_delete_option=True,  # the stack owns it; saved queries go with it
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ATHENA_ENGINE
                ),
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=settings.athena_bytes_scanned_cutoff_per_query,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=self.results_location,
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )

        stack = Stack.of(self)
        self.workgroup_arn = stack.format_arn(
            service="athena", resource="workgroup", resource_name=settings.athena_workgroup
        )
        self.data_catalog_arn = stack.format_arn(
            service="athena", resource="datacatalog", resource_name="AwsDataCatalog"
        )
        self.catalog_arn = stack.format_arn(service="glue", resource="catalog")
        self.database_arn = stack.format_arn(
            service="glue", resource="database", resource_name=settings.database
        )
        self.table_arn = stack.format_arn(
            service="glue", resource="table", resource_name=f"{settings.database}/{settings.table}"
        )
