"""The lake home: one folder that holds everything the local runtime keeps.

```
<home>/buckets/<bucket>/<key>   the S3 buckets, one folder each (s3://bucket/key maps here)
<home>/lake.db                  executions and their history (SQLite, WAL)
<home>/catalog/                 the Spark/Hive catalog (Derby metastore) and warehouse
<home>/logs/<execution>.log     the Lambda's and the Glue job's logs of one execution
<home>/logs/engine.log          the background engine's log (see lake.runtime.daemon)
<home>/outbox/*.eml             every alert e-mail, sent or not
<home>/engine.lock, engine.sock the engine's owner lock and socket (see lake.runtime.service)
```

Bucket and resource names come from `settings.load_settings()`, so they mirror the stack's.

A home is its owner's alone: it is created 0700, and a `lake` process creates everything in it
with the umask 077 (`keep_private`), so the database, logs, outbox and data are 0600 (folders
0700) from the moment they exist: never readable by others, not even for an instant."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from settings import Settings, load_settings

DEFAULT_HOME = Path(".lake")
HOME_ENV = "LAKE_HOME"
# Local ARNs need an account and a region; these are the conventional "no account" values.
LOCAL_ACCOUNT = "000000000000"
LOCAL_REGION = "us-east-1"
# AF_UNIX socket paths are limited to 108 bytes on Linux.
_MAX_SOCKET_PATH = 100
PRIVATE_UMASK = 0o077  # what a lake process creates is its owner's only


def keep_private() -> int:
    """Make what this process creates from now on owner-only (umask 077: files 0600, folders
    0700); the previous umask. Every `lake` process calls it first (the CLI, the background
    engine), and so does whoever owns an engine (`lake.runtime.service.owning`)."""
    return os.umask(PRIVATE_UMASK)


class NotInBucket(ValueError):
    """A URI or path does not name an object in one of the lake's buckets."""


def resolve_home(explicit: str | os.PathLike | None = None) -> Path:
    """The lake home: `--home` beats `$LAKE_HOME`, which beats `./.lake`."""
    chosen = explicit or os.environ.get(HOME_ENV) or DEFAULT_HOME
    return Path(chosen).expanduser().resolve()


@dataclass(frozen=True)
class LakeHome:
    """Paths and names of one lake home. Creating one creates nothing; call `ensure()`."""

    root: Path
    settings: Settings = field(default_factory=load_settings)

    @classmethod
    def at(cls, explicit: str | os.PathLike | None = None, settings: Settings | None = None):
        return cls(resolve_home(explicit), settings or load_settings())

    # --- folders -------------------------------------------------------------------------
    @property
    def buckets(self) -> Path:
        return self.root / "buckets"

    @property
    def catalog(self) -> Path:
        return self.root / "catalog"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def db_path(self) -> Path:
        return self.root / "lake.db"

    @property
    def lock_path(self) -> Path:
        return self.root / "engine.lock"

    @property
    def spawn_lock_path(self) -> Path:
        """Held by the one command that starts the background engine (the others wait)."""
        return self.root / "engine.spawn.lock"

    @property
    def engine_log(self) -> Path:
        """The background engine's log (`lake serve` and `lake watch` print to the terminal)."""
        return self.logs / "engine.log"

    @property
    def socket_path(self) -> Path:
        path = self.root / "engine.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # Deep homes get a socket in a folder of this user's own in the temp folder (0700, made
        # by the engine's owner), named after the home so it stays unique.
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"lake-{os.getuid()}" / f"{digest}.sock"

    def make_root(self) -> Path:
        """The home folder itself, created owner-only (0700) when it does not exist yet (a
        folder that exists is left as it is: it may be one the user chose, e.g. `--home .`)."""
        if not self.root.is_dir():
            self.root.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                self.root.mkdir(mode=0o700)
        else:
            self._rename_old_database()
        return self.root

    def _rename_old_database(self) -> None:
        """Homes made by the version that named the database `lake.runtime.history_db` keep
        their executions: the files take the documented name, `lake.db`."""
        old = self.root / "lake.runtime.history_db"
        if old.exists() and not self.db_path.exists():
            for suffix in ("-wal", "-shm", ""):  # the database file last
                with contextlib.suppress(FileNotFoundError):
                    os.replace(f"{old}{suffix}", f"{self.db_path}{suffix}")

    def ensure(self) -> LakeHome:
        """Create the home (0700) and its folders and the buckets the stack creates."""
        self.make_root()
        for folder in (self.catalog, self.logs, self.outbox):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for bucket in self.bucket_names:
            self.bucket_path(bucket).mkdir(mode=0o700, parents=True, exist_ok=True)
        return self

    def execution_log(self, execution_name: str) -> Path:
        return self.logs / f"{execution_name}.log"

    # --- buckets -------------------------------------------------------------------------
    @property
    def raw_bucket(self) -> str:
        return self.settings.raw_bucket

    @property
    def curated_bucket(self) -> str:
        return self.settings.curated_bucket

    @property
    def bucket_names(self) -> tuple[str, ...]:
        s = self.settings
        return (s.raw_bucket, s.curated_bucket, s.athena_results_bucket)

    def bucket_path(self, bucket: str) -> Path:
        if bucket not in self.bucket_names:
            raise NotInBucket(
                f"there is no bucket {bucket!r} in this lake; its buckets are "
                f"{', '.join(self.bucket_names)}"
            )
        return self.buckets / bucket

    def object_path(self, bucket: str, key: str) -> Path:
        """The file that holds s3://bucket/key. Keys may not climb out of their bucket."""
        base = self.bucket_path(bucket)
        path = (base / key).resolve()
        if base.resolve() not in path.parents and path != base.resolve():
            raise NotInBucket(f"key {key!r} points outside bucket {bucket!r}")
        return path

    def local_path(self, uri: str) -> Path:
        """Map `s3://bucket/key` (or `file://` / a plain path already in the home) to a path."""
        if uri.startswith("s3://"):
            bucket, _, key = uri[len("s3://") :].partition("/")
            return self.object_path(bucket, key) if key else self.bucket_path(bucket)
        if uri.startswith("file://"):
            return Path(unquote(uri[len("file://") :]))
        return Path(uri)

    def local_uri(self, uri: str) -> str:
        """`s3://bucket/key` as the `file://` URI Spark reads and writes (trailing '/' kept)."""
        if not uri.startswith("s3://"):
            return uri
        # Not percent-encoded: Hadoop and the Glue script's local storage take the path as is.
        path = "file://" + str(self.local_path(uri))
        return path + "/" if uri.endswith("/") and not path.endswith("/") else path

    def key_of(self, bucket: str, path: Path) -> str:
        """The object key of a file inside a bucket folder."""
        try:
            return path.resolve().relative_to(self.bucket_path(bucket).resolve()).as_posix()
        except ValueError as e:
            raise NotInBucket(f"{path} is not in bucket {bucket!r}") from e

    # --- ARNs ----------------------------------------------------------------------------
    @property
    def state_machine_arn(self) -> str:
        """The ingest workflow's ARN (the state machine every upload starts)."""
        return self.state_machine_arn_of(self.settings.state_machine_name)

    def state_machine_arn_of(self, machine: str) -> str:
        return f"arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:stateMachine:{machine}"

    def execution_arn(self, name: str, machine: str | None = None) -> str:
        """The ARN of execution `name` of state machine `machine` (default: the ingest one)."""
        machine = machine or self.settings.state_machine_name
        return f"arn:aws:states:{LOCAL_REGION}:{LOCAL_ACCOUNT}:execution:{machine}:{name}"

    @property
    def validate_function_arn(self) -> str:
        return (
            f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:"
            f"{self.settings.validate_function_name}"
        )
