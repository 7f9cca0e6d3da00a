"""Round trip: events recorded through the package as DASF's plugins record them come
back equal -- same dataclass, same fields, doubles bit for bit, tuples as lists -- from our
get_traces in both layouts and, for the legacy layout, from the original module's reader."""
import random
import struct

import pytest

import dasf_profiler
from dasf_profiler import profiler as ours
from dasf_events import (as_record, assert_same, dasf_like_events, plain, random_double,
                         record_through)



LAYOUTS = [("legacy", "t.msgpack", None), ("archive", "t.msgpack.zst", None),
           ("archive-level", "t.trace", 3)]


def expected(events):
    # What reading gives back: our classes, DurationEndEvent "E", tuples as lists.
    return [as_record(ev) for ev in events]


@pytest.mark.parametrize("layout,name,level", LAYOUTS, ids=["legacy", "archive", "archive-level"])
def test_dasf_plugin_events_round_trip(tmp_path, layout, name, level):
    path = tmp_path / name
    kwargs = {"commit_threshold": 1000}
    if level is not None:
        kwargs["compression_level"] = level
    p = ours.EventProfiler(database_file=str(path), database_creation_kwargs=kwargs)
    events = dasf_like_events(ours, 3000, seed=7)
    for ev in events:
        record_through(p, ev)
    p.commit()
    got = [as_record(e) for e in p.get_traces()]
    assert_same(got, expected(events))
    first = path.read_bytes()[:4]
    if layout == "legacy":
        assert first != b"\x5d\x2a\x4d\x18"
    else:
        assert first == b"\x5d\x2a\x4d\x18", "a compressed archive"


def ns_of(seconds):
    """The library's seconds -> nanoseconds rule, exactly: the nearest nanosecond, halves
    away from zero, from the double's exact value."""
    from fractions import Fraction
    q = Fraction(seconds) * 10**9
    n = (abs(q) + Fraction(1, 2)).__floor__()
    return -n if q < 0 else n


@pytest.mark.parametrize("name,level", [("n.zst", None), ("n.msgpack", 5), ("n.msgpack", 0)])
def test_nanoseconds_follow_the_one_conversion_rule(tmp_path, name, level):
    """read_events' timestamp_ns / duration_ns (what the tools use) are the recorded
    doubles converted by the library's one rule, in both layouts, next to the doubles
    themselves bit for bit."""
    path = tmp_path / name
    db = ours.FileDatabase(str(path), compression_level=level)
    p = ours.EventProfiler(database=db)
    events = dasf_like_events(ours, 3000, seed=9, any_bits=False)
    for ev in events:
        record_through(p, ev)
    p.commit()
    got = list(dasf_profiler.read_events(path))
    assert len(got) == len(events)
    for g, w in zip(got, events):
        assert (g.timestamp_ns, plain(g.timestamp)) == (ns_of(w.timestamp), plain(w.timestamp))
        if w.phase == "X":
            assert (g.duration_ns, plain(g.duration)) == (ns_of(w.duration), plain(w.duration))


def test_legacy_file_reads_equal_in_the_original_module(tmp_path, original):
    path = tmp_path / "traces.msgpack"
    p = ours.EventProfiler(database_file=str(path))
    events = dasf_like_events(ours, 2000, seed=11)
    for ev in events:
        record_through(p, ev)
    p.record_duration_begin_event("Stage", 5.5, process_id=3, thread_id=4, args={"a": [1]})
    p.record_duration_end_event("Stage", 6.25, process_id=3, thread_id=4)
    p.commit()
    theirs = [as_record(e) for e in original.FileDatabase(str(path)).get_traces()]
    mine = [as_record(e) for e in ours.FileDatabase(str(path)).get_traces()]
    assert len(theirs) == 2002
    assert_same(mine, theirs)
    assert theirs[-1] == ("DurationEndEvent", [("name", "Stage"), ("timestamp", plain(6.25)),
                                               ("phase", "E"), ("process_id", 3),
                                               ("thread_id", 4), ("args", {})])


def test_original_module_file_reads_equal_here(tmp_path, original):
    """The other direction: a file the original module wrote, read by our get_traces."""
    path = tmp_path / "theirs.msgpack"
    prof = original.EventProfiler(database_file=str(path))
    events = dasf_like_events(original, 500, seed=5)
    for ev in events:
        record_through(prof, ev)
    prof.commit()
    got = [as_record(e) for e in ours.FileDatabase(str(path)).get_traces()]
    # DASF's DurationEndEvent would say "B"; the mix has no end events, so all equal.
    assert_same(got, [as_record(e) for e in events])


def random_value(rng, depth=0):
    r = rng.random()
    if depth > 3 or r < 0.5:
        return rng.choice([
            lambda: rng.randrange(-2**63, 2**63), lambda: rng.randrange(2**63, 2**64),
            lambda: rng.randrange(-40, 200), lambda: random_double(rng),
            lambda: rng.choice([0.0, -0.0, 5e-324, 1.7976931348623157e308]),
            lambda: rng.choice([True, False, None]),
            lambda: "".join(rng.choice("aé€𝄞 x_-\0") for _ in range(rng.randrange(0, 70))),
            lambda: bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 20))),
        ])()
    if r < 0.75:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if r < 0.85:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5)))
    return {f"k{i}": random_value(rng, depth + 1) for i in range(rng.randrange(0, 5))}


@pytest.mark.parametrize("name", ["p.msgpack", "p.zst"])
def test_random_mix_of_arg_values_and_ids_round_trips(tmp_path, name):
    """Property test over what the encoder handles: random args values (ints at the 64-bit
    edges, any double, str with multi-byte UTF-8, bytes, nesting, tuples), ids of every
    type, all four kinds, phases through every record_* method and through record()."""
    rng = random.Random(1234)
    path = tmp_path / name
    db = ours.FileDatabase(str(path), commit_threshold=100)
    want = []
    ids = [0, -1, 2**63 - 1, -2**63, "host-é", "", None]
    for i in range(1500):
        kind = rng.randrange(5)
        ts = random_double(rng)
        kw = {"process_id": rng.choice(ids), "thread_id": rng.choice(ids),
              "args": {f"a{j}": random_value(rng) for j in range(rng.randrange(0, 6))}}
        if kind == 0:
            ev = ours.CompleteEvent(f"c{i}", ts, abs(random_double(rng)), **kw)
        elif kind == 1:
            ev = ours.InstantEvent(f"i{i}", ts, scope=rng.choice("gpt"), **kw)
        elif kind == 2:
            ev = ours.DurationBeginEvent(f"b{i}", ts, **kw)
        elif kind == 3:
            ev = ours.DurationEndEvent(f"e{i}", ts, **kw)
        else:
            ev = ours.CompleteEvent("r" * rng.randrange(1, 300), ts, 0.0, **kw)
        if rng.random() < 0.5:
            db.record(ev)
        else:
            record_through(_Through(db), ev)
        want.append(as_record(ev))
    db.commit()
    got = [as_record(e) for e in db.get_traces()]
    assert_same(got, want)
    db.close()


class _Through:
    """record_* straight on the native FileDB of a FileDatabase (the fast path)."""

    def __init__(self, db):
        n = db._db
        self.record_complete_event = n.record_complete_event
        self.record_instant_event = n.record_instant_event
        self.record_duration_begin_event = n.record_duration_begin_event
        self.record_duration_end_event = n.record_duration_end_event


@pytest.mark.parametrize("name", ["w.msgpack", "w.zst"])
def test_args_of_every_shape_the_record_path_distinguishes(tmp_path, name):
    """Plain values, nested ones, NUL inside values and keys, more args than the typed
    list holds, numpy-like scalars: each comes back as given (tuples as lists)."""
    import numpy as np
    cases = [
        {"s": "x", "i": -5, "u": 2**64 - 1, "f": 0.5, "b": True, "n": None},
        {"nul value": "a\0b", "k\0ey": 1},
        {f"k{i}": i for i in range(40)},
        {"np_int": np.int64(7), "np_float": np.float32(0.25), "np_bool": np.bool_(True)},
        {"t": (1, (2, 3)), "l": [[], {}], "d": {"x": {"y": [1.5]}}, "by": b"\x00\xff"},
    ]
    db = ours.FileDatabase(str(tmp_path / name))
    for i, a in enumerate(cases):
        db._db.record_instant_event(f"c{i}", float(i), args=a)
    db.commit()
    got = [e.args for e in db.get_traces()]
    want = [plain(c) for c in cases]
    want[3] = {"np_int": 7, "np_float": plain(0.25), "np_bool": True}
    assert [plain(g) for g in got] == want


def test_other_phases_come_back_as_trace_events(tmp_path):
    path = tmp_path / "o.zst"
    db = ours.FileDatabase(str(path))
    db.record(ours.TraceEvent("req", 1.5, "b", process_id=1, thread_id=2, cat="net", id=77))
    db.record(ours.TraceEvent("req", 2.5, "e", process_id=1, thread_id=2, cat="net", id="x"))
    db.record(ours.TraceEvent("mem", 3.0, "C", args={"bytes": 4096}))
    db.commit()
    got = list(db.get_traces())
    assert [type(e).__name__ for e in got] == ["TraceEvent"] * 3
    assert (got[0].phase, got[0].cat, got[0].id, got[0].duration) == ("b", "net", 77, None)
    assert got[1].id == "x"
    assert got[2].args == {"bytes": 4096}


@pytest.mark.parametrize("name", ["d.msgpack", "d.zst"])
def test_doubles_bit_for_bit(tmp_path, name):
    """Timestamps and durations that are not whole nanoseconds, subnormals, huge values."""
    vals = [0.1, 1 / 3, 1796115104.8925326, 5e-324, 1e300, 123456.78901234567, 2.0**-30]
    db = ours.FileDatabase(str(tmp_path / name))
    for i, v in enumerate(vals):
        db._db.record_complete_event("d", v, vals[-1 - i])
    db.commit()
    got = [(e.timestamp, e.duration) for e in db.get_traces()]
    assert [struct.pack("<dd", *g) for g in got] == \
        [struct.pack("<dd", v, vals[-1 - i]) for i, v in enumerate(vals)], name
    db.close()


def test_read_events_and_dataframe(tmp_path):
    pd = pytest.importorskip("pandas")
    path = tmp_path / "r.zst"
    p = ours.EventProfiler(database_file=str(path))
    p.record_complete_event("Compute", 10.0, 2.5, process_id="h", thread_id="worker-h-0",
                            args={"key": "k", "shape": (2, 2)})
    p.record_instant_event("Resource Usage", 11.0, process_id="h", thread_id=None,
                           args={"cpu": 50.0})
    p.commit()
    evs = list(dasf_profiler.read_events(path))
    assert isinstance(evs[0], dasf_profiler.Event)
    assert evs[0].name == "Compute" and evs[0].duration == 2.5 and evs[0].scope is None
    assert evs[0].timestamp_ns == 10_000_000_000 and evs[0].duration_ns == 2_500_000_000
    assert evs[0].args == {"key": "k", "shape": [2, 2]}
    assert evs[1].duration is None and evs[1].scope == "g" and evs[1].thread_id is None
    df = dasf_profiler.to_dataframe(path)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["name", "phase", "timestamp", "duration", "process_id",
                                "thread_id", "args", "scope", "cat", "id", "timestamp_ns",
                                "duration_ns"]
    assert df["duration"].dtype == "float64" and pd.isna(df["duration"][1])
    assert list(df["name"]) == ["Compute", "Resource Usage"]
    assert df["args"][1] == {"cpu": 50.0}


def test_original_module_ints_and_none_args_read_as_written(tmp_path, original):
    """DASF's module writes what it is given: int timestamps/durations stay msgpack ints,
    args=None stays nil.  Our reader gives them back as the original reader does."""
    path = tmp_path / "ints.msgpack"
    prof = original.EventProfiler(database_file=str(path))
    prof.record_complete_event("c", 5, 2, process_id="h", thread_id=None, args=None)
    prof.record_instant_event("i", 7, args={"n": 1})
    prof.record_complete_event("f", 1.5, 0.25)
    prof.commit()
    theirs = [as_record(e) for e in original.FileDatabase(str(path)).get_traces()]
    mine = [as_record(e) for e in ours.FileDatabase(str(path)).get_traces()]
    assert_same(mine, theirs)
    first = next(iter(ours.FileDatabase(str(path)).get_traces()))
    assert type(first.timestamp) is int and first.args is None
