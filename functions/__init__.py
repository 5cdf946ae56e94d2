"""Lambda handlers: `validate` (the first state of the workflow) and `alert` (formats failures)."""
