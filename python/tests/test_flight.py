"""The flight recorder from Python: FileDatabase(overflow="overwrite") keeps each thread's
newest ring_capacity bytes and writes nothing until snapshot() (docs/RUNTIME.md); the
snapshot is exactly the last window, in order, and writes no record twice."""
import pytest

from dasf_profiler import profiler as ours

WINDOW = 65536  # bytes of ring per thread


def test_snapshot_writes_exactly_the_last_window(tmp_path):
    path = tmp_path / "flight.zst"
    db = ours.FileDatabase(str(path), overflow="overwrite", ring_capacity=WINDOW, flush=False)
    p = ours.EventProfiler(database=db)
    n = 10000
    for i in range(n):
        p.record_complete_event("w", float(i), 0.5)
    p.commit()
    assert not path.exists() or path.stat().st_size == 0, "commit wrote in overwrite mode"
    p.snapshot()
    ts = [e.timestamp for e in db.get_traces()]
    kept = len(ts)
    # The newest records that fit in the ring (a copied name takes a second
    # 32-byte slot: about WINDOW / 64 of them), and at least 31/32 of it.
    assert (WINDOW - WINDOW // 32) // 64 <= kept <= WINDOW // 64
    assert ts == [float(i) for i in range(n - kept, n)]
    p.snapshot()  # nothing new: nothing written
    assert len(list(db.get_traces())) == kept
    for i in range(n, n + 100):
        p.record_complete_event("w", float(i), 0.5)
    p.snapshot()
    ts = [e.timestamp for e in db.get_traces()]
    assert ts[kept:] == [float(i) for i in range(n, n + 100)]
    db.close()
    assert len(list(ours.FileDatabase(str(path)).get_traces())) == kept + 100


def test_other_policies_snapshot_is_a_commit(tmp_path):
    db = ours.FileDatabase(str(tmp_path / "b.zst"), flush=False)
    db.record(ours.InstantEvent("x", 1.0))
    db.snapshot()
    assert [e.name for e in db.get_traces()] == ["x"]
    db.close()


def test_overwrite_needs_the_archive_layout(tmp_path):
    with pytest.raises(ValueError, match="invalid option"):
        ours.FileDatabase(str(tmp_path / "x.msgpack"), overflow="overwrite")
