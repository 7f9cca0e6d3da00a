#!/usr/bin/python3
"""Writes a trace in the Python FileDatabase layout, as dasf.profile.profiler
does it: per event an 8-byte big-endian length, then the msgpack map of the
event dataclass (fields in declaration order).  Uses python3-msgpack (Debian)
instead of ormsgpack; the bytes are the same for these types.

Usage: write_legacy.py OUT [BYTE_SIZE]
The events cover what real DASF traces contain: hostname process ids, None
thread ids, nested args (lists of dependencies), int timestamps, and records
that lack optional keys (no scope, no args)."""
import sys
import msgpack

out = sys.argv[1]
byte_size = int(sys.argv[2]) if len(sys.argv) > 2 else 8

events = [
    {"name": "Compute", "timestamp": 10.5, "duration": 0.25, "phase": "X",
     "process_id": "node-01", "thread_id": None,
     "args": {"deps": [["load", 1], ["map", 2]], "shape": {"x": 3, "y": 4.5}}},
    {"name": "Start", "timestamp": 11, "phase": "I", "scope": "p",
     "process_id": 0, "thread_id": 0, "args": {}},
    {"name": "Phase", "timestamp": 12.0, "phase": "B",
     "process_id": "node-01", "thread_id": 7, "args": {"k": "v"}},
    {"name": "Phase", "timestamp": 13.0, "phase": "B",  # the seed's DurationEndEvent bug
     "process_id": "node-01", "thread_id": 7, "args": {}},
    {"name": "NoScope", "timestamp": 14.25, "phase": "I",
     "process_id": 1, "thread_id": None},
    {"name": "x" * 40, "timestamp": 15.0, "duration": 1, "phase": "X",
     "process_id": -3, "thread_id": 2**40, "args": {"big": 2**64 - 1, "neg": -2**63}},
]
with open(out, "wb") as f:
    for ev in events:
        data = msgpack.packb(ev)
        f.write(len(data).to_bytes(byte_size, byteorder="big"))
        f.write(data)
