"""`lake watch`: every file that lands in the raw bucket folder, put there by any program,
starts an execution, as S3 -> EventBridge -> Step Functions does in AWS.

- A watchdog observer reports file system events; a path is handled once it has been quiet for
  `settle_s` (a copy in progress fires many events; S3 objects appear whole).
- On start, after the observer runs (so nothing slips between the two), a scan hands every
  file in the folder to the engine. The engine's ledger of object versions (key, size, mtime)
  makes this pick exactly the files not processed yet, plus those whose execution was
  interrupted by a stop or a kill: no file is lost, none is processed twice.
- Parallelism is the engine's pool (`--parallel N`); Glue runs queue inside it (job run
  queuing, `lake.aws.glue`).
- Keys are user text: every line is built as a rich `Text`, never parsed as markup, so a key
  holding `[/]` or `[link=...]` prints as itself."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from rich.console import Console
from rich.text import Text
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from lake.aws.s3 import bucket_objects, is_object
from lake.runtime.engine import Engine


class _Changes(FileSystemEventHandler):
    """Remembers when each object of the bucket folder `root` last changed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.changed: dict[Path, float] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        path = getattr(event, "dest_path", "") or event.src_path
        path = Path(path.decode() if isinstance(path, bytes) else path)
        if not path.is_relative_to(self.root) or not is_object(self.root, path):
            return  # atomic writes under way, kept versions
        with self.lock:
            self.changed[path] = time.monotonic()

    def settled(self, quiet_s: float) -> list[Path]:
        now = time.monotonic()
        with self.lock:
            ready = [p for p, t in self.changed.items() if now - t >= quiet_s]
            for path in ready:
                del self.changed[path]
        return ready


class RawFolderWatcher:
    """Watches the raw bucket folder of an open engine until `stop` is set."""

    def __init__(self, engine: Engine, console: Console | None = None, settle_s: float = 0.5):
        self.engine = engine
        self.console = console or Console(stderr=True)
        self.settle_s = settle_s
        self.bucket = engine.home.settings.raw_bucket
        self.root = engine.home.bucket_path(self.bucket)
        self.started: dict[str, str] = {}  # execution name -> last status reported

    def objects(self) -> list[str]:
        """The keys of every object in the raw bucket folder."""
        return [key for key, _ in bucket_objects(self.root)]

    def scan(self) -> list[str]:
        """Hand every file already in the folder to the engine; the executions it started."""
        keys = self.objects()
        names = [name for key in keys if (name := self._landed(key))]
        self.console.print(
            Text(
                f"{len(keys)} file(s) already in the raw bucket: started {len(names)} not "
                f"processed yet (new, or interrupted last time); {len(keys) - len(names)} were "
                "processed before"
            )
        )
        return names

    def _landed(self, key: str) -> str | None:
        """Hand one file to the engine; the execution's name if this started one."""
        try:
            landing = self.engine.object_landed(self.bucket, key)
        except Exception as e:  # one bad file must not stop the watch
            self.console.print(Text(f"could not start {key}: {e}", "red"))
            return None
        name = landing.execution
        if not landing.started or name is None:
            return None
        self.started[name] = "RUNNING"
        self.console.print(Text.assemble(("▶", "blue"), f" {key} → execution ", (name, "bold")))
        return name

    def _report_finished(self) -> None:
        store = self.engine.store
        assert store is not None
        for name, last in list(self.started.items()):
            if last != "RUNNING":
                continue
            record = store.find_execution(name)
            if record and record.finished:
                self.started[name] = record.status
                colour = "green" if record.status == "SUCCEEDED" else "red"
                why = f": {record.error}" if record.error else ""
                self.console.print(
                    Text.assemble(
                        ("■", colour), f" {record.source_key} → {record.status}{why} ({name})"
                    )
                )

    def run(self, stop: threading.Event, ready: threading.Event | None = None) -> None:
        """Watch until `stop` is set."""
        changes = _Changes(self.root)
        observer = Observer()
        observer.schedule(changes, str(self.root), recursive=True)
        observer.start()
        try:
            self.scan()
            if ready is not None:
                ready.set()
            while not stop.wait(0.2):
                for path in changes.settled(self.settle_s):
                    if path.is_file():
                        self._landed(self.engine.home.key_of(self.bucket, path))
                self._report_finished()
        finally:
            observer.stop()
            observer.join(timeout=5)
            self._report_finished()
