"""The faces a person uses: the `lake` CLI (`cli` and its command modules), the reports and
views it prints (`report`, `views`, `timeline`, `progress`, `graph`, `terminal`), the demo, the
generator of synthetic exports (`generate/`) and the console (`web/`).

May import: `lake.runtime` (only what its `__init__` exports: `Lake` and its records and
errors), `lake.home`, `contract`, `functions.story`, and each other. Never `lake.asl`,
`lake.aws` or a module inside `lake.runtime` (tests/unit/test_import_rules.py checks it)."""
