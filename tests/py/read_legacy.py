#!/usr/bin/python3
"""Reads a legacy-layout trace exactly as the Python FileDatabase.get_traces
does (8-byte big-endian length, msgpack map, event class by phase, fields as
keyword arguments) and prints one line per event: name phase timestamp.
Exits non-zero if a record has keys the Python event classes do not take."""
import sys
import msgpack

FIELDS = {
    "X": ["name", "timestamp", "duration", "phase", "process_id", "thread_id", "args"],
    "I": ["name", "timestamp", "phase", "scope", "process_id", "thread_id", "args"],
    "B": ["name", "timestamp", "phase", "process_id", "thread_id", "args"],
    "E": ["name", "timestamp", "phase", "process_id", "thread_id", "args"],
}
with open(sys.argv[1], "rb") as f:
    while True:
        size = f.read(8)
        if size == b"":
            break
        data = msgpack.unpackb(f.read(int.from_bytes(size, "big")))
        allowed = FIELDS[data["phase"]]
        if list(data.keys()) != allowed:
            sys.exit("keys %r are not the Python dataclass fields %r" % (list(data), allowed))
        print(data["name"], data["phase"], repr(data["timestamp"]))
