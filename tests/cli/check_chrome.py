#!/usr/bin/python3
"""Checks a `dasf-trace export --chrome` file against the Trace Event Format
rules (the JSON Perfetto UI and chrome://tracing load): array form (or with
--object the object form {"traceEvents":[...],"displayTimeUnit":"ns",...})
with one event per line (so a truncated array still loads), required keys
per phase, integer pid/tid, ts/dur in microseconds with exactly 3 decimals
(ns), no empty "args", a "cat" on every X event.
Exit 0 when every rule holds, else prints each violation and exits 1."""
import argparse
import json
import re
import sys

TIME = re.compile(r'"(ts|dur)":(-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')
PHASES = set("XBEiIbnestfCNODMR")
META = {"process_name", "thread_name", "process_sort_index", "thread_sort_index",
        "process_labels"}

ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--events", type=int, help="exact number of events")
ap.add_argument("--phases", default="", help="phase letters that must occur")
ap.add_argument("--named-process", action="append", default=[])
ap.add_argument("--named-thread", action="append", default=[])
ap.add_argument("--object", action="store_true", help="expect the object form")
a = ap.parse_args()
errors = []


def err(i, msg):
    errors.append("event %d: %s" % (i, msg))


text = open(a.file, encoding="utf-8").read()
doc = json.loads(text)  # the whole file is one valid JSON document
lines = text.split("\n")
if a.object:
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        sys.exit("not the object form with a traceEvents array")
    if doc.get("displayTimeUnit") != "ns":
        errors.append("displayTimeUnit is not \"ns\"")
    events = doc["traceEvents"]
    if lines[0] != '{"traceEvents":[' or "]," not in lines:
        errors.append("object form must open with {\"traceEvents\":[ and close the array on "
                      "its own line")
        body = []
    else:
        body = lines[1:lines.index("],")]
else:
    events = doc
    if not isinstance(events, list):
        sys.exit("not a JSON array")
    if lines[0] != "[" or lines[-2:] != ["]", ""]:
        errors.append("file must start with '[' and end with ']' on their own lines")
    body = lines[1:-2]
if len(body) != len(events):
    errors.append("%d lines for %d events: not one event per line" % (len(body), len(events)))
for i, line in enumerate(body):
    raw = line[:-1] if line.endswith(",") else line
    if i < len(body) - 1 and not line.endswith(","):
        err(i, "line does not end with ','")
    try:
        if json.loads(raw) != events[i]:
            err(i, "line does not hold the event")
    except ValueError as e:
        err(i, "line is not a JSON object: %s" % e)
    for key, num in TIME.findall(raw):
        if not re.fullmatch(r"-?[0-9]+\.[0-9]{3}", num):
            err(i, "%s %s is not microseconds with 3 decimals" % (key, num))

seen = set()
names = {"process_name": {}, "thread_name": {}}
for i, e in enumerate(events):
    if not isinstance(e, dict):
        err(i, "not an object")
        continue
    ph = e.get("ph")
    seen.add(ph)
    if ph not in PHASES:
        err(i, "unknown phase %r" % ph)
        continue
    if not isinstance(e.get("name"), str):
        err(i, "name missing or not a string")
    for k in ("pid", "tid"):
        v = e.get(k)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v < 2**31:
            err(i, "%s %r is not a non-negative 32-bit integer" % (k, v))
    if not isinstance(e.get("ts"), (int, float)):
        err(i, "ts missing")
    if "args" in e and not isinstance(e["args"], dict):
        err(i, "args is not an object")
    elif "args" in e and not e["args"] and ph != "M":
        err(i, "empty args (leave the key out: speedscope names frames after args)")
    if ph == "X":
        if not isinstance(e.get("dur"), (int, float)) or e["dur"] < 0:
            err(i, "X without a non-negative dur")
        if not isinstance(e.get("cat"), str):
            err(i, "X without cat (flows bind only to slices with a category)")
    elif "dur" in e:
        err(i, "dur on a %s event" % ph)
    if ph in "iI" and e.get("s") not in ("g", "p", "t"):
        err(i, "instant without scope s in g/p/t")
    if ph == "C":
        args = e.get("args") or {}
        if not args or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                               for v in args.values()):
            err(i, "counter args must be a non-empty map of numbers")
    if ph in "bnestf":
        if not isinstance(e.get("cat"), str):
            err(i, "%s event without cat" % ph)
    if ph in "bnestfNOD":
        if not isinstance(e.get("id"), (int, str)) or isinstance(e.get("id"), bool):
            err(i, "%s event without an int or string id" % ph)
    if ph == "f" and e.get("bp") not in (None, "e"):
        err(i, "flow end bp must be 'e'")
    if ph == "M":
        if e.get("name") not in META:
            err(i, "metadata name %r is not one the format defines" % e.get("name"))
        elif e["name"] in names:
            n = (e.get("args") or {}).get("name")
            if not isinstance(n, str):
                err(i, "%s without args.name" % e["name"])
            names[e["name"]][n] = (e["pid"], e["tid"])

if a.events is not None and len(events) != a.events:
    errors.append("%d events, expected %d" % (len(events), a.events))
for p in a.phases:
    if (p if p != "I" else "i") not in seen:
        errors.append("phase %s does not occur" % p)
for n in a.named_process:
    if n not in names["process_name"]:
        errors.append("no process_name metadata naming %r" % n)
for n in a.named_thread:
    if n not in names["thread_name"]:
        errors.append("no thread_name metadata naming %r" % n)
# every named synthetic pid/tid is used by some event
used = {(e.get("pid"), e.get("tid")) for e in events if e.get("ph") != "M"}
for n, (pid, tid) in names["thread_name"].items():
    if (pid, tid) not in used and tid >= 4194305:
        errors.append("thread_name %r names a thread no event uses" % n)
if errors:
    print("\n".join(errors[:50]))
    sys.exit(1)
print("ok: %d events" % len(events))
