"""The local runtime of movement-lake and the `lake` CLI."""
