"""The console and the Step Functions API (a package, so that its conftest does not shadow
tests/conftest.py for modules that import from it)."""
