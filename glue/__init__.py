"""The Glue Spark job that turns one travel-times export into the Parquet lake.

`ingest_travel_times.py` is the thin entry script (AWS Glue 5.1 or local PySpark); the modules
beside it are plain PySpark functions, shipped to Glue with the contract in `--extra-py-files`."""
