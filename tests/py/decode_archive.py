#!/usr/bin/python3
"""Decodes the msgpack stream of `zstd -dc ARCHIVE` (stdin) with the schema of
docs/FORMAT.md and nothing else: per chunk a header map, then one array per
event (format versions 1, 2 and 3).  Prints the event count, then one line per
event: name phase ts_ns dur_ns args (args as sorted key=value)."""
import sys
import msgpack

PHASES = "XBEIbnestfCNODMR"
out = []
unpacker = msgpack.Unpacker(sys.stdin.buffer, raw=False, strict_map_key=False)
left = 0
for obj in unpacker:
    if left == 0:
        assert isinstance(obj, dict) and obj["dasf"] in (1, 2, 3), obj
        strings, streams, left = obj["strings"], obj["streams"], obj["events"]
        schemas = obj.get("schemas", {})
        prev_end = [s[2] for s in streams]
        prev_start = [s[2] for s in streams]
        cur = 0
        continue
    left -= 1
    code = obj[0]
    i = 1
    if code < 0:  # version 2 compact X event
        c = -1 - code
        stream, tmode, schema, fixes = c & 0x01, (c >> 1) & 3, c & 0x08, c & 0x10
        assert tmode != 3, obj
        phase, ext = "X", 0
    else:
        stream, tmode, schema, fixes = code & 0x10, 1 if code & 0x20 else 0, 0, 0
        phase, ext = PHASES[code & 0x0F], code & 0x40
    if stream:
        cur = obj[i]
        i += 1
    name_i = obj[i]
    name = strings[name_i]
    tv = obj[i + 1]
    i += 2
    dur = 0
    if phase == "X":
        dur = obj[i]
        i += 1
    if fixes:  # version 3 compact: ts_fix, dur_fix (exact doubles)
        i += 2
    if ext:
        flags = obj[i]
        i += 1
        i += bool(flags & 0x01) + bool(flags & 0x02) + bool(flags & 0x0C)
        i += bool(flags & 0x40) + bool(flags & 0x80)  # version 3: exact-double fixes
        if flags & 0x20:
            args = obj[i]
            i += 1
    if schema:
        keys = schemas[name_i]
        assert len(obj) - i == len(keys), obj
        args = {strings[k]: v for k, v in zip(keys, obj[i:])}
    elif not (ext and flags & 0x20):
        rest = obj[i:]
        args = {strings[rest[j]]: rest[j + 1] for j in range(0, len(rest), 2)}
    if tmode == 1:
        end = prev_end[cur] + tv
        start = end - dur
    else:
        start = (prev_start[cur] if tmode == 2 else prev_end[cur]) + tv
        end = start + dur
    prev_start[cur], prev_end[cur] = start, end
    kv = ",".join("%s=%s" % (k, args[k]) for k in sorted(args, key=str))
    out.append("%s %s %d %d %s" % (name, phase, start, dur, kv))
assert left == 0, "stream ended inside a chunk"
print(len(out))
print("\n".join(out))
