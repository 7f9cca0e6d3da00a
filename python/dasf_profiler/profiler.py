"""dasf.profile.profiler on the dasf-profiler C runtime: a drop-in replacement.

Every public name of DASF's ``dasf.profile.profiler`` is here with the same signature,
defaults and behaviour (docs/PYTHON.md lists the differences: DurationEndEvent's phase
is "E", records and ids are checked when recorded, FileDatabase has a few more options).

Recording: EventProfiler over a FileDatabase (the default) records straight into the
calling thread's ring of the C runtime (dasf_profiler._native) -- no dataclass is built,
nothing is queued in Python; the runtime's flusher thread writes the file.  A user's own
EventDatabase receives the event dataclasses, as in DASF.
"""
import atexit
import os
import threading
import uuid
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from . import _native


class EventPhases:
    """The Chrome Trace Event phases (the same letters as DASF's)."""
    COMPLETE = "X"
    DURATION_BEGIN = "B"
    DURATION_END = "E"
    INSTANT = "I"
    ASYNC_BEGIN = "b"
    ASYNC_INSTANT = "n"
    ASYNC_END = "e"
    FLOW_BEGIN = "s"
    FLOW_STEP = "t"
    FLOW_END = "f"
    COUNTER = "C"
    OBJECT_CREATED = "N"
    OBJECT_SNAPSHOT = "O"
    OBJECT_DESTROYED = "D"
    METADATA = "M"
    MARK = "R"


class InstantEventScope:
    """The scopes of an instant event."""
    GLOBAL = "g"
    PROCESS = "p"
    THREAD = "t"


@dataclass
class InstantEvent:
    """An instant event (phase I)."""
    name: str
    timestamp: float
    phase: str = EventPhases.INSTANT
    scope: str = InstantEventScope.GLOBAL
    process_id: int = 0
    thread_id: int = 0
    args: dict = field(default_factory=dict)


@dataclass
class CompleteEvent:
    """A complete event (phase X): a start and a duration."""
    name: str
    timestamp: float
    duration: float
    phase: str = EventPhases.COMPLETE
    process_id: int = 0
    thread_id: int = 0
    args: dict = field(default_factory=dict)


@dataclass
class DurationBeginEvent:
    """The begin of a duration (phase B)."""
    name: str
    timestamp: float
    phase: str = EventPhases.DURATION_BEGIN
    process_id: int = 0
    thread_id: int = 0
    args: dict = field(default_factory=dict)


@dataclass
class DurationEndEvent:
    """The end of a duration: phase "E" (DASF's class says "B" by mistake)."""
    name: str
    timestamp: float
    phase: str = EventPhases.DURATION_END
    process_id: int = 0
    thread_id: int = 0
    args: dict = field(default_factory=dict)


@dataclass
class TraceEvent:
    """Not in DASF: what get_traces() yields for the phases DASF has no class for
    (async, flow, counter, object, metadata, mark events, written by C programs)."""
    name: str
    timestamp: float
    phase: str
    process_id: Any = 0
    thread_id: Any = 0
    args: dict = field(default_factory=dict)
    duration: Optional[float] = None
    scope: Optional[str] = None
    cat: Optional[str] = None
    id: Any = None


EventTypes = Union[CompleteEvent, InstantEvent, DurationBeginEvent, DurationEndEvent]
event_classes = {
    EventPhases.COMPLETE: CompleteEvent,
    EventPhases.INSTANT: InstantEvent,
    EventPhases.DURATION_BEGIN: DurationBeginEvent,
    EventPhases.DURATION_END: DurationEndEvent,
}

_native.set_event_classes(CompleteEvent, InstantEvent, DurationBeginEvent, DurationEndEvent,
                          TraceEvent)


class EventDatabase(ABC):
    """An abstract event database: record, commit, get_traces (and open/close)."""

    def open(self) -> "EventDatabase":
        """Open the database."""
        return self

    @abstractmethod
    def record(self, event: EventTypes):
        """Record an event (one of the event dataclasses)."""
        raise NotImplementedError

    @abstractmethod
    def commit(self):
        """Commit the recorded events to the database."""
        raise NotImplementedError

    @abstractmethod
    def get_traces(self) -> Iterable[EventTypes]:
        """The events of the database."""
        raise NotImplementedError

    def close(self):
        """Close the database."""
        pass

    def __enter__(self):
        return self.open()

    def __exit__(self, *args, **kwargs):
        self.close()


# Open FileDatabases, closed (committed) at interpreter exit and at the end of a forked
# multiprocessing child, which leaves through os._exit() without atexit handlers.
_open_dbs = weakref.WeakSet()
_open_lock = threading.Lock()


def _close_all():
    with _open_lock:
        dbs = list(_open_dbs)
    for db in dbs:
        try:
            db.close()
        except Exception as e:  # reported, the others still close
            import sys
            print(f"dasf_profiler: closing {db} at exit failed: {e}", file=sys.stderr)


atexit.register(_close_all)


class _ForkHook:
    """multiprocessing runs its after-fork callbacks in a forked child after clearing its
    finalizers; ours then registers the close of every open database at the child's
    exit (multiprocessing.util._exit_function runs finalizers before os._exit)."""
    registered = False

    @staticmethod
    def child(_):
        from multiprocessing import util
        util.Finalize(None, _close_all, exitpriority=0)

    @classmethod
    def before_fork(cls):
        if cls.registered:
            return
        import sys
        util = sys.modules.get("multiprocessing.util")
        if util is not None:
            util.register_after_fork(_FORK_HOOK, cls.child)
            cls.registered = True


_FORK_HOOK = _ForkHook()
os.register_at_fork(before=_ForkHook.before_fork)


def _layout_level(database_file, compression_level):
    """compression_level, or when it is None the C library's layout-by-name rule
    (dasf_layout_level: "*.msgpack" -> 0, DASF's layout; "*.zst" or any other name ->
    the compressed archive at the default level)."""
    if compression_level is not None:
        return int(compression_level)
    return _native.layout_level(os.fspath(database_file))


class _PendingEvents:
    """FileDatabase.queue: DASF keeps a queue of uncommitted events; here they wait in the
    C runtime's rings.  qsize()/empty() report how many are recorded but not yet written."""

    def __init__(self, db):
        self._db = db

    def qsize(self):
        if self._db.closed:
            return 0
        s = self._db.stats()
        return max(0, s["recorded"] - s["written"] - s["dropped"])

    def empty(self):
        return self.qsize() == 0


class FileDatabase(EventDatabase):
    """Events in a trace file, written by the C runtime's flusher thread.

    The DASF options keep their names and defaults.  Ours (keyword-only):
      compression_level  None: by file name, the C library's rule (".msgpack" -> DASF's
                         layout; ".zst" or any other name -> compressed archive, level 1);
                         0: DASF's layout; 1..19: archive
      overflow           "block" (default: a full ring waits, nothing lost), "drop", or
                         "overwrite": the flight recorder — each thread keeps its newest
                         ring_capacity bytes, nothing is written until snapshot()
                         (docs/RUNTIME.md); needs the archive layout
      ring_capacity      bytes per thread ring (power of two, 64 KiB..1 GiB; 4 MiB)
      flush_interval     seconds between background writes (1.0)
      max_pending_bytes  cap on unwritten compressed chunks held in memory (64 MiB)
      compression_workers  threads encoding + compressing chunks beside the flusher
                         (None: the C library's default; 0: none; docs/RUNTIME.md)
    """

    def __init__(
        self,
        database_file: str = "traces.msgpack",
        commit_threshold: int = 5000,
        remove_old_output_file: bool = False,
        commit_on_close: bool = True,
        lock_timeout: int = 30,
        default_byte_size: int = 8,
        flush: bool = True,
        *,
        compression_level: Optional[int] = None,
        overflow: str = "block",
        ring_capacity: Optional[int] = None,
        flush_interval: float = 1.0,
        max_pending_bytes: Optional[int] = None,
        compression_workers: Optional[int] = None,
    ):
        self.database_file = Path(database_file)
        self.commit_threshold = commit_threshold
        self.commit_on_close = commit_on_close
        self.lock_timeout = lock_timeout
        self.byte_size = default_byte_size
        self.flush = flush
        self.compression_level = _layout_level(database_file, compression_level)
        kwargs = {}
        if ring_capacity is not None:
            kwargs["ring_capacity"] = ring_capacity
        if max_pending_bytes is not None:
            kwargs["max_pending_bytes"] = max_pending_bytes
        if compression_workers is not None:
            kwargs["compression_workers"] = compression_workers
        self._db = _native.FileDB(
            os.fspath(self.database_file), commit_threshold=commit_threshold,
            remove_old_output_file=remove_old_output_file, commit_on_close=commit_on_close,
            lock_timeout=lock_timeout, default_byte_size=default_byte_size, flush=flush,
            compression_level=self.compression_level, overflow=overflow,
            flush_interval=flush_interval, **kwargs)
        self.queue = _PendingEvents(self._db)
        with _open_lock:
            _open_dbs.add(self)

    def record(self, event: EventTypes):
        """Record an event dataclass (any object with its fields will do)."""
        self._db.record(event)

    def commit(self):
        """Write every event recorded so far (by any thread) to the file; returns once they
        are there (fsync'ed when flush=True), or raises what stopped it (TimeoutError for
        the file lock, OSError); the events then stay in memory for the next commit."""
        self._db.commit()

    def snapshot(self):
        """overflow="overwrite" (the flight recorder): write each thread's current window —
        what it recorded since the previous snapshot and is still in memory — once, as
        chunks marked as a snapshot with the count of records overwritten before; other
        policies: the same as commit()."""
        self._db.snapshot()

    def get_traces(self) -> Iterable[EventTypes]:
        """The events in the file (either layout), as the event dataclasses, in file order.
        Events not yet committed are not included (as in DASF)."""
        return _native.Reader(os.fspath(self.database_file))

    def close(self):
        """Commit (when commit_on_close) and stop the flusher.  Recording afterwards raises
        ValueError; closing again does nothing."""
        self._db.close()

    @property
    def closed(self) -> bool:
        return self._db.closed

    def stats(self) -> dict:
        """The C runtime's counters: recorded, dropped, written, chunks_written,
        bytes_written, pending_bytes, flushes, last_error."""
        return self._db.stats()

    def __str__(self) -> str:
        return f"FileDatabase at {self.database_file}"

    def __repr__(self) -> str:
        return f"FileDatabase at {self.database_file}"


_RECORD_METHODS = ("record_complete_event", "record_instant_event",
                   "record_duration_begin_event", "record_duration_end_event")


class EventProfiler:
    """Records events into a database (by default a FileDatabase on a new
    ``traces-XXXXXXXX.msgpack``)."""
    traces_file_prefix = "traces-"

    default_database = FileDatabase
    default_database_kwargs = {
        "commit_threshold": 1000,
        "remove_old_output_file": False,
        "commit_on_close": True,
    }
    output_file = None

    def __init__(
        self,
        database_file: str = None,
        database_creation_kwargs: dict = None,
        database: EventDatabase = None,
    ):
        self.output_file = None
        if database is not None:
            if database_file is not None:
                raise ValueError("Cannot specify both output_file and database arguments")
            self.database = database
        else:
            if database_creation_kwargs is None:
                database_creation_kwargs = self.default_database_kwargs
            if database_file is None:
                level = database_creation_kwargs.get("compression_level")
                suffix = ".msgpack.zst" if level else ".msgpack"
                database_file = f"{self.traces_file_prefix}{str(uuid.uuid4())[:8]}{suffix}"
            self.output_file = database_file
            self.database = self.default_database(database_file, **database_creation_kwargs)
        self._bind_fast_path()

    def _bind_fast_path(self):
        """Over a FileDatabase whose record() is ours, and unless a subclass overrides
        _record or a record_* method, the record_* calls go straight to the C methods."""
        db = self.database
        if not isinstance(db, FileDatabase) or type(db).record is not FileDatabase.record:
            return
        cls = type(self)
        if cls._record is not EventProfiler._record:
            return
        native = db._db
        for name in _RECORD_METHODS:
            if getattr(cls, name) is getattr(EventProfiler, name):
                setattr(self, name, getattr(native, name))

    def _record(self, event: EventTypes):
        self.database.record(event)

    def record_complete_event(self, name: str, timestamp: float, duration: float, **kwargs):
        """Record a complete event (phase X)."""
        self._record(CompleteEvent(name, timestamp, duration, **kwargs))

    def record_instant_event(self, name: str, timestamp: float, **kwargs):
        """Record an instant event (phase I)."""
        self._record(InstantEvent(name, timestamp, **kwargs))

    def record_duration_begin_event(self, name: str, timestamp: float, **kwargs):
        """Record the begin of a duration (phase B)."""
        self._record(DurationBeginEvent(name, timestamp, **kwargs))

    def record_duration_end_event(self, name: str, timestamp: float, **kwargs):
        """Record the end of a duration (phase E)."""
        self._record(DurationEndEvent(name, timestamp, **kwargs))

    def get_traces(self) -> Iterable[EventTypes]:
        """The events of the database."""
        return self.database.get_traces()

    def __str__(self):
        return f"EventProfiler(database={self.database})"

    def __repr__(self) -> str:
        return f"EventProfiler(database={self.database})"

    def commit(self):
        """Commit the events to the database."""
        self.database.commit()

    def snapshot(self):
        """The flight recorder's snapshot (FileDatabase.snapshot); a commit for a database
        without one."""
        snap = getattr(self.database, "snapshot", None)
        if snap is None:
            self.database.commit()
        else:
            snap()
