#!/usr/bin/python3
"""Writes a trace with the unmodified Python module (dasf.profile.profiler,
../shared/peers/dasf/profiler.py, with the ormsgpack stand-in there) holding
the values a lossless round trip must keep: time.time()-sized timestamps and
their differences as durations (doubles off the nanosecond grid), integer
timestamps and durations (Python ints), args=None, nested args, string / None
process and thread ids, the end events' phase "B".  Fixed values, so the
output is deterministic: tests/data/python_lossless.msgpack is this script's
output (tests check that it still is, when the peer module is there).

Usage: PYTHONPATH=../shared/peers/dasf write_python_lossless.py OUT"""
import sys

import profiler  # the peer module; PYTHONPATH must name its folder

out = sys.argv[1]
p = profiler.EventProfiler(database_file=out, database_creation_kwargs={
    "commit_threshold": 1000, "remove_old_output_file": True, "commit_on_close": False})
t0 = 1764547200.123456789   # a time.time() value (2^-22 s resolution)
t1 = t0 + 0.7107808589935303
t2 = t1 + 5e-7          # two ulps later
ids = {"process_id": "node-07", "thread_id": 3}
p.record_complete_event("load", t0, t1 - t0, **ids)                  # 0.71078085899353...
p.record_complete_event("tiny", t1, t2 - t1, process_id=41, thread_id=None)
p.record_complete_event("int", 12, 3, process_id=0, thread_id=0)     # ints stay ints
p.record_instant_event("mark", t2, args=None, process_id=None, thread_id=None)
p.record_duration_begin_event("step", 1.5, args={"deps": [["a", 1], ["b", 2.5]],
                                                 "shape": {"x": 3, "y": -4.25e-300},
                                                 "big": 2**64 - 1, "neg": -2**63,
                                                 "blob": b"\x00\x01", "none": None})
p.record_duration_end_event("step", 2.000000000000001, args=None)
p.record_instant_event("small", 5e-324, scope="t")                  # a subnormal
p.record_complete_event("neg", -0.0, 0.1 + 0.2)
p.commit()
