"""The machine and software a benchmark ran on, for the report's header."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

import psutil

from settings import PROJECT_ROOT


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _java_version() -> str:
    try:
        done = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=30)
        return done.stderr.splitlines()[0].strip() if done.stderr else "unknown"
    except (OSError, subprocess.SubprocessError):
        return "not found"


def _git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            capture_output=True,
            text=True,
            cwd=PROJECT_ROOT,
            timeout=10,
        ).stdout.strip()
        return done.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """Cores, memory, CPU, OS and the versions of everything that is measured."""
    return {
        "cpu": _cpu_model(),
        "cores": f"{psutil.cpu_count(logical=True)} logical "
        f"({psutil.cpu_count(logical=False) or '?'} physical)",
        "memory": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "java": _java_version(),
        "spark (pyspark)": _version("pyspark"),
        "duckdb": _version("duckdb"),
        "pandas": _version("pandas"),
        "pyarrow": _version("pyarrow"),
        "commit": _git_commit(),
    }
