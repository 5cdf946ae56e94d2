"""Where the job ends the code Spark generates for one stage, and why.

Spark compiles the operators of a stage into one Java class (whole-stage code generation), and
falls back to running them operator by operator when a method of that class passes
`spark.sql.codegen.hugeMethodLimit`. The job sets that limit to 8000 bytes of bytecode, the most
HotSpot compiles (`-XX:+DontCompileHugeMethods`, its default): a larger method would run
interpreted. Run operator by operator, each projection copies every column of every row into a
new row: the checks after the shuffle (nine projections) made one piece of about 15,000 bytes,
and those copies took about a third of their CPU (Java Flight Recorder, 1M rows). Ended in two
more places, they make three pieces that each fit (tests/glue/test_generated_code.py checks every
format), and the rows are copied once per piece. Measured, the job warm on 1M rows (three runs
each, after a first): 23.6 -> 20.4 s."""

from __future__ import annotations

from pyspark.sql import DataFrame, Observation
from pyspark.sql import functions as F

HUGE_METHOD_LIMIT = 8000  # bytes of bytecode: HotSpot's limit for compiling a method


def new_stage(rows: DataFrame) -> DataFrame:
    """`rows`, with the generated code ending here: what comes before and after is compiled
    apart. An observation does it (Spark's CollectMetrics operator has no generated code of its
    own); the count it keeps costs next to nothing and nothing reads it."""
    return rows.observe(Observation(), F.count(F.lit(1)).alias("rows"))
