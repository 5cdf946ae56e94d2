"""Asset folders that hold exactly the Python packages a runtime needs (no Docker bundling: the
Lambda code and Glue's `--extra-py-files` are plain source packages of this repository)."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from settings import PROJECT_ROOT


@cache
def _staging_root() -> Path:
    # CDK copies an asset folder into cdk.out while the construct is built: the folder is only
    # needed until the process ends.
    root = Path(tempfile.mkdtemp(prefix="movement-lake-assets-"))
    atexit.register(shutil.rmtree, root, True)
    return root


def package_folder(name: str, packages: Sequence[str]) -> str:
    """A folder holding the `.py` files of `packages` (top-level package folders of this repo),
    laid out so that the folder itself goes on `sys.path`. Its content alone decides the asset's
    hash, so an unchanged package set deploys nothing new."""
    folder = _staging_root() / name
    shutil.rmtree(folder, ignore_errors=True)
    for package in packages:
        source = PROJECT_ROOT / package
        if not (source / "__init__.py").is_file():
            raise FileNotFoundError(f"{source} is not a Python package (no __init__.py)")
        for path in sorted(source.rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            target = folder / path.relative_to(PROJECT_ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
    return str(folder)
