"""Threads, multiprocessing (fork and spawn), interpreter shutdown and the GIL: every
event recorded is read back exactly once, in each writer's order, and no wait in the C
runtime (commit, a full ring under BLOCK) holds the interpreter lock."""
import collections
import fcntl
import os
import threading
import time

from dasf_profiler import profiler as ours
import dasf_profiler


def check_streams(path, expect):
    """expect: {name: count}; every (name, seq) once, seq increasing per name."""
    last = collections.defaultdict(lambda: -1)
    count = collections.Counter()
    for ev in dasf_profiler.read_events(path):
        seq = ev.args["seq"]
        assert seq == last[ev.name] + 1, f"{ev.name}: seq {seq} after {last[ev.name]}"
        last[ev.name] = seq
        count[ev.name] += 1
    assert dict(count) == expect


def test_threads_each_event_once_in_order(tmp_path):
    path = tmp_path / "threads.zst"
    p = ours.EventProfiler(database_file=str(path),
                           database_creation_kwargs={"commit_threshold": 500,
                                                     "ring_capacity": 1 << 16})

    def work(k):
        for i in range(4000):
            p.record_complete_event(f"t{k}", time.monotonic(), 1e-6, thread_id=k,
                                    args={"seq": i, "pad": "x" * (i % 50)})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.commit()
    check_streams(path, {f"t{k}": 4000 for k in range(8)})


def test_compression_workers_each_event_once_in_order(tmp_path):
    path = tmp_path / "workers.zst"
    db = ours.FileDatabase(str(path), commit_threshold=300, ring_capacity=1 << 16,
                           compression_workers=2)
    p = ours.EventProfiler(database=db)

    def work(k):
        for i in range(3000):
            p.record_complete_event(f"w{k}", time.monotonic(), 1e-6, args={"seq": i})

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    p.commit()
    check_streams(path, {f"w{k}": 3000 for k in range(4)})
    db.close()


def test_compression_workers_out_of_range_is_refused(tmp_path):
    import pytest
    with pytest.raises(ValueError, match="compression_workers"):
        ours.FileDatabase(str(tmp_path / "bad.zst"), compression_workers=65)


FORK_PROG = r'''
import multiprocessing as mp, sys
from dasf_profiler import profiler as ours
path = sys.argv[1]
P = ours.EventProfiler(database_file=path, database_creation_kwargs={"commit_threshold": 100})

def inherited(k):
    for i in range(3000):
        P.record_instant_event(f"c{k}", float(i), args={"seq": i})
    # no commit: the child's end (os._exit in multiprocessing) must still write them

def own(k):
    q = ours.EventProfiler(database_file=path)
    for i in range(3000):
        q.record_instant_event(f"o{k}", float(i), args={"seq": i})

if __name__ == "__main__":
    method = sys.argv[2]
    ctx = mp.get_context(method)
    for i in range(500):
        P.record_instant_event("parent", float(i), args={"seq": i})
    procs = [ctx.Process(target=own, args=(k,)) for k in range(2)]
    if method == "fork":
        procs += [ctx.Process(target=inherited, args=(k,)) for k in range(2)]
    for x in procs:
        x.start()
    for i in range(500, 1000):
        P.record_instant_event("parent", float(i), args={"seq": i})
    for x in procs:
        x.join()
        assert x.exitcode == 0, x.exitcode
    P.commit()
'''


def test_multiprocessing_fork_each_event_once(tmp_path, run_py):
    path = tmp_path / "fork.msgpack"
    run_py(FORK_PROG, path, "fork")
    check_streams(path, {"parent": 1000, "o0": 3000, "o1": 3000, "c0": 3000, "c1": 3000})


def test_multiprocessing_spawn_each_event_once(tmp_path, run_py):
    path = tmp_path / "spawn.zst"
    run_py(FORK_PROG, path, "spawn")
    check_streams(path, {"parent": 1000, "o0": 3000, "o1": 3000})


SHUTDOWN_PROG = r'''
import sys, threading, time
from dasf_profiler import profiler as ours
p = ours.EventProfiler(database_file=sys.argv[1])
for i in range(20000):
    p.record_complete_event("main", float(i), 0.0, args={"seq": i})
stop = threading.Event()
def daemon():
    q = ours.EventProfiler(database_file=sys.argv[2])
    i = 0
    while True:  # records until the interpreter goes away under it
        try:
            q.record_complete_event("daemon", float(i), 0.0, args={"seq": i})
        except ValueError:  # closed at exit: a clear error, then the thread stops
            return
        i += 1
        if i == 1000:
            stop.set()
threading.Thread(target=daemon, daemon=True).start()
stop.wait()
# no commit, no close: exit with events pending in the rings
'''


def test_interpreter_shutdown_commits_and_never_crashes(tmp_path, run_py):
    a, b = tmp_path / "main.msgpack", tmp_path / "daemon.zst"
    r = run_py(SHUTDOWN_PROG, a, b)
    assert r.returncode == 0
    check_streams(a, {"main": 20000})
    n = 0
    for ev in dasf_profiler.read_events(b):  # whole and in order, however far it got
        assert ev.args["seq"] == n
        n += 1
    assert n >= 1000


def test_commit_releases_the_gil_while_it_waits_for_the_lock(tmp_path):
    path = tmp_path / "lock.msgpack"
    db = ours.FileDatabase(str(path), lock_timeout=20)
    fd = os.open(path, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another open file: conflicts like another process
    db.record(ours.InstantEvent("x", 1.0))
    done = threading.Event()
    errors = []

    def committer():
        try:
            db.commit()
        except Exception as e:  # reported below
            errors.append(e)
        done.set()

    t = threading.Thread(target=committer)
    t.start()
    spins, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < 0.5:  # runs only if commit released the GIL
        spins += 1
    assert not errors, errors
    assert not done.is_set(), "commit waits for the lock"
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
    t.join(30)
    assert done.is_set() and not errors, errors
    assert spins > 1000
    assert [e.name for e in db.get_traces()] == ["x"]
    db.close()


BLOCK_PROG = r'''
import fcntl, os, sys, threading, time
from dasf_profiler import profiler as ours
path = sys.argv[1]
db = ours.FileDatabase(path, commit_threshold=100, ring_capacity=1 << 16,
                       max_pending_bytes=1, lock_timeout=60)
fd = os.open(path, os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
progress = [0]
def recorder():
    rec = db._db.record_complete_event
    for i in range(20000):  # ~40 rings' worth: blocks while the lock is held
        rec("r", float(i), 0.0, args={"seq": i})
        progress[0] = i + 1
t = threading.Thread(target=recorder)
t.start()
# This thread runs only if the blocked recorder released the GIL.
while True:
    a = progress[0]
    time.sleep(0.2)
    if progress[0] == a:
        break
assert 0 < progress[0] < 20000, progress[0]
print("blocked at", progress[0])
fcntl.flock(fd, fcntl.LOCK_UN)
os.close(fd)
t.join()
db.close()
'''


def test_a_record_blocked_on_a_full_ring_releases_the_gil(tmp_path, run_py):
    path = tmp_path / "block.zst"
    r = run_py(BLOCK_PROG, path, timeout=120)
    assert "blocked at" in r.stdout
    check_streams(path, {"r": 20000})


def test_close_while_other_threads_record_and_commit(tmp_path):
    """close() from one thread while others record and commit: they either succeed or get
    the closed-database ValueError; nothing crashes and what was accepted is in the file."""
    path = tmp_path / "race.zst"
    db = ours.FileDatabase(str(path), ring_capacity=1 << 16, commit_threshold=100)
    accepted = collections.Counter()
    errors = []

    def recorder(k):
        rec = db._db.record_complete_event
        for i in range(20000):
            try:
                rec(f"r{k}", float(i), 0.0, args={"seq": i})
            except ValueError as e:
                if "closed" not in str(e):
                    errors.append(e)
                return
            accepted[k] += 1

    def committer():
        while True:
            try:
                db.commit()
            except ValueError:
                return

    threads = [threading.Thread(target=recorder, args=(k,)) for k in range(3)]
    threads.append(threading.Thread(target=committer))
    for t in threads:
        t.start()
    time.sleep(0.05)
    db.close()
    for t in threads:
        t.join()
    assert not errors
    got = collections.Counter(ev.name for ev in dasf_profiler.read_events(path))
    assert got == {f"r{k}": n for k, n in accepted.items() if n}
