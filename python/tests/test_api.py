"""The drop-in API: every public name of dasf.profile.profiler, same signatures, defaults,
dataclass fields, letters and EventProfiler rules (compared with the original module when
../shared/peers/dasf is present, and against the documented values always)."""
import dataclasses
import inspect
import re

import pytest

from dasf_profiler import profiler as ours

PUBLIC = ["EventPhases", "InstantEventScope", "InstantEvent", "CompleteEvent",
          "DurationBeginEvent", "DurationEndEvent", "EventTypes", "event_classes",
          "EventDatabase", "FileDatabase", "EventProfiler"]


def public_names(mod):
    """Names the module defines (classes, functions, data), not those it imports."""
    out = set()
    for n, v in vars(mod).items():
        if n.startswith("_") or inspect.ismodule(v):
            continue
        if inspect.isclass(v) or inspect.isfunction(v):
            if v.__module__ == mod.__name__:
                out.add(n)
        elif n in ("EventTypes", "event_classes"):
            out.add(n)
    return out


def test_every_public_name_of_the_original_is_here(original):
    theirs = public_names(original)
    assert theirs <= set(dir(ours)), theirs - set(dir(ours))
    assert theirs == set(PUBLIC)


def test_documented_names_and_letters():
    for n in PUBLIC:
        assert hasattr(ours, n), n
    assert {k: v for k, v in vars(ours.EventPhases).items() if not k.startswith("_")} == {
        "COMPLETE": "X", "DURATION_BEGIN": "B", "DURATION_END": "E", "INSTANT": "I",
        "ASYNC_BEGIN": "b", "ASYNC_INSTANT": "n", "ASYNC_END": "e", "FLOW_BEGIN": "s",
        "FLOW_STEP": "t", "FLOW_END": "f", "COUNTER": "C", "OBJECT_CREATED": "N",
        "OBJECT_SNAPSHOT": "O", "OBJECT_DESTROYED": "D", "METADATA": "M", "MARK": "R"}
    assert (ours.InstantEventScope.GLOBAL, ours.InstantEventScope.PROCESS,
            ours.InstantEventScope.THREAD) == ("g", "p", "t")
    assert ours.event_classes == {"X": ours.CompleteEvent, "I": ours.InstantEvent,
                                  "B": ours.DurationBeginEvent, "E": ours.DurationEndEvent}


def fields(cls):
    return [(f.name, f.default if f.default is not dataclasses.MISSING else
             (f.default_factory() if f.default_factory is not dataclasses.MISSING else "<req>"))
            for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("name", ["InstantEvent", "CompleteEvent", "DurationBeginEvent",
                                  "DurationEndEvent"])
def test_dataclasses_have_the_same_fields_order_and_defaults(original, name):
    mine, theirs = fields(getattr(ours, name)), fields(getattr(original, name))
    if name == "DurationEndEvent":  # the one documented difference
        assert ("phase", "B") in theirs and ("phase", "E") in mine
        theirs = [("phase", "E") if f == ("phase", "B") else f for f in theirs]
    assert mine == theirs


def test_phases_classes_and_letters_equal_the_original(original):
    for cls in ("EventPhases", "InstantEventScope"):
        a = {k: v for k, v in vars(getattr(ours, cls)).items() if not k.startswith("_")}
        b = {k: v for k, v in vars(getattr(original, cls)).items() if not k.startswith("_")}
        assert a == b
    assert list(ours.event_classes) == list(original.event_classes)


@pytest.mark.parametrize("cls,method", [
    ("FileDatabase", "__init__"), ("EventProfiler", "__init__"),
    ("EventProfiler", "record_complete_event"), ("EventProfiler", "record_instant_event"),
    ("EventProfiler", "record_duration_begin_event"),
    ("EventProfiler", "record_duration_end_event"), ("EventProfiler", "get_traces"),
    ("EventProfiler", "commit"), ("EventDatabase", "open"), ("EventDatabase", "record"),
    ("EventDatabase", "commit"), ("EventDatabase", "get_traces"), ("EventDatabase", "close"),
    ("FileDatabase", "record"), ("FileDatabase", "commit"), ("FileDatabase", "get_traces"),
    ("FileDatabase", "close")])
def test_signatures_and_defaults_equal_the_original(original, cls, method):
    def params(mod):
        sig = inspect.signature(getattr(getattr(mod, cls), method))
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()
                if p.kind != p.KEYWORD_ONLY]  # ours adds keyword-only options
    assert params(ours) == params(original)


def test_class_attributes_equal_the_original(original):
    assert ours.EventProfiler.traces_file_prefix == original.EventProfiler.traces_file_prefix
    assert (ours.EventProfiler.default_database_kwargs ==
            original.EventProfiler.default_database_kwargs)
    assert ours.EventProfiler.default_database is ours.FileDatabase
    assert inspect.isabstract(ours.EventDatabase)
    assert {m for m in ours.EventDatabase.__abstractmethods__} == \
        set(original.EventDatabase.__abstractmethods__)


def test_file_database_defaults_str_repr_and_attributes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = ours.FileDatabase()
    assert str(db.database_file) == "traces.msgpack"
    assert (db.commit_threshold, db.commit_on_close, db.lock_timeout, db.byte_size,
            db.flush) == (5000, True, 30, 8, True)
    assert str(db) == repr(db) == "FileDatabase at traces.msgpack"
    assert db.compression_level == 0, "a .msgpack name gets DASF's layout"
    assert db.queue.empty()
    db.record(ours.CompleteEvent("x", 1.0, 2.0))
    assert db.queue.qsize() in (0, 1)
    db.commit()
    assert db.queue.qsize() == 0
    db.close()
    # the C library's layout-by-name rule, one rule for C and Python
    assert ours.FileDatabase("a.zst").compression_level >= 1
    assert ours.FileDatabase("a.trace").compression_level >= 1, "other names: the archive"
    assert ours.FileDatabase("A.MSGPACK").compression_level == 0, "case ignored"
    assert ours.FileDatabase("b.msgpack", compression_level=3).compression_level == 3
    z = ours.FileDatabase(str(tmp_path / "by-name.trace"))
    z.record(ours.InstantEvent("i", 1.0))
    z.close()
    assert (tmp_path / "by-name.trace").read_bytes()[:4] == b"\x5d\x2a\x4d\x18"


def test_event_profiler_rules(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = ours.FileDatabase(str(tmp_path / "x.msgpack"))
    with pytest.raises(ValueError, match="Cannot specify both"):
        ours.EventProfiler(database_file="y.msgpack", database=db)
    p = ours.EventProfiler()
    assert re.fullmatch(r"traces-[0-9a-f]{8}\.msgpack", p.output_file), p.output_file
    assert isinstance(p.database, ours.FileDatabase)
    assert p.database.commit_threshold == 1000
    assert str(p) == repr(p) == f"EventProfiler(database=FileDatabase at {p.output_file})"
    p.record_complete_event("c", 1.0, 0.5)
    p.commit()
    assert (tmp_path / p.output_file).exists()
    z = ours.EventProfiler(database_creation_kwargs={"compression_level": 1})
    assert z.output_file.endswith(".msgpack.zst")
    q = ours.EventProfiler(database=db)
    assert q.output_file is None and q.database is db


def test_context_manager_and_commit_on_close(tmp_path):
    path = tmp_path / "c.msgpack"
    with ours.FileDatabase(str(path)) as db:
        db.record(ours.InstantEvent("i", 1.0))
    assert [e.name for e in ours.FileDatabase(str(path)).get_traces()] == ["i"]
    path2 = tmp_path / "n.msgpack"
    # Nothing but close may write here: no background write before close (flush
    # interval far away) and the flusher's first cycle over before the event is
    # recorded (the empty commit), so a slow machine cannot write it early.
    with ours.FileDatabase(str(path2), commit_on_close=False, flush_interval=3600.0) as db:
        db.commit()
        db.record(ours.InstantEvent("i", 1.0))
    assert not path2.exists() or path2.stat().st_size == 0


class ListDatabase(ours.EventDatabase):
    def __init__(self):
        self.events, self.commits = [], 0

    def record(self, event):
        self.events.append(event)

    def commit(self):
        self.commits += 1

    def get_traces(self):
        return list(self.events)


def test_user_database_receives_dataclasses_as_in_dasf():
    db = ListDatabase()
    p = ours.EventProfiler(database=db)
    p.record_complete_event("c", 1.0, 2.0, process_id="h", args={"k": 1})
    p.record_instant_event("i", 2.0, scope="p")
    p.record_duration_begin_event("b", 3.0)
    p.record_duration_end_event("b", 4.0)
    p.commit()
    assert db.commits == 1
    assert p.get_traces() == [
        ours.CompleteEvent("c", 1.0, 2.0, process_id="h", args={"k": 1}),
        ours.InstantEvent("i", 2.0, scope="p"), ours.DurationBeginEvent("b", 3.0),
        ours.DurationEndEvent("b", 4.0)]
    with pytest.raises(TypeError):
        p.record_complete_event("c", 1.0, 2.0, bogus=1)  # as the dataclass says


def test_subclass_overriding_record_still_gets_dataclasses(tmp_path):
    seen = []

    class Mine(ours.EventProfiler):
        def _record(self, event):
            seen.append(event)
            super()._record(event)

    p = Mine(database_file=str(tmp_path / "s.msgpack"))
    p.record_complete_event("c", 1.0, 2.0)
    p.commit()
    assert seen == [ours.CompleteEvent("c", 1.0, 2.0)]
    assert [e.name for e in p.get_traces()] == ["c"]


def test_fast_path_is_the_c_extension(tmp_path):
    p = ours.EventProfiler(database_file=str(tmp_path / "f.msgpack"))
    assert type(p.record_complete_event).__name__ == "builtin_function_or_method"
    assert p.record_complete_event.__self__ is p.database._db
