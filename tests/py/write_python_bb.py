#!/usr/bin/python3
"""Writes a trace with the unmodified Python module (dasf.profile.profiler,
../shared/peers/dasf/profiler.py, with the ormsgpack stand-in there), so its
end events carry phase "B" exactly as DASF writes them.  Fixed timestamps
(binary fractions) make the output deterministic: tests/data/python_bb.msgpack
is this script's output, and tests compare the tool's reading of both.

Usage: PYTHONPATH=../shared/peers/dasf write_python_bb.py OUT
Thread 7 nests main > step > inner, then a second step; thread 8 has one io
span, one io left open, and a complete event."""
import sys

import profiler  # the peer module; PYTHONPATH must name its folder

out = sys.argv[1]
p = profiler.EventProfiler(database_file=out, database_creation_kwargs={
    "commit_threshold": 1000, "remove_old_output_file": True, "commit_on_close": False})
t7 = {"process_id": 42, "thread_id": 7}
t8 = {"process_id": 42, "thread_id": 8}
p.record_duration_begin_event("main", 10.0, **t7)
p.record_duration_begin_event("step", 10.25, **t7)
p.record_duration_begin_event("io", 10.125, **t8)
p.record_duration_begin_event("inner", 10.375, **t7)
p.record_duration_end_event("inner", 10.5, **t7)
p.record_duration_end_event("step", 10.625, **t7)
p.record_duration_end_event("io", 10.875, **t8)
p.record_duration_begin_event("step", 11.0, **t7)
p.record_duration_begin_event("io", 11.25, **t8)  # never ended
p.record_complete_event("compute", 10.0, 0.5, **t8)
p.record_duration_end_event("step", 11.5, **t7)
p.record_duration_end_event("main", 12.0, **t7)
p.commit()
