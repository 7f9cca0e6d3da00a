"""A Dask LocalCluster with 2 worker processes whose WorkerPlugin records task transitions
as DASF's WorkerTaskPlugin does, through the package, into ONE shared archive: every
task's event is read back exactly once, from both processes."""
import collections

import pytest

import dasf_profiler

PROG = r'''
import socket, sys, time
from distributed import Client, LocalCluster, WorkerPlugin
from distributed.utils import key_split

class WorkerTaskPlugin(WorkerPlugin):
    """Like dasf.profile.plugins.WorkerTaskPlugin: a Compute X event per finished task,
    a Managed Memory instant after it."""
    def __init__(self, path):
        self.path = path

    def setup(self, worker):
        from dasf_profiler.profiler import EventProfiler
        self.worker = worker
        self.hostname = socket.gethostname()
        self.tracer = EventProfiler(database_file=self.path,
                                    database_creation_kwargs={"commit_threshold": 1000})

    def transition(self, key, start, finish, *args, **kwargs):
        if start != "executing" or finish not in ("memory", "error"):
            return
        ts = self.worker.state.tasks.get(key)
        now = time.time()
        begin = ts.startstops[-1]["start"] if ts is not None and ts.startstops else now
        end = ts.startstops[-1]["stop"] if ts is not None and ts.startstops else now
        value = self.worker.data.get(key) if finish == "memory" else None
        self.tracer.record_complete_event(
            "Compute", begin, max(0.0, end - begin), process_id=self.hostname,
            thread_id=f"worker-{self.worker.name}",
            args={"key": str(key), "name": key_split(key), "state": finish,
                  "size": ts.nbytes if ts is not None and ts.nbytes else 0,
                  "shape": getattr(value, "shape", ()),
                  "dtype": str(getattr(value, "dtype", "")), "type": str(type(value)),
                  "dependencies": [str(d.key) for d in ts.dependencies] if ts else [],
                  "dependents": [str(d.key) for d in ts.dependents] if ts else []})
        self.tracer.record_instant_event(
            "Managed Memory", now, process_id=self.hostname,
            thread_id=f"worker-{self.worker.name}",
            args={"key": str(key), "state": finish, "size": 0, "tasks": len(self.worker.data)})

    def teardown(self, worker):
        self.tracer.commit()

def slow_inc(x):
    time.sleep(0.02)
    return x + 1

if __name__ == "__main__":
    path = sys.argv[1]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        client.register_worker_plugin(WorkerTaskPlugin(path), name="trace")
        futures = client.map(slow_inc, range(60), pure=False)
        total = client.submit(sum, futures)
        assert total.result() == sum(range(1, 61))
        keys = [f.key for f in futures] + [total.key]
        print("\n".join(str(k) for k in keys))
'''


def test_two_worker_processes_one_archive_every_task_once(tmp_path, run_py):
    pytest.importorskip("distributed")
    path = tmp_path / "dask.msgpack.zst"
    r = run_py(PROG, path, timeout=300)
    keys = r.stdout.split()
    assert len(keys) == 61
    computes = collections.Counter()
    workers = collections.defaultdict(set)
    for ev in dasf_profiler.read_events(path):
        if ev.name == "Compute":
            computes[ev.args["key"]] += 1
            workers[ev.thread_id].add(ev.args["key"])
            assert ev.args["state"] == "memory"
            assert isinstance(ev.process_id, str)
    assert dict(computes) == {k: 1 for k in keys}, "every task's event exactly once"
    assert len(workers) == 2, f"events from both worker processes: {sorted(workers)}"
    assert all(workers.values())
    with open(path, "rb") as f:
        assert f.read(4) == b"\x5d\x2a\x4d\x18", "one compressed archive"
