"""Benchmarks of movement-lake (issue 5): our Glue job on local PySpark against the reference
pandas approach and DuckDB, the local runtime end to end, the catalog and the query side.

Run with `make bench` (full) or `make bench-quick`; see `python -m bench --help`. Benchmarks are
measured, never asserted: the goals are reported in bench/RESULTS.md, met or not."""
