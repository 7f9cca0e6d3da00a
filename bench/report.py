"""bench/report.py — the summary table of a benchmark run, from aggregate()'s
summary and the environment: the goals each figure is judged against, the
labels of each row, the number formats, and one function per section of the
table (record latency, peers, end-to-end, size, CLI, codec, Python, goals).
"""

import python_bench  # its summary and table, shared with standalone runs
from aggregate import find

GOALS = {
    "record_h": 3.0,       # ns/event, caller ts + interned name
    "record_zone": 11.0,   # ns/event, own clock (DASF_ZONE)
    "record_args": 20.0,   # ns/event, copied name + 2 int args
    "lttng_ratio": 12.0,   # LTTng ns / ours ns, same payload
    "e2e_1t": 12e6,        # events/s, 1 thread, lossless
    "e2e_vs_floor": 0.4,   # copied names + 2 args end-to-end / zstd L1 alone (issue 14)
    # issue 14: the flusher's CPU per event, end-to-end against LTTng-UST
    # blocking (same run, per repetition), and the everyday call in a burst
    "flusher_h": 45.0,         # ns/event, interned names
    "flusher_args": 110.0,     # ns/event, copied names + 2 int args
    "e2e_vs_lttng_h": 5.0,     # ours (interned) / LTTng-UST blocking, events/s
    "e2e_vs_lttng_args": 2.0,  # ours (copied + 2 args) / LTTng-UST blocking
    "burst_ratio": 3.0,        # 2 M-event burst / in-ring, ns per call
    "size_regular": 6.0,   # bytes/event
    "size_random": 14.0,   # bytes/event
    "py_args_ratio": 10.0,    # original (C packer) / dasf_profiler, DASF plugin args
    "py_noargs_ratio": 20.0,  # the same without args
    "py_read": 1e6,           # get_traces() into dataclasses, events/s
}

PATH_LABELS = {
    "h": "dasf_record_complete_h (interned name, caller ts)",
    "zone": "DASF_ZONE (own clock, 2 reads)",
    "now": "dasf_record_instant_now (own clock, 1 read)",
    "now_ns": "record_complete_ns(dasf_now_ns()) (caller reads)",
    "args": "dasf_record_complete_args (copied name + 2 int args)",
    "copied": "record_complete_event (copied name: peers' payload)",
    "h+drain": "complete_h, flusher draining meanwhile (thr. 64K)",
    "h+anon": "complete_h, ring in anonymous memory (not shared)",
    "clock_dasf_now": "floor: dasf_now_ns() alone",
    "clock_rdtsc": "floor: rdtsc alone",
    "ring_store": "floor: bare 32-byte ring store + release (same loop)",
}
PEER_LABELS = {
    "lttng-discard": "LTTng-UST tracepoint, discard channel",
    "lttng-blocking": "LTTng-UST tracepoint, blocking channel",
    "mutex": "mutex-protected shared buffer (naive)",
}


def fmt(x, unit=""):
    if x is None:
        return "-"
    if x >= 1e6 and unit == "/s":
        return "%.2f M/s" % (x / 1e6)
    if x >= 100:
        return "%.0f%s" % (x, unit)
    if x >= 10:
        return "%.1f%s" % (x, unit)
    return "%.2f%s" % (x, unit)


def fsp(sp, unit="", scale=1.0):
    if not sp:
        return "-"
    if unit == "/s":
        return "%.2f [%.2f..%.2f] M/s" % (sp["median"] / 1e6, sp["min"] / 1e6, sp["max"] / 1e6)
    if unit == "s":
        return "%.2f [%.2f..%.2f] s" % (sp["median"], sp["min"], sp["max"])
    return "%s [%s..%s]" % (fmt(sp["median"] * scale), fmt(sp["min"] * scale),
                            fmt(sp["max"] * scale))


def verdict(value, goal, higher_better=False):
    if value is None:
        return "n/a"
    ok = value >= goal if higher_better else value <= goal
    return "MET" if ok else "MISSED"


def goal_rows(s, lttng_reason):
    """(label, value, goal, unit, higher_is_better) for each goal of issues 3 and 4."""
    def med(rows, **kw):
        r = find(rows, **kw)
        return r and r.get("median_ns", r.get("bytes_per_event", r.get("events_per_s")))

    def m(sp):
        return sp["median"] if sp else None

    out = []
    for path, g, label in [("h", "record_h", "record, caller ts + interned name (complete_h)"),
                           ("zone", "record_zone", "record, own clock: DASF_ZONE (2 reads)"),
                           ("now", "record_zone", "record, own clock: dasf_record_instant_now"),
                           ("args", "record_args", "record, copied name + 2 int args")]:
        out.append((label, m(med(s["record"], impl="dasf", path=path, threads=1)), GOALS[g],
                    " ns", False))
    for base, label in [("h", "LTTng-UST blocking / ours, interned name (x)"),
                        ("copied", "LTTng-UST blocking / ours, copied name (x)")]:
        lt = None if lttng_reason else m(med(s["record"], impl="lttng-blocking", threads=1))
        ours = m(med(s["record"], impl="dasf", path=base, threads=1))
        out.append((label, lt / ours if lt and ours else None, GOALS["lttng_ratio"], "x",
                    True))
    e = find(s["e2e"], impl="dasf", threads=1)
    v = e["events_per_s"]["median"] if e and not e["lost"] else (0.0 if e else None)
    out.append(("end-to-end, 1 thread, lossless (events/s)", v / 1e6 if v is not None else None,
                GOALS["e2e_1t"] / 1e6, " M/s", True))
    out += issue14_goal_rows(s, lttng_reason)
    for wl in ("regular", "random"):
        r = find(s["size"], impl="dasf", workload=wl, level=1)
        out.append(("size on disk, %s workload, level 1 (B/event)" % wl,
                    r["bytes_per_event"]["median"] if r else None, GOALS["size_" + wl],
                    " B", False))
    py = python_bench.summarize(s.get("python", []))
    # CPU time of all threads per event: ours pays its flusher here, the original its
    # in-call commits; the caller-only ratios (larger) are in the Python table.
    for args, g, label in [("dasf", "py_args_ratio", "Python: orig. C packer / ours, CPU, args (x)"),
                           ("none", "py_noargs_ratio", "Python: orig. C packer / ours, CPU, no args (x)")]:
        a, b = py.get(("record", "ours-legacy", args)), py.get(("record", "orig-cpacker", args))
        out.append((label, b["cpu_ns"]["median"] / a["cpu_ns"]["median"] if a and b else None,
                    GOALS[g], "x", True))
    r = py.get(("read", "ours-legacy", ""))
    out.append(("Python: get_traces() into dataclasses, legacy (events/s)",
                r["events_per_s"]["median"] / 1e6 if r else None, GOALS["py_read"] / 1e6,
                " M/s", True))
    out.append(("Python: the same per CPU second (events/s)",
                r["events_per_cpu_s"]["median"] / 1e6 if r else None, GOALS["py_read"] / 1e6,
                " M/s", True))
    return out


def issue14_goal_rows(s, lttng_reason):
    """Issue 14's goals: (label, value, goal, unit, higher_is_better)."""
    def med(rows, key, **kw):
        r = find(rows, **kw)
        return r[key]["median"] if r and r.get(key) else None

    lt = lambda v: None if lttng_reason else v  # noqa: E731
    return [
        ("flusher CPU per event, interned names (ns)",
         med(s["e2e"], "flusher_cpu_ns", impl="dasf", threads=1), GOALS["flusher_h"], " ns", False),
        ("flusher CPU per event, copied names + 2 int args (ns)",
         med(s["e2e"], "flusher_cpu_ns", impl="dasf-copied-args", threads=1),
         GOALS["flusher_args"], " ns", False),
        ("end-to-end / codec floor, copied names + 2 int args (x)",
         med(s["e2e"], "vs_floor", impl="dasf-copied-args", threads=1), GOALS["e2e_vs_floor"],
         "x", True),
        ("end-to-end / LTTng-UST blocking, interned names (x)",
         lt(med(s.get("e2e_vs_lttng", []), "vs_lttng_blocking", impl="dasf")),
         GOALS["e2e_vs_lttng_h"], "x", True),
        ("end-to-end / LTTng-UST blocking, copied + 2 args (x)",
         lt(med(s.get("e2e_vs_lttng", []), "vs_lttng_blocking", impl="dasf-copied-args")),
         GOALS["e2e_vs_lttng_args"], "x", True),
        ("record_complete_event, 2 M burst / in-ring (x)",
         med(s.get("burst", []), "ratio", impl="dasf"), GOALS["burst_ratio"], "x", False),
    ]


def burst_section(s):
    """The everyday call over a burst longer than a ring (bench/bench_burst.c)
    and each end-to-end row's ratio to LTTng-UST blocking (issue 14)."""
    L = []
    for r in s.get("e2e_vs_lttng", []):
        L.append("  %-54s %3d  %-30s" % (
            "%s / LTTng-UST blocking (per rep.)" % ("interned" if r["impl"] == "dasf"
                                                    else "copied + 2 args"),
            r["threads"], "%.2fx [%.2f..%.2f]" % (r["vs_lttng_blocking"]["median"],
                                                  r["vs_lttng_blocking"]["min"],
                                                  r["vs_lttng_blocking"]["max"])))
    for r in s.get("burst", []):
        L.append("")
        L.append("BURST: dasf_profiler_record_complete_event(p, \"Compute\", ts, dur, NULL), "
                 "profiler defaults, tmpfs")
        L.append("  %-54s %-24s %-24s %-20s %s" % ("", "in-ring ns/call", "burst ns/call",
                                                  "burst / in-ring", "lost, read-back"))
        L.append("  %-54s %-24s %-24s %-20s %s" % (
            "%g M-event burst vs batches with room in the ring" % (r["events"] / 1e6),
            fsp(r["in_ring_ns"]), fsp(r["burst_ns"]),
            "%.2fx [%.2f..%.2f]" % (r["ratio"]["median"], r["ratio"]["min"], r["ratio"]["max"]),
            "%d, %s" % (r["lost"], "ok" if r["read_back_ok"] else "SHORT")))
    return L


def header(env, reps):
    return [
        "dasf-profiler benchmarks  %s" % env["date"],
        "CPU: %s, %s CPUs%s, Linux %s" % (
            env["cpu"], env["cpus"],
            (" (%s guest)" % env["hypervisor"]) if env.get("hypervisor") else "",
            env["kernel"]),
        "Clock: kernel clocksource %s, dasf_clock_source() %s, TSC %.3f GHz "
        "(calibrated against CLOCK_MONOTONIC_RAW)" % (
            env["clocksource"], env.get("dasf_clock", "?"), (env.get("tsc_hz") or 0) / 1e9),
        "Each figure: median over %d interleaved repetitions [min..max across "
        "repetitions].  Load average at start %s, at end %s." % (
            reps, env.get("loadavg_start", "?"), env.get("loadavg_end", "?")),
    ]


def latency_section(s):
    L = ["RECORD LATENCY, ns/event (batches of 1024 timed with lfence+rdtsc; "
         "per run: median and p99 over all batches)"]
    L.append("  %-54s %3s  %-24s %-24s %-7s %s" % ("path", "thr", "median", "p99", "goal",
                                                  "vs goal"))
    goal_of = {"h": GOALS["record_h"], "zone": GOALS["record_zone"],
               "args": GOALS["record_args"], "now": GOALS["record_zone"],
               "now_ns": GOALS["record_zone"]}
    for r in s["record"]:
        if r["impl"] not in ("dasf", "floor"):
            continue
        g = goal_of.get(r["path"]) if r["impl"] == "dasf" else None
        med = r["median_ns"]["median"]
        extra = ""
        if r.get("dropped"):
            extra = "  DROPPED %d" % r["dropped"]
        if r.get("errors"):
            extra += "  ERRORS %d" % r["errors"]
        L.append("  %-54s %3d  %-24s %-24s %-7s %s%s" % (
            PATH_LABELS.get(r["path"], r["path"]), r["threads"], fsp(r["median_ns"]),
            fsp(r["p99_ns"]), ("<= %g" % g) if g else "", verdict(med, g) if g else "",
            extra))
    return L + shm_lines(s) + flight_lines(s)


def shm_lines(s):
    """Rings in shared memory (issue 12) against the same path with anonymous
    rings and against the bare ring-store floor, same run: medians' ratios."""
    L = []
    for th in (1, 2):
        shm = find(s["record"], impl="dasf", path="h", threads=th)
        anon = find(s["record"], impl="dasf", path="h+anon", threads=th)
        floor = find(s["record"], impl="floor", path="ring_store", threads=1)
        if not shm or not anon:
            continue
        a, b = shm["median_ns"]["median"], anon["median_ns"]["median"]
        f = floor["median_ns"]["median"] if floor else None
        L.append("  shared-memory ring, %d thr: complete_h shm / anonymous %.2fx; "
                 "/ floor: shm %s, anonymous %s" % (
                     th, a / b if b else float("nan"),
                     "%.2fx" % (a / f) if f else "-", "%.2fx" % (b / f) if f else "-"))
    return L


def flight_lines(s):
    """The flight recorder (issue 12, bench/bench_flight.c): complete_h with
    DASF_OVERFLOW_OVERWRITE against the bare ring store and against BLOCK,
    measured in the same run (medians over its repetitions)."""
    L = []
    for r in s.get("flight", []):
        L.append("  flight recorder (overwrite, %d KiB window, %d reps): complete_h %.2f ns = "
                 "%.2fx floor (%.2f ns); BLOCK %.2f ns = %.2fx floor; overwrite / BLOCK %.2fx%s" % (
                     r["window_bytes"] >> 10, r["reps"], r["overwrite_ns"],
                     r["overwrite_floor_ratio"], r["floor_ns"], r["block_ns"],
                     r["block_floor_ratio"], r["overwrite_block_ratio"],
                     "  ERRORS %d" % r["errors"] if r.get("errors") else ""))
    return L


def peers_section(s, lttng_reason):
    L = ["PEERS, same payload (name string, double ts, double dur, pid, tid), same "
         "counts, same run"]
    L.append("  %-54s %3s  %-24s %-24s %-12s %-12s %s" % (
        "peer", "thr", "median ns", "p99 ns", "/ours(h)", "/ours(copied)", "vs goal"))
    for impl in ("lttng-discard", "lttng-blocking", "mutex"):
        for th in (1, 2):
            r = find(s["record"], impl=impl, threads=th)
            label = PEER_LABELS[impl]
            if impl.startswith("lttng") and lttng_reason:
                L.append("  %-54s %3d  unavailable: %s" % (label, th, lttng_reason))
                continue
            if not r:
                continue
            oh = find(s["record"], impl="dasf", path="h", threads=th)
            oc = find(s["record"], impl="dasf", path="copied", threads=th)
            m = r["median_ns"]["median"]
            rh = m / oh["median_ns"]["median"] if oh else None
            rc = m / oc["median_ns"]["median"] if oc else None
            v = ""
            if impl.startswith("lttng"):
                v = "h %s, copied %s (>= %gx)" % (verdict(rh, GOALS["lttng_ratio"], True),
                                                  verdict(rc, GOALS["lttng_ratio"], True),
                                                  GOALS["lttng_ratio"])
            note = ("  discarded unknown" if r.get("discarded", 0) is None
                    else ("  discarded %d" % r["discarded"]) if r.get("discarded") else "")
            L.append("  %-54s %3d  %-24s %-24s %-12s %-12s %s%s" % (
                label, th, fsp(r["median_ns"]), fsp(r["p99_ns"]),
                ("%.1fx" % rh) if rh else "-", ("%.1fx" % rc) if rc else "-", v, note))
    return L


E2E_LABELS = {"dasf": "dasf (BLOCK, level 1, fsync per chunk)",
              "dasf-fsync-at-end": "dasf (same, flush=false + 1 fsync at the end)",
              "dasf-copied-args": "dasf (same as first, copied names + 2 int args)",
              "dasf-w1": "dasf (first row, 1 compression worker)",
              "dasf-w2": "dasf (first row, 2 compression workers)",
              "dasf-copied-args-w1": "dasf (copied + 2 args, 1 compression worker)",
              "dasf-copied-args-w2": "dasf (copied + 2 args, 2 compression workers)",
              "lttng-blocking": "LTTng-UST blocking channel (until lttng stop)",
              "lttng-discard": "LTTng-UST discard channel (until lttng stop)"}


def e2e_section(s, lttng_reason):
    L = ["END-TO-END: record -> flusher -> zstd -> file, events/s until the last event "
         "is durable"]
    L.append("  %-54s %3s  %-30s %-10s %-9s %-8s %-22s %s" % (
        "implementation", "thr", "events/s", "lost", "read-back", "B/event",
        "flusher CPU ns/event", "vs goal"))
    for impl in E2E_LABELS:
        for th in (1, 2):
            if impl.startswith("lttng") and lttng_reason:
                if th == 1:
                    L.append("  %-54s %3s  unavailable: %s" % (E2E_LABELS[impl], "",
                                                               lttng_reason))
                continue
            r = find(s["e2e"], impl=impl, threads=th)
            if not r:
                continue
            v = ""
            if impl == "dasf" and th == 1:
                v = verdict(r["events_per_s"]["median"], GOALS["e2e_1t"], True)
                if r["lost"]:
                    v = "MISSED (lossy)"
                v += " (>= 12 M/s, 0 lost)"
            rb = "-" if r["read_back_ok"] is None else ("ok" if r["read_back_ok"] else "SHORT")
            L.append("  %-54s %3d  %-30s %-10s %-9s %-8s %-22s %s" % (
                "%s, %dM ev" % (E2E_LABELS[impl], r["events"] // 1000000), th,
                fsp(r["events_per_s"], "/s"),
                "unknown" if r["lost"] is None else str(r["lost"]), rb,
                fmt(r["bytes_per_event"]["median"]) if r["bytes_per_event"] else "-",
                fsp(r["flusher_cpu_ns"]) if r.get("flusher_cpu_ns") else "-", v))
    return L + floor_lines(s) + workers_lines(s) + [
        "  %-54s %3d  %-30s" % ("reader: dasf_trace_next over that archive", r["threads"],
                                fsp(r["events_per_s"], "/s")) for r in s["reader"]]


def workers_lines(s):
    """Compression workers: each N-worker row over the 0-worker row of the
    same repetition (2 recording threads)."""
    L = []
    for r in s.get("workers", []):
        v = r["vs_0_workers"]
        L.append("  %-54s %3d  %-30s" % (
            "  %s, %d worker%s / 0 workers (per run)" % (
                "interned" if r["impl"] == "dasf" else "copied + 2 args", r["workers"],
                "s" if r["workers"] > 1 else ""), r["threads"],
            "%.2fx [%.2f..%.2f]" % (v["median"], v["min"], v["max"])))
    return L


def floor_lines(s):
    """The codec floor of the end-to-end runs (bench/codec_floor.c) and each
    row's ratio to it."""
    L = []
    for impl in ("dasf", "dasf-copied-args"):
        r = find(s["e2e"], impl=impl, threads=1)
        if not r or not r.get("floor_events_per_s"):
            continue
        v = ""
        if impl == "dasf-copied-args":
            v = "%s (>= %gx floor)" % (verdict(r["vs_floor"]["median"], GOALS["e2e_vs_floor"],
                                               True), GOALS["e2e_vs_floor"])
        L.append("  %-54s %3d  %-30s" % (
            "codec floor: zstd L1 alone, %s chunks" % ("interned" if impl == "dasf"
                                                       else "copied + 2 args"),
            1, fsp(r["floor_events_per_s"], "/s")))
        L.append("  %-54s %3d  %-30s %s" % (
            "  that row's end-to-end / its floor (per run)", 1,
            "%.2fx [%.2f..%.2f]" % (r["vs_floor"]["median"], r["vs_floor"]["min"],
                                    r["vs_floor"]["max"]), v))
    return L


SIZE_FORMATS = [("dasf", 1, "dasf archive, zstd level 1 (default)"),
                ("dasf", 3, "dasf archive, zstd level 3"),
                ("dasf", 9, "dasf archive, zstd level 9"),
                ("dasf", 19, "dasf archive, zstd level 19"),
                ("dasf-legacy", 0, "dasf legacy layout (level 0, Python)"),
                ("lttng", None, "LTTng-UST CTF trace (du of trace dir)")]


def size_section(s, lttng_reason):
    L = ["SIZE ON DISK, bytes/event (same events for every format)"]
    L.append("  %-54s %-9s %-22s %-9s %s" % ("format", "workload", "B/event", "goal",
                                               "vs goal"))
    for wl in ("regular", "random"):
        g = GOALS["size_" + wl]
        for impl, level, label in SIZE_FORMATS:
            if impl == "lttng" and lttng_reason:
                L.append("  %-54s %-9s unavailable: %s" % (label, wl, lttng_reason))
                continue
            r = find(s["size"], impl=impl, workload=wl, level=level)
            if not r:
                continue
            bpe = r["bytes_per_event"]["median"]
            v = verdict(bpe, g) if (impl == "dasf" and level == 1) else ""
            note = ""
            if impl == "lttng" and r.get("counted") is not None:
                note = "  (babeltrace2 counted %d of %d)" % (r["counted"], r["events"])
            L.append("  %-54s %-9s %-22s %-9s %s%s" % (
                label, wl, fsp(r["bytes_per_event"]), ("<= %g" % g) if v else "", v, note))
    return L


def cli_section(s):
    if not s["cli"]:
        return []
    L = ["", "CLI (dasf-trace) on a %d-event archive, wall time" % s["cli"][0]["events"]]
    for r in s["cli"]:
        if not r["ok"]:
            L.append("  %-20s FAILED (exit %s): %s" % (r["verb"], r["status"], r["stderr"]))
            continue
        L.append("  %-20s %-28s %s" % (r["verb"], fsp(r["seconds"], "s"),
                                        fsp(r["events_per_s"], "/s")))
    return L


def codec_section(s):
    if not s["codec"]:
        return []
    L = ["", "CODEC alone (bench/bench_codec.c: encode + zstd of 5000-event chunks, "
         "median of its 5 runs [min])"]
    L.append("  %-16s %-6s %-10s %s" % ("workload", "level", "B/event", "encode ns/event"))
    for r in s["codec"]:
        L.append("  %-16s %-6s %-10s %s [%s]" % (
            r.get("workload"), r.get("level"), fmt(r.get("bytes_per_event")),
            fmt(r.get("ns_per_event_median")), fmt(r.get("ns_per_event_min"))))
    return L


def python_section(s, python_reason):
    if s.get("python"):
        return [""] + python_bench.table(s["python"]).splitlines()
    if python_reason:
        return ["", "PYTHON: not run (%s)" % python_reason]
    return []


def goals_section(s, lttng_reason):
    L = ["GOALS (1 recording thread unless said; medians of the repetitions)"]
    for label, value, goal, unit, hb in goal_rows(s, lttng_reason):
        if value is None:
            L.append("  %-58s %-14s %s" % (label, "-", "n/a"))
            continue
        L.append("  %-58s %-14s %-3s %-8s %s" % (label, fmt(value) + unit,
                                                 ">=" if hb else "<=", "%g%s" % (goal, unit),
                                                 verdict(value, goal, hb)))
    return L


def notes(env):
    return [
        "Notes: record runs use 16 MiB rings, BLOCK, level 1, commit_threshold 2^20 "
        "(the flusher drains at the untimed commit",
        "  between rounds of 128 x 1024 events/thread); LTTng: per-UID buffers, "
        "4 x 4 MiB sub-buffers, a 20 ms untimed pause between",
        "  rounds; end-to-end: 16 MiB rings, commit_threshold 65536, fsync per chunk, "
        "files on %s (a disk), page cache synced" % env.get("disk_dir", "?"),
        "  before each run; LTTng end-to-end stops the clock when `lttng stop` returns "
        "(trace written, not fsynced).  See docs/PERFORMANCE.md.",
    ]


def table(s, env, lttng_reason, reps, python_reason=""):
    """The whole table as one string (trailing blanks stripped from every line)."""
    L = (header(env, reps) + [""] + latency_section(s) + [""] + peers_section(s, lttng_reason)
         + [""] + e2e_section(s, lttng_reason) + burst_section(s) + [""]
         + size_section(s, lttng_reason)
         + cli_section(s) + codec_section(s) + python_section(s, python_reason)
         + [""] + goals_section(s, lttng_reason) + [""] + notes(env))
    return "\n".join(line.rstrip() for line in L)
