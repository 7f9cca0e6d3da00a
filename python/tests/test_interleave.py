"""The original DASF module and this package append to one legacy file at the same time
(both take the file's flock for each append): every event is there exactly once, each
writer's events in its order, and both readers read the whole file."""
import collections
import os
import subprocess
import sys
import time

import dasf_profiler
from conftest import PEERS, PYTHON
from dasf_profiler import profiler as ours

WRITER = r'''
import os, sys, time
which, path, go, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if which == "original":
    sys.path.insert(0, os.environ["DASF_PEERS"])
    import profiler as mod
else:
    from dasf_profiler import profiler as mod
p = mod.EventProfiler(database_file=path,
                      database_creation_kwargs={"commit_threshold": 40,
                                                "remove_old_output_file": False,
                                                "commit_on_close": True})
open(path + "." + str(os.getpid()) + ".ready", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
for i in range(n):
    p.record_complete_event(which, time.monotonic(), 1e-6, process_id=os.getpid(),
                            thread_id="worker-0", args={"seq": i, "deps": ["a", "b"]})
    if i % 40 == 39:
        if which != "original":
            p.commit()  # the original commits every 40 inside record; so do we, here
        time.sleep(0.001)
p.commit()
'''


def test_original_and_package_append_to_one_legacy_file(tmp_path, original):
    path, go = tmp_path / "shared.msgpack", tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = dict(os.environ, DASF_PEERS=str(PEERS))
    n = 2000
    procs = [subprocess.Popen([PYTHON, str(script), which, str(path), str(go), str(n)],
                              env=env, stderr=subprocess.PIPE, text=True)
             for which in ("original", "ours", "original", "ours")]
    # all four imported and opened before any records: on a loaded machine a late
    # import would otherwise let one writer finish before another starts
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("shared.msgpack.*.ready"))) < len(procs):
        assert time.monotonic() < deadline, "writers did not start"
        assert all(p.poll() is None for p in procs), "a writer exited early"
        time.sleep(0.01)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    last = collections.defaultdict(lambda: -1)
    count = collections.Counter()
    switches, prev = 0, None
    for ev in dasf_profiler.read_events(path):
        w = (ev.name, ev.process_id)
        assert ev.args["seq"] == last[w] + 1, f"{w}: {ev.args['seq']} after {last[w]}"
        last[w] = ev.args["seq"]
        count[ev.name] += 1
        switches += w != prev
        prev = w
    assert count == {"original": 2 * n, "ours": 2 * n}
    assert len(last) == 4
    # four writers one after the other make 3 switches; more means appends interleaved
    assert switches > 3, f"the writers' appends interleaved ({switches} switches)"
    theirs = list(original.FileDatabase(str(path)).get_traces())
    mine = list(ours.FileDatabase(str(path)).get_traces())
    assert len(theirs) == len(mine) == 4 * n
    assert [(e.name, e.timestamp, e.args) for e in theirs] == \
        [(e.name, e.timestamp, e.args) for e in mine]
