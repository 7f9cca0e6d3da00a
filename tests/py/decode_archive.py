#!/usr/bin/python3
"""Decodes the msgpack stream of `zstd -dc ARCHIVE` (stdin) with the schema of
docs/FORMAT.md and nothing else: per chunk a header map, then one array per
event.  Prints the event count, then one line per event: name phase ts_ns."""
import sys
import msgpack

PHASES = "XBEIbnestfCNODMR"
out = []
unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, strict_map_key=False)
left = 0
for obj in unpacker:
    if left == 0:
        assert isinstance(obj, dict) and obj["dasf"] == 1, obj
        strings, streams, left = obj["strings"], obj["streams"], obj["events"]
        prev_end = [s[2] for s in streams]
        cur = 0
        continue
    left -= 1
    code = obj[0]
    i = 1
    if code & 0x10:
        cur = obj[i]
        i += 1
    name = strings[obj[i]]
    tv = obj[i + 1]
    i += 2
    phase = PHASES[code & 0x0F]
    dur = 0
    if phase == "X":
        dur = obj[i]
        i += 1
    if code & 0x20:
        end = prev_end[cur] + tv
        start = end - dur
    else:
        start = prev_end[cur] + tv
        end = start + dur
    prev_end[cur] = end
    out.append("%s %s %d" % (name, phase, start))
assert left == 0, "stream ended inside a chunk"
print(len(out))
print("\n".join(out))
