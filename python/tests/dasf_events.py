"""Events as DASF's plugins record them (WorkerTaskPlugin, the memory and resource
monitors), as a random mix for the round-trip tests."""
import math
import random
import struct


def random_double(rng, any_bits=True):
    """Any finite double, with a bias towards the values times and sizes take
    (any_bits=False: only time-like values, 0..2e9)."""
    r = rng.random() if any_bits else rng.random() * 0.7
    if r < 0.5:
        return rng.uniform(0, 2e9)  # time.time()-like
    if r < 0.7:
        return rng.uniform(0, 1e5)  # time.monotonic()-like
    while True:  # any bit pattern that is finite
        d = struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if math.isfinite(d):
            return d


def task_key(rng):
    kind = rng.choice(["getitem", "array", "sum-aggregate", "rechunk-merge", "from-zarr"])
    h = "%032x" % rng.getrandbits(128)
    return f"('{kind}-{h}', {rng.randrange(10)}, {rng.randrange(10)})"


def compute_args(rng):
    """WorkerTaskPlugin's args for a finished task."""
    key = task_key(rng)
    shape = tuple(rng.randrange(1, 5000) for _ in range(rng.randrange(0, 4)))
    return {
        "key": key,
        "name": key.split("-")[0].strip("('"),
        "state": rng.choice(["memory", "error", "released"]),
        "size": rng.randrange(0, 2**40),
        "shape": shape,
        "dtype": rng.choice(["float64", "int32", "uint8", "complex128"]),
        "type": rng.choice(["numpy.ndarray", "cupy.ndarray", "pandas.DataFrame"]),
        "dependencies": [task_key(rng) for _ in range(rng.randrange(0, 4))],
        "dependents": [task_key(rng) for _ in range(rng.randrange(0, 3))],
    }


def dasf_like_events(mod, n, seed=1, hostname="node-07.cluster", workers=3, any_bits=True):
    """n events of module mod's dataclasses, as DASF's plugins make them (any_bits=False:
    timestamps and durations are time-like values only)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        r = rng.random()
        ts = random_double(rng, any_bits)
        if r < 0.6:
            out.append(mod.CompleteEvent(
                "Compute", ts, abs(random_double(rng, any_bits)) % 100.0, process_id=hostname,
                thread_id=f"worker-{hostname}-{rng.randrange(workers)}",
                args=compute_args(rng)))
        elif r < 0.8:
            out.append(mod.InstantEvent(
                "Managed Memory", ts, process_id=hostname,
                thread_id=f"worker-{hostname}-{rng.randrange(workers)}",
                args={"key": task_key(rng), "state": "memory", "size": rng.randrange(2**32),
                      "tasks": rng.randrange(1000)}))
        else:
            out.append(mod.InstantEvent(
                "Resource Usage", ts, process_id=hostname, thread_id=None,
                args={"cpu": random_double(rng), "memory": random_double(rng),
                      "time": random_double(rng), "read_bytes": random_double(rng),
                      "write_bytes": random_double(rng), "num_fds": float(rng.randrange(300)),
                      "gpu_utilization": rng.choice([0.0, 12.5, 99.9])}))
    return out


def record_through(profiler, ev):
    """Records dataclass ev the way a DASF plugin does: profiler.record_*_event."""
    if ev.phase == "X":
        profiler.record_complete_event(ev.name, ev.timestamp, ev.duration,
                                       process_id=ev.process_id, thread_id=ev.thread_id,
                                       args=ev.args)
    elif ev.phase == "I":
        profiler.record_instant_event(ev.name, ev.timestamp, scope=ev.scope,
                                      process_id=ev.process_id, thread_id=ev.thread_id,
                                      args=ev.args)
    elif ev.phase == "B":
        profiler.record_duration_begin_event(ev.name, ev.timestamp, process_id=ev.process_id,
                                             thread_id=ev.thread_id, args=ev.args)
    else:
        profiler.record_duration_end_event(ev.name, ev.timestamp, process_id=ev.process_id,
                                           thread_id=ev.thread_id, args=ev.args)


def plain(value):
    """A comparable form: tuples as lists (as msgpack gives them back), floats by their
    bits (so -0.0 / 0.0 and NaN payloads count), recursively."""
    if isinstance(value, float):
        return ("f", struct.pack("<d", value))
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class NearNs(float):
    """A time that compares equal to another within a nanosecond (or the double's own
    resolution, which is coarser than a nanosecond above ~2^23 s)."""

    def __eq__(self, other):
        import math
        return math.isclose(self, other, rel_tol=4.5e-16, abs_tol=1.001e-9)

    __hash__ = float.__hash__


def as_record(ev, ns_times=False):
    """Class name + every field, in declaration order, comparable bit for bit
    (ns_times: timestamp and duration to the nanosecond instead)."""
    import dataclasses
    out = []
    for f in dataclasses.fields(ev):
        v = getattr(ev, f.name)
        if ns_times and f.name in ("timestamp", "duration"):
            out.append((f.name, NearNs(v)))
        else:
            out.append((f.name, plain(v)))
    return (type(ev).__name__, out)


def assert_same(got, want):
    """got == want for lists of as_record()s, reporting only the first difference."""
    assert len(got) == len(want), f"{len(got)} events read, {len(want)} recorded"
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"event {i} differs:\n read    {g}\n written {w}"
