"""The data contract of movement-lake: ONE package read by the validator Lambda, the Glue job,
the local runtime, the generator and the tests (see data-contract.md): where files land
(`layout`), the formats the lake accepts (`formats`) and the canonical period names
(`periods`), the rules for values (`values`), the table (`columns`, `table`), the limits
(`limits`), the event patterns (`events`) and every way a file is refused (`errors`).

Imports nothing outside the standard library: the Lambda bundle and Glue's `--extra-py-files`
both ship it."""
