"""Every bad input raises a clear Python exception, never a crash, and records nothing."""
import math
import os

import pytest

from dasf_profiler import profiler as ours
import dasf_profiler


@pytest.fixture
def prof(tmp_path):
    p = ours.EventProfiler(database_file=str(tmp_path / "bad.msgpack"))
    yield p
    p.database.close()


BAD_RECORDS = [
    (lambda p: p.record_complete_event(1, 1.0, 1.0), TypeError, "name must be str"),
    (lambda p: p.record_complete_event(None, 1.0, 1.0), TypeError, "name must be str"),
    (lambda p: p.record_complete_event("a\0b", 1.0, 1.0), ValueError, "NUL"),
    (lambda p: p.record_complete_event("x", "1.0", 1.0), TypeError, "timestamp must be a number"),
    (lambda p: p.record_complete_event("x", None, 1.0), TypeError, "timestamp"),
    (lambda p: p.record_complete_event("x", math.nan, 1.0), ValueError, "timestamp must be finite"),
    (lambda p: p.record_complete_event("x", math.inf, 1.0), ValueError, "finite"),
    (lambda p: p.record_complete_event("x", 1.0, math.nan), ValueError, "duration must be finite"),
    (lambda p: p.record_complete_event("x", 1.0, -1.0), ValueError, "duration must be >= 0"),
    (lambda p: p.record_complete_event("x", 1.0), TypeError, "duration"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, 5), TypeError, "positional"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, scope="g"), TypeError, "unexpected keyword"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, bogus=1), TypeError, "unexpected keyword"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, name="y"), TypeError, "multiple values"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args=[1, 2]), TypeError, "args must be a dict"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args="k=v"), TypeError, "args must be a dict"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={1: 2}), TypeError, "keys must be str"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={"a": {2: 3}}), TypeError, "keys must be str"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={"a": object()}), TypeError, "cannot be recorded"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={"a": {1, 2}}), TypeError, "cannot be recorded"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={"a": 2**64}), OverflowError, "64-bit"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, args={"a": -2**63 - 1}), OverflowError, "64-bit"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, process_id=1.5), TypeError, "process_id must be int, str or None"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, thread_id=[1]), TypeError, "thread_id"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, thread_id=2**64), OverflowError, "thread_id"),
    (lambda p: p.record_complete_event("x", 1.0, 1.0, phase="Q"), ValueError, "EventPhases"),
    (lambda p: p.record_instant_event("x", 1.0, scope="z"), ValueError, "scope must be one of"),
    (lambda p: p.record_instant_event("x", 1.0, scope=None), ValueError, "scope"),
    (lambda p: p.record_duration_begin_event("x"), TypeError, "timestamp"),
    (lambda p: p.record_duration_end_event("x", 1.0, duration=1.0), TypeError, "unexpected keyword"),
    (lambda p: p.database.record("not an event"), TypeError, "needs an event"),
    (lambda p: p.database.record(ours.CompleteEvent("x", math.nan, 1.0)), ValueError, "finite"),
]


@pytest.mark.parametrize("call,exc,msg", BAD_RECORDS, ids=[str(i) for i in range(len(BAD_RECORDS))])
def test_bad_record_raises_and_records_nothing(prof, call, exc, msg):
    with pytest.raises(exc, match=msg):
        call(prof)
    prof.record_complete_event("good", 1.0, 1.0)
    prof.commit()
    assert [e.name for e in prof.get_traces()] == ["good"]


def test_deeply_nested_args_are_refused(prof):
    v = []
    for _ in range(300):
        v = [v]
    with pytest.raises(ValueError, match="nested deeper"):
        prof.record_complete_event("x", 1.0, 1.0, args={"a": v})


def test_closed_profiler_raises(tmp_path):
    p = ours.EventProfiler(database_file=str(tmp_path / "c.msgpack"))
    p.record_complete_event("x", 1.0, 1.0)
    p.database.close()
    p.database.close()  # closing twice is fine
    with pytest.raises(ValueError, match="closed"):
        p.record_complete_event("x", 2.0, 1.0)
    with pytest.raises(ValueError, match="closed"):
        p.record_instant_event("x", 2.0)
    with pytest.raises(ValueError, match="closed"):
        p.database.record(ours.InstantEvent("x", 2.0))
    with pytest.raises(ValueError, match="closed"):
        p.commit()
    assert [e.name for e in p.get_traces()] == ["x"]


@pytest.mark.parametrize("kw,msg", [
    ({"commit_threshold": 0}, "invalid option"), ({"default_byte_size": 9}, "invalid option"),
    ({"compression_level": 20}, "invalid option"), ({"compression_level": -1}, "invalid option"),
    ({"lock_timeout": -1}, "invalid option"), ({"overflow": "sometimes"}, "overflow must be"),
    ({"ring_capacity": 1000}, "invalid option"), ({"flush_interval": 0}, "invalid option"),
    ({"max_pending_bytes": 0}, "positive"),
])
def test_bad_options_raise(tmp_path, kw, msg):
    with pytest.raises(ValueError, match=msg):
        ours.FileDatabase(str(tmp_path / "o.msgpack"), **kw)


def test_bad_option_types_raise(tmp_path):
    with pytest.raises(TypeError):
        ours.FileDatabase(str(tmp_path / "o.msgpack"), commit_threshold="many")
    with pytest.raises(TypeError):
        ours.FileDatabase(str(tmp_path / "o.msgpack"), lock_timeout="soon")


def test_unwritable_path_raises_at_commit(tmp_path):
    p = ours.EventProfiler(database_file=str(tmp_path / "no" / "such" / "dir.msgpack"))
    p.record_complete_event("x", 1.0, 1.0)
    with pytest.raises(OSError):
        p.commit()
    with pytest.raises(OSError):  # close reports it too: the events could not be written
        p.database.close()


def test_file_of_the_other_layout_is_refused(tmp_path):
    path = tmp_path / "mixed.zst"
    a = ours.FileDatabase(str(path), compression_level=1)
    a.record(ours.InstantEvent("a", 1.0))
    a.close()
    b = ours.FileDatabase(str(path), compression_level=0, commit_on_close=False)
    b.record(ours.InstantEvent("b", 2.0))
    with pytest.raises(ValueError, match="layout|format|trace"):
        b.commit()
    assert [e.name for e in a.get_traces()] == ["a"], "file untouched"


def test_reading_missing_non_trace_and_damaged_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(ours.FileDatabase(str(tmp_path / "missing.msgpack")).get_traces())
    junk = tmp_path / "junk.msgpack"
    junk.write_bytes(b"this is not a trace file at all" * 10)
    with pytest.raises(ValueError):
        list(dasf_profiler.read_events(junk))
    good = tmp_path / "good.msgpack"
    db = ours.FileDatabase(str(good))
    for i in range(10):
        db.record(ours.InstantEvent(f"e{i}", float(i)))
    db.close()
    data = good.read_bytes()
    good.write_bytes(data[:-7])  # a torn last record
    with pytest.warns(RuntimeWarning, match="damaged"):
        names = [e.name for e in db.get_traces()]
    assert names == [f"e{i}" for i in range(9)]
    assert os.path.getsize(good) == len(data) - 7
