"""glue.built_once: the job's Column expressions are built once per SparkContext."""

from __future__ import annotations

from pyspark import SparkContext

from glue.built_once import per_context


def test_a_builder_runs_once_per_key_and_again_in_a_new_context(monkeypatch):
    calls = []

    @per_context
    def build(columns: tuple[str, ...], flag: bool) -> list[str]:
        calls.append((columns, flag))
        return [f"built {columns} {flag} #{len(calls)}"]

    # GIVEN one context: each key is built once, and a later call gets the same object
    monkeypatch.setattr(SparkContext, "_active_spark_context", object())
    first = build(("a", "b"), False)
    assert build(("a", "b"), False) is first
    assert build(("a",), False) != first and build(("a", "b"), True) != first
    assert len(calls) == 3
    # WHEN another context is active (the first one's JVM objects are not its own)
    monkeypatch.setattr(SparkContext, "_active_spark_context", object())
    # THEN the key is built again for it
    assert build(("a", "b"), False) != first
    assert len(calls) == 4
