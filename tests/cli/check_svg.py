#!/usr/bin/python3
"""Checks a `dasf-trace timeline` SVG: well-formed XML (xml.etree), an <svg>
root with a size, one <g class="lane"> per expected (pid, tid) in order,
counter tracks, legend entries, a time axis with units, and every box
inside the picture.  Exit 0 when all holds, else prints what failed."""
import argparse
import math
import sys
import xml.etree.ElementTree as ET

NS = "{http://www.w3.org/2000/svg}"
ap = argparse.ArgumentParser()
ap.add_argument("file")
ap.add_argument("--lanes", help="expected lanes, comma-separated pid:tid, in order")
ap.add_argument("--counters", type=int)
ap.add_argument("--legend", help="names expected first in the legend, in order")
ap.add_argument("--max-rects", type=int, help="at most this many boxes in lanes")
ap.add_argument("--min-rects", type=int, help="at least this many boxes in lanes")
ap.add_argument("--rows", type=int, help="every lane's boxes sit in exactly this many rows")
a = ap.parse_args()
errors = []
root = ET.parse(a.file).getroot()  # raises (exit 1) when not well-formed
if root.tag != NS + "svg":
    sys.exit("root is %s, not svg" % root.tag)
W, H = float(root.get("width")), float(root.get("height"))

lanes = [g for g in root.iter(NS + "g") if g.get("class") == "lane"]
got = ["%s:%s" % (g.get("data-pid"), g.get("data-tid")) for g in lanes]
if a.lanes is not None and got != a.lanes.split(","):
    errors.append("lanes %s, expected %s" % (got, a.lanes.split(",")))
boxes = 0
for g in lanes:
    rects = g.findall(NS + "rect")
    if not rects:
        errors.append("lane %s has no background" % g.get("data-tid"))
    boxes += max(0, len(rects) - 1)  # the first is the lane's background
    rows = {r.get("y") for r in rects[1:]}
    if a.rows is not None and len(rows) != a.rows:
        errors.append("lane %s: boxes in %d rows, expected %d" % (g.get("data-tid"), len(rows),
                                                                  a.rows))
    if g.find(NS + "text") is None or not "".join(g.find(NS + "text").itertext()).strip():
        errors.append("lane without a label")
for r in root.iter(NS + "rect"):
    try:
        x, y = float(r.get("x", 0)), float(r.get("y", 0))
        w, h = float(r.get("width")), float(r.get("height"))
    except (TypeError, ValueError):
        if r.get("width") in ("100%",):
            continue
        errors.append("rect with bad geometry %r" % r.attrib)
        continue
    if not all(map(math.isfinite, (x, y, w, h))) or w < 0 or h < 0:
        errors.append("rect with bad geometry %r" % r.attrib)
    elif x < 0 or y < 0 or x + w > W + 0.5 or y + h > H + 0.5:
        errors.append("rect outside the picture %r" % r.attrib)
if a.max_rects is not None and boxes > a.max_rects:
    errors.append("%d boxes, expected at most %d" % (boxes, a.max_rects))
if a.min_rects is not None and boxes < a.min_rects:
    errors.append("%d boxes, expected at least %d" % (boxes, a.min_rects))
counters = [g for g in root.iter(NS + "g") if g.get("class") == "counter"]
if a.counters is not None and len(counters) != a.counters:
    errors.append("%d counter tracks, expected %d" % (len(counters), a.counters))
for g in counters:
    if g.find(NS + "polyline") is None:
        errors.append("counter track without a line")
axis = [g for g in root.iter(NS + "g") if g.get("class") == "axis"]
labels = ["".join(t.itertext()) for g in axis for t in g.iter(NS + "text")]
if len(labels) < 2 or not all(l.split()[-1] in ("ns", "\u00b5s", "ms", "s") for l in labels):
    errors.append("time axis labels without units: %r" % labels)
if a.legend:
    legend = [g for g in root.iter(NS + "g") if g.get("class") == "legend"]
    items = ["".join(t.itertext()) for g in legend for t in g.iter(NS + "text")][1:]
    want = a.legend.split(",")
    if [i.split(" (")[0] for i in items[:len(want)]] != want:
        errors.append("legend %r, expected to start with %r" % (items, want))
if errors:
    print("\n".join(errors[:50]))
    sys.exit(1)
print("ok: %d lanes, %d boxes, %d counters" % (len(lanes), boxes, len(counters)))
