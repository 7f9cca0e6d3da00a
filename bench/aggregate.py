"""bench/aggregate.py — turns the raw JSON objects of a run (runner.Runner.raw)
into the summary the table is printed from: one row per measured thing (record
path x threads, end-to-end implementation x threads, size workload x level,
CLI verb, ...), each figure a spread {median, min, max, n} over the repetitions.
Rows keep the order in which the run first measured them.  Pure functions of
their input: no I/O, no formatting.
"""

import statistics


def spread(vals):
    """{median, min, max, n} of the values that are not None (None if none are)."""
    vals = [v for v in vals if v is not None]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals),
            "n": len(vals)}


def select(raw, **kw):
    """The objects whose fields equal every keyword given, in order."""
    return [r for r in raw if all(r.get(k) == v for k, v in kw.items())]


def find(rows, **kw):
    """The first of select(rows, **kw), or None."""
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()):
            return r
    return None


def groups(rows, *keys):
    """(key values, rows) for each distinct combination of the fields named,
    in order of first appearance; the rows of a group keep their order."""
    out = {}
    for r in rows:
        out.setdefault(tuple(r.get(k) for k in keys), []).append(r)
    return out.items()


def record_rows(raw):
    out = []
    for (impl, path, th), rs in groups(select(raw, bench="record"), "impl", "path", "threads"):
        out.append({
            "impl": impl, "path": path, "threads": th,
            "median_ns": spread([r["median_ns"] for r in rs]),
            "p99_ns": spread([r["p99_ns"] for r in rs]),
            "events_per_rep": rs[0]["events"],
            "errors": sum(r.get("errors", 0) for r in rs),
            "dropped": sum(r.get("dropped", 0) for r in rs),
            "discarded": known_sum(r.get("discarded", 0) for r in rs),
        })
    return out


def read_back_ok(impl, rs):
    """Ours: every run read back whole.  LTTng: babeltrace2's count (when it
    counted) is what was recorded minus what the channel discarded."""
    if impl.startswith("dasf"):
        return all(r.get("read_back", r["events"]) == r["events"] for r in rs)
    checkable = [r for r in rs
                 if r.get("counted") is not None and r.get("discarded", 0) is not None]
    if not checkable:
        return None
    return all(r["counted"] == r["events"] - r.get("discarded", 0) for r in checkable)


def known_sum(values):
    """The sum, or None (unknown) when any value is unknown."""
    values = list(values)
    return None if any(v is None for v in values) else sum(values)


def lost(r):
    """Events one run lost (dropped by us, discarded by an LTTng channel);
    None when the channel's count is unknown (runner.lttng_discarded)."""
    d = r.get("discarded", 0)
    return None if d is None else r.get("dropped", 0) + d


def e2e_rows(raw):
    out = []
    for (impl, th), rs in groups(select(raw, bench="e2e"), "impl", "threads"):
        out.append({
            "impl": impl, "threads": th, "events": rs[0]["events"],
            "events_per_s": spread([r["events_per_s"] for r in rs]),
            "lost": known_sum(lost(r) for r in rs),
            "lost_max_per_rep": None if known_sum(lost(r) for r in rs) is None
            else max(lost(r) for r in rs),
            "read_back_ok": read_back_ok(impl, rs),
            "bytes_per_event": spread([r.get("bytes_per_event",
                                             r.get("trace_bytes", 0) / r["events"])
                                       for r in rs]),
            "flusher_cpu_ns": spread([r["flusher_cpu_ns_per_event"] for r in rs])
            if all("flusher_cpu_ns_per_event" in r for r in rs) else None,
            # codec floor (bench/codec_floor.c): zstd alone on the run's own
            # chunk payloads, and this run's events/s as a ratio of it
            "floor_events_per_s": spread([r.get("floor_events_per_s") for r in rs]),
            "vs_floor": spread([r.get("vs_floor") for r in rs]),
        })
    return out


def lttng_ratio_rows(raw):
    """Issue 14: our end-to-end events/s over LTTng-UST blocking's, 1 thread,
    taken per repetition (the runs of one repetition follow each other)."""
    lt = {r.get("rep"): r["events_per_s"]
          for r in select(raw, bench="e2e", impl="lttng-blocking", threads=1)}
    out = []
    for impl in ("dasf", "dasf-copied-args"):
        vals = [r["events_per_s"] / lt[r.get("rep")]
                for r in select(raw, bench="e2e", impl=impl, threads=1) if lt.get(r.get("rep"))]
        if vals:
            out.append({"impl": impl, "threads": 1, "vs_lttng_blocking": spread(vals)})
    return out


def burst_rows(raw):
    """Issue 14: the everyday call over a 2 M-event burst against the same
    call while the ring has room (bench/bench_burst.c), per run."""
    rs = select(raw, bench="burst", impl="dasf")
    if not rs:
        return []
    return [{"impl": "dasf", "events": rs[0]["events"],
             "in_ring_ns": spread([r["in_ring_ns"] for r in rs]),
             "burst_ns": spread([r["burst_ns"] for r in rs]),
             "ratio": spread([r["ratio"] for r in rs]),
             "lost": sum(r.get("dropped", 0) for r in rs),
             "read_back_ok": all(r["read_back"] == r["recorded"] for r in rs)}]


def workers_rows(raw):
    """Compression workers (issue 14): per repetition, the 2-thread end-to-end
    events/s with N workers over the same run's 0-worker row, for interned
    names ("dasf") and copied names + 2 args ("dasf-copied-args")."""
    out = []
    for base in ("dasf", "dasf-copied-args"):
        zero = {r["rep"]: r["events_per_s"]
                for r in select(raw, bench="e2e", impl=base, threads=2)}
        for w in (1, 2):
            rs = select(raw, bench="e2e", impl="%s-w%d" % (base, w), threads=2)
            ratios = [r["events_per_s"] / zero[r["rep"]] for r in rs if r.get("rep") in zero]
            if ratios:
                out.append({"impl": base, "workers": w, "threads": 2,
                            "vs_0_workers": spread(ratios)})
    return out


def reader_rows(raw):
    out = []
    for th in sorted({r["threads"] for r in select(raw, bench="reader", impl="dasf")}):
        rs = select(raw, bench="reader", impl="dasf", threads=th)
        out.append({"impl": "dasf", "threads": th, "events": rs[0]["events"],
                    "events_per_s": spread([r["events_per_s"] for r in rs])})
    return out


def size_rows(raw):
    out = []
    measured = [r for r in select(raw, bench="size") if not r.get("purpose")]
    for (impl, wl, level), rs in groups(measured, "impl", "workload", "level"):
        out.append({
            "impl": impl, "workload": wl, "level": level, "events": rs[0]["events"],
            "bytes_per_event": spread([r["bytes_per_event"] for r in rs]),
            "counted": next((r.get("counted") for r in rs if r.get("counted") is not None),
                            None),
        })
    return out


def cli_rows(raw):
    out = []
    for (verb,), rs in groups(select(raw, bench="cli"), "verb"):
        out.append({"verb": verb, "events": rs[0]["events"],
                    "ok": all(r["status"] == 0 for r in rs),
                    "status": [r["status"] for r in rs],
                    "stderr": next((r["stderr"] for r in rs if r["status"]), ""),
                    "seconds": spread([r["seconds"] for r in rs]),
                    "events_per_s": spread([r["events"] / r["seconds"] for r in rs])})
    return out


def aggregate(raw):
    """The summary of a run: {part: [row, ...]} for record, e2e, reader, size,
    cli, e2e_vs_lttng, burst; codec, python and flight keep their programs' own objects
    (bench_codec.c and bench_flight.c report their own medians; python_bench.summarize()
    groups its objects)."""
    return {"record": record_rows(raw), "e2e": e2e_rows(raw), "size": size_rows(raw),
            "e2e_vs_lttng": lttng_ratio_rows(raw), "burst": burst_rows(raw),
            "workers": workers_rows(raw),
            "reader": reader_rows(raw), "cli": cli_rows(raw),
            "codec": select(raw, bench="codec"), "python": select(raw, bench="python"),
            "flight": select(raw, bench="flight")}
