"""bench/runner.py — runs the benchmark programs of bench/ and collects what they
print: one JSON object per program run (tagged with the repetition and what was
run), kept in order in Runner.raw and appended to raw.jsonl as it comes.

The measurements themselves (which programs, which arguments, the interleaving
of ours and the peers within a repetition) are the methods latency(), e2e(),
size(), cli(), python() and codec(); run.py calls the ones --only names.  The
LTTng-UST peer runs inside a tracing session that this module creates and
destroys around each program run (on the private session daemon run.sh
started).  A failed program is recorded in Runner.failures and its rows are
missing; the other runs go on.  environment() describes the machine for the
table's header.
"""

import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time


def log(msg):
    print(msg, file=sys.stderr, flush=True)


class Runner:
    def __init__(self, args):
        self.a = args
        self.raw = []
        self.rawf = open(os.path.join(args.out, "raw.jsonl"), "w")
        self.logf = open(os.path.join(args.out, "run.log"), "a")
        self.session_no = 0
        self.failures = []
        self.lttng_reason = args.no_lttng
        if not self.lttng_reason and not os.path.exists(self.bin("dasf-bench-lttng")):
            self.lttng_reason = "not built (lttng-ust not found)"
        self.python_reason = ""
        self.shm = tempfile.mkdtemp(prefix="dasf-bench-", dir="/dev/shm"
                                    if os.path.isdir("/dev/shm") else None)
        self.disk = tempfile.mkdtemp(prefix="dasf-bench-", dir=args.disk_dir)

    def bin(self, name):
        return os.path.join(self.a.bin, name)

    def cleanup(self):
        shutil.rmtree(self.shm, ignore_errors=True)
        shutil.rmtree(self.disk, ignore_errors=True)

    # ---- running programs ------------------------------------------------
    def run(self, argv, env=None, tag=None, check=True, keep=True):
        """Runs one bench program; returns its JSON objects (tagged).  With
        keep=False the caller completes them and passes them to add()."""
        e = dict(os.environ)
        if env:
            e.update(env)
        self.logf.write("$ %s\n" % " ".join(argv))
        self.logf.flush()
        p = subprocess.run(argv, env=e, stdout=subprocess.PIPE, stderr=self.logf,
                           text=True)
        out = []
        for line in p.stdout.splitlines():
            line = line.strip()
            if not line.startswith("{"):
                continue
            obj = json.loads(line)
            if tag:
                obj.update(tag)
            out.append(obj)
            if keep:
                self.add(obj)
        if check and p.returncode != 0:
            # One failed program is a failed row, not a failed suite.
            why = ("killed by signal %d" % -p.returncode if p.returncode < 0
                   else "exit status %d" % p.returncode)
            self.failures.append("%s: %s (see run.log)" % (
                " ".join(os.path.basename(x) if i == 0 else x
                         for i, x in enumerate(argv[:8])), why))
            log("bench: FAILED: %s" % self.failures[-1])
        return out

    def add(self, obj):
        self.raw.append(obj)
        self.rawf.write(json.dumps(obj) + "\n")
        self.rawf.flush()

    # ---- LTTng sessions --------------------------------------------------
    def lttng(self, *args, check=True):
        self.logf.write("$ lttng %s\n" % " ".join(args))
        p = subprocess.run(["lttng"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.logf.write(p.stdout)
        self.logf.flush()
        if check and p.returncode != 0:
            raise RuntimeError("lttng %s failed: %s" % (" ".join(args), p.stdout.strip()))
        return p.stdout

    def lttng_session(self, mode, outdir):
        """Creates and starts a userspace session; returns its name."""
        self.session_no += 1
        name = "dasfbench-%d-%d" % (os.getpid(), self.session_no)
        self.lttng("create", name, "--output=" + outdir)
        ch = ["enable-channel", "--userspace", "--session=" + name,
              "--subbuf-size=4M", "--num-subbuf=4"]
        if mode == "blocking":
            ch.append("--blocking-timeout=inf")
        self.lttng(*(ch + ["ch"]))
        self.lttng("enable-event", "--userspace", "--session=" + name, "--channel=ch",
                   "dasf_bench:*")
        self.lttng("start", name)
        return name

    def lttng_finish(self, name, stopped):
        """Stops (unless already stopped), reads the discarded count, destroys."""
        if not stopped:
            self.lttng("stop", name)
        discarded = lttng_discarded(self.lttng("list", name))
        self.lttng("destroy", name)
        return discarded

    def lttng_env(self, mode):
        return {"LTTNG_UST_ALLOW_BLOCKING": "1"} if mode == "blocking" else {}

    def run_lttng(self, mode, argv, tag, stop_inside):
        outdir = os.path.join(self.disk if tag.get("bench") == "e2e" else self.shm,
                              "lttng-%d" % (self.session_no + 1))
        name = self.lttng_session(mode, outdir)
        try:
            if stop_inside:
                argv = argv + ["--stop-cmd", "lttng stop %s >/dev/null" % name]
            res = self.run(argv, env=self.lttng_env(mode), tag=tag, keep=False)
        finally:
            discarded = self.lttng_finish(name, stopped=stop_inside)
        for r in res:
            # A channel cannot discard more events than the run recorded: a
            # larger figure is not a count (see lttng_discarded): unknown.
            known = discarded is not None and discarded <= r["events"]
            if not known:
                self.logf.write("lttng: discarded count %r of a %d-event run: unknown\n"
                                % (discarded, r["events"]))
            r["discarded"] = discarded if known else None
        return res, outdir

    # ---- the benchmarks --------------------------------------------------
    def latency(self):
        reps, q = self.a.reps, self.a.quick
        rounds = ["--rounds", "4" if q else "16", "--batches", "128"]
        paths = ["h", "zone", "now", "now_ns", "args", "copied"]
        for rep in range(1, reps + 1):
            log("latency: repetition %d/%d" % (rep, reps))
            self.run([self.bin("dasf-bench"), "clock"], tag={"rep": rep})
            for th in (1, 2):
                tag = {"rep": rep}
                for path in paths:
                    self.run([self.bin("dasf-bench"), "record", "--path", path, "--threads",
                              str(th), "--dir", self.shm] + rounds, tag=tag)
                # the same fast path with the flusher draining concurrently
                self.run([self.bin("dasf-bench"), "record", "--path", "h", "--threshold",
                          "65536", "--threads", str(th), "--dir", self.shm] + rounds, tag=tag)
                # and with the ring in anonymous memory: the shared mapping's cost
                self.run([self.bin("dasf-bench"), "record", "--path", "h", "--shm", "off",
                          "--threads", str(th), "--dir", self.shm] + rounds, tag=tag)
                if not self.lttng_reason:
                    for mode in ("discard", "blocking"):
                        label = "lttng-" + mode
                        res, outdir = self.run_lttng(
                            mode, [self.bin("dasf-bench-lttng"), "latency", "--threads",
                                   str(th), "--label", label] + rounds,
                            {"bench": "record", "rep": rep, "threads": th, "impl": label},
                            stop_inside=False)
                        for r in res:
                            self.add(r)
                        shutil.rmtree(outdir, ignore_errors=True)
                self.run([self.bin("dasf-bench-mutex"), "latency", "--threads", str(th)]
                         + rounds, tag=tag)

    def e2e(self):
        reps = self.a.reps
        n1 = 2000000 if self.a.quick else self.a.e2e_events
        for rep in range(1, reps + 1):
            log("end-to-end: repetition %d/%d" % (rep, reps))
            for th in (1, 2):
                tag = {"rep": rep}
                # Every end-to-end run starts with no dirty pages of a previous
                # run still being written back (LTTng's traces are ~0.9 GB).
                os.sync()
                self.run([self.bin("dasf-bench"), "e2e", "--threads", str(th), "--events",
                          str(n1), "--dir", self.disk], tag=tag)
                if th == 1:
                    os.sync()
                    self.run([self.bin("dasf-bench"), "e2e", "--threads", "1", "--events",
                              str(n1), "--dir", self.disk, "--flush", "0"], tag=tag)
                    # the same events with copied names + 2 int args
                    os.sync()
                    self.run([self.bin("dasf-bench"), "e2e", "--threads", "1", "--events",
                              str(n1), "--dir", self.disk, "--copied", "1"], tag=tag)
                else:
                    # compression workers (issue 14): the same 2 threads with 1 and
                    # 2 workers, interned names (the run above is 0 workers) and
                    # copied names + 2 int args (0, 1, 2 workers)
                    for copied, workers in (("0", 1), ("0", 2), ("1", 0), ("1", 1), ("1", 2)):
                        os.sync()
                        self.run([self.bin("dasf-bench"), "e2e", "--threads", "2", "--events",
                                  str(n1), "--dir", self.disk, "--copied", copied,
                                  "--workers", str(workers), "--floor", "0"], tag=tag)
                if not self.lttng_reason:
                    for mode in ("blocking", "discard"):
                        label = "lttng-" + mode
                        res, outdir = self.run_lttng(
                            mode, [self.bin("dasf-bench-lttng"), "e2e", "--threads", str(th),
                                   "--events", str(n1), "--label", label],
                            {"bench": "e2e", "rep": rep, "threads": th, "impl": label},
                            stop_inside=True)
                        # babeltrace2 reads ~2 M events/s here: count once per row
                        counted = count_ctf_events(outdir) if rep == 1 else None
                        for r in res:
                            r["trace_bytes"] = dir_bytes(outdir)
                            r["counted"] = counted
                            self.add(r)
                        shutil.rmtree(outdir, ignore_errors=True)
                        os.sync()

    def burst(self):
        """Issue 14: the everyday call over a burst longer than a ring (2 M
        events) against the same call with room in the ring, on tmpfs."""
        n = 200000 if self.a.quick else 2000000
        for rep in range(1, self.a.reps + 1):
            log("burst: repetition %d/%d" % (rep, self.a.reps))
            self.run([self.bin("dasf-bench"), "burst", "--events", str(n), "--dir", self.shm],
                     tag={"rep": rep})

    def flight(self):
        """Issue 12: the flight recorder's record cost against the bare ring
        store and the BLOCK policy, all in one run (bench/bench_flight.c
        reports its own medians over its repetitions)."""
        reps = 3 if self.a.quick else 9
        log("flight: %d repetitions" % reps)
        self.run([self.bin("dasf-bench"), "flight", "--reps", str(reps), "--dir", self.shm])

    def size(self):
        n = 50000 if self.a.quick else self.a.size_events
        reps = self.a.size_reps
        for rep in range(1, reps + 1):
            log("size: repetition %d/%d" % (rep, reps))
            for wl in ("regular", "random"):
                for level in (1, 3, 9, 19, 0):
                    # caller-ns times (as LTTng's integer timestamps): the goal's
                    # setting; --clock double|tsc are measured by hand (FORMAT.md)
                    self.run([self.bin("dasf-bench"), "size", "--workload", wl, "--level",
                              str(level), "--events", str(n), "--dir", self.shm,
                              "--clock", "ns"],
                             tag={"rep": rep})
                if not self.lttng_reason:
                    res, outdir = self.run_lttng(
                        "blocking", [self.bin("dasf-bench-lttng"), "size", "--workload", wl,
                                     "--events", str(n)],
                        {"bench": "size", "rep": rep, "workload": wl, "impl": "lttng"},
                        stop_inside=True)
                    nbytes = dir_bytes(outdir)
                    counted = count_ctf_events(outdir) if rep == 1 else None
                    for r in res:
                        r["file_bytes"] = nbytes
                        r["bytes_per_event"] = nbytes / n
                        r["counted"] = counted
                        self.add(r)
                    shutil.rmtree(outdir, ignore_errors=True)

    def cli(self):
        cli = self.a.cli
        if not cli or not os.path.exists(cli):
            log("cli: dasf-trace not built, skipped")
            return
        n = 200000 if self.a.quick else self.a.cli_events
        arch = os.path.join(self.shm, "cli.msgpack.zst")
        self.run([self.bin("dasf-bench"), "size", "--workload", "regular", "--level", "1",
                  "--events", str(n), "--out", arch], tag={"purpose": "cli-input"})
        outdir = os.path.join(self.shm, "cli-out")
        os.makedirs(outdir, exist_ok=True)
        verbs = [
            ("info", [cli, "info", arch]),
            ("stats", [cli, "stats", arch]),
            ("cat", [cli, "cat", arch]),
            ("export --chrome", [cli, "export", "--chrome", "-o",
                                 os.path.join(outdir, "trace.json"), arch]),
            ("timeline", [cli, "timeline", "-o", os.path.join(outdir, "trace.svg"), arch]),
        ]
        for rep in range(1, self.a.cli_reps + 1):
            log("cli: repetition %d/%d" % (rep, self.a.cli_reps))
            for verb, argv in verbs:
                t0 = time.monotonic()
                with open(os.devnull, "w") as devnull:
                    p = subprocess.run(argv, stdout=devnull, stderr=subprocess.PIPE,
                                       text=True, cwd=outdir)
                dt = time.monotonic() - t0
                self.add({"bench": "cli", "verb": verb, "rep": rep, "events": n,
                          "seconds": dt, "status": p.returncode,
                          "stderr": p.stderr.strip()[:200]})
                for f in os.listdir(outdir):
                    os.unlink(os.path.join(outdir, f))

    def python(self):
        """bench/python_bench.py: dasf_profiler against the original module (issue 9)."""
        if not self.a.python_site:
            self.python_reason = "dasf_profiler not installed for the bench (see run.sh)"
            return
        if not self.a.peers or not os.path.isfile(os.path.join(self.a.peers, "profiler.py")):
            self.python_reason = "the original module (../shared/peers/dasf) is absent"
        log("python: dasf_profiler vs dasf.profile.profiler")
        argv = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "python_bench.py"),
                "--reps", str(self.a.reps), "--batches", "8" if self.a.quick else "20"]
        if self.a.peers:
            argv += ["--peers", self.a.peers]
        path = os.environ.get("PYTHONPATH")
        self.run(argv, env={"PYTHONPATH": self.a.python_site + (":" + path if path else "")})

    def codec(self):
        """bench_codec.c (the format helper's): medians of its own 5 runs."""
        prog = self.bin("dasf-bench-codec")
        if not os.path.exists(prog):
            return
        log("codec: dasf-bench-codec")
        self.run([prog], tag={"rep": 1})


def lttng_discarded(listing):
    """The discarded events plus lost packets that `lttng list SESSION`
    reports for the session's channels, or None (unknown) when one of those
    values is not a plain decimal count.  lttng-tools 2.13.9 once printed
    "Discarded events: 9223372036854845386" (2**63 + 69578) for a per-user
    discard channel of a 2 M-event run, which is no count; run_lttng also
    treats a sum above the run's events as unknown."""
    total = 0
    for line in listing.splitlines():
        s = line.strip()
        for key in ("Discarded events:", "Lost packets:"):
            if s.startswith(key):
                v = s[len(key):].strip()
                if not v.isdigit() or not v.isascii():
                    return None
                total += int(v)
    return total


def dir_bytes(d):
    total = 0
    for root, _, files in os.walk(d):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    return total


def count_ctf_events(d):
    """Events in a CTF trace, counted by babeltrace2's counter sink (None when
    babeltrace2 is not installed or cannot read the trace)."""
    tool = shutil.which("babeltrace2")
    if not tool:
        return None
    p = subprocess.run([tool, d, "--component=sink.utils.counter", "--params=step=+0"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if p.returncode != 0:
        return None
    n = None
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1:] == ["Event", "messages"]:
            n = int(parts[0])  # the last report is the total
    return n


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def environment():
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    cpu = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], stdout=subprocess.PIPE, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("Hypervisor vendor:"):
                env["hypervisor"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    env["cpu"] = cpu
    env["cpus"] = os.cpu_count()
    try:
        with open("/sys/devices/system/clocksource/clocksource0/current_clocksource") as f:
            env["clocksource"] = f.read().strip()
    except OSError:
        env["clocksource"] = "?"
    env["kernel"] = platform.release()
    env["loadavg_start"] = loadavg()
    for tool in ("lttng", "gcc", "cc"):
        if shutil.which(tool):
            try:
                v = subprocess.run([tool, "--version"], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True).stdout
                env[tool + "_version"] = v.splitlines()[0] if v else "?"
            except OSError:
                pass
    return env
