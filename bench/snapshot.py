"""A frozen copy of the code under test, so that one benchmark run measures one version.

The job and the runtime change while people work; a run that takes an hour must not measure the
first inputs with one transform and the last with another. The transform section copies the
packages it runs into its work folder and starts every process from there. By default the code
under test (glue, contract, lake, settings.py) is taken from the last commit, so the results
name a version anyone can check out; `worktree` takes the files as they are on disk instead.
The harness itself (bench/) always comes from the working tree."""

from __future__ import annotations

import compileall
import hashlib
import shutil
import subprocess
from pathlib import Path

from settings import PROJECT_ROOT

UNDER_TEST = ("glue", "contract", "lake", "settings.py")
HARNESS = ("bench",)


def _files(root: Path, names: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for name in names:
        path = root / name
        if path.is_file():
            found.append(path)
            continue
        found += sorted(
            p
            for p in path.rglob("*")
            if p.is_file()
            and p.suffix in (".py", ".json")
            and "out" not in p.relative_to(path).parts
            and "__pycache__" not in p.parts
        )
    return found


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=10
        )
        return done.stdout.rstrip("\n")  # not strip(): porcelain lines start with a space
    except (OSError, subprocess.SubprocessError):
        return ""


def take(target: Path, source: str = "head") -> dict:
    """Copy the code into `target` (replacing an earlier copy) from the last commit (`head`) or
    the working tree (`worktree`); returns its fingerprint: commit, the files under test that
    differ from it (and were left out, for `head`), and a hash of everything copied."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    commit = _git("rev-parse", "--short", "HEAD").strip()
    changed = _git("status", "--porcelain", "--", *UNDER_TEST)
    if source == "head":
        archive = subprocess.run(
            ["git", "archive", "HEAD", "--", *UNDER_TEST],
            capture_output=True,
            cwd=PROJECT_ROOT,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
        copied = list(HARNESS)
    else:
        copied = [*UNDER_TEST, *HARNESS]
    for path in _files(PROJECT_ROOT, tuple(copied)):
        destination = target / path.relative_to(PROJECT_ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    # Bytecode, as an installed package has it (`make` compiles the checkout's): else each
    # `lake` process of the upload benchmarks compiled about a hundred modules (0.2 s) where
    # Python may not write its cache (PYTHONDONTWRITEBYTECODE).
    compileall.compile_dir(target, quiet=1)
    digest = hashlib.sha256()
    for path in _files(target, (*UNDER_TEST, *HARNESS)):
        digest.update(str(path.relative_to(target)).encode() + path.read_bytes())
    return {
        "root": str(target),
        "source": "last commit" if source == "head" else "working tree",
        "commit": commit,
        "uncommitted": [line[3:] for line in changed.splitlines()],
        "sha256": digest.hexdigest()[:12],
    }
