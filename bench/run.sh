#!/usr/bin/env bash
# bench/run.sh — what `./build.sh bench` runs: installs the peers (LTTng-UST,
# lttng-tools, babeltrace2) when missing, builds bench/ in Release (-O2) in
# build/bench, starts a private lttng-sessiond for the run (userspace only,
# current user, its own LTTNG_HOME; stopped by its pid on exit), then runs
# bench/run.py, which runs every benchmark, prints one summary table and
# writes JSON under results/<UTC timestamp>/.
#
# Extra arguments go to bench/run.py (e.g. --quick, --reps 7).
# If LTTng cannot run, its rows say why and everything else still runs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build/bench"
OUT="$ROOT/results/$(date -u +%Y%m%dT%H%M%SZ)"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
mkdir -p "$OUT"

say() { printf 'bench: %s\n' "$*" >&2; }

# ---- 1. the peers' packages -----------------------------------------------------
need=()
pkg-config --exists lttng-ust 2>/dev/null || need+=(liblttng-ust-dev)
command -v lttng-sessiond >/dev/null 2>&1 || need+=(lttng-tools)
command -v babeltrace2 >/dev/null 2>&1 || need+=(babeltrace2)
if [ ${#need[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="none"; fi
    fi
    if [ "$SUDO" = "none" ]; then
        say "not root and no sudo: cannot install ${need[*]} (peer rows may be unavailable)"
    else
        say "installing ${need[*]}"
        if ! { $SUDO apt-get update -qq && \
               DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"; } \
               >"$OUT/apt.log" 2>&1; then
            say "apt-get failed (see $OUT/apt.log); going on without what is missing"
        fi
    fi
fi

# ---- 2. build -------------------------------------------------------------------
say "building bench/ (Release, -O2) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" \
      -DBUILD_TESTING=OFF -DDASF_BUILD_EXAMPLES=OFF >"$OUT/build.log" 2>&1 \
    || { say "cmake configure failed:"; tail -30 "$OUT/build.log" >&2; exit 1; }
cmake --build "$BUILD" -j2 >>"$OUT/build.log" 2>&1 \
    || { say "build failed:"; tail -30 "$OUT/build.log" >&2; exit 1; }

# ---- 2b. the Python package, linked with this build's libdasf-profiler.a ----------------
# (the same sources as a `pip install ./python`, in the bench's Release build)
PYSITE="$BUILD/python/site"
PEERS="$ROOT/../shared/peers/dasf"
rm -rf "$PYSITE"
if DASF_PROFILER_STATIC_LIB="$BUILD/libdasf-profiler.a" DASF_PROFILER_BUILD_DIR="$BUILD/python/build" \
    "$PY" -m pip install --no-build-isolation --no-deps --no-index --disable-pip-version-check \
    --root-user-action=ignore -q --target "$PYSITE" "$ROOT/python" >>"$OUT/build.log" 2>&1; then
    say "dasf_profiler installed for the bench in $PYSITE"
else
    say "pip install of python/ failed (see $OUT/build.log): the Python rows will say so"
    PYSITE=""
fi

# ---- 3. a private lttng-sessiond ----------------------------------------------------
SESSIOND_PID=""
LTTNG_HOME_DIR=""
NO_LTTNG=""
stop_sessiond() {
    if [ -n "$SESSIOND_PID" ] && kill -0 "$SESSIOND_PID" 2>/dev/null; then
        kill -TERM "$SESSIOND_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SESSIOND_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$SESSIOND_PID" 2>/dev/null && kill -KILL "$SESSIOND_PID" 2>/dev/null || true
        wait "$SESSIOND_PID" 2>/dev/null || true
    fi
    SESSIOND_PID=""
    if [ -n "$LTTNG_HOME_DIR" ]; then rm -rf "$LTTNG_HOME_DIR"; fi
    LTTNG_HOME_DIR=""
    return 0
}
trap stop_sessiond EXIT
trap 'stop_sessiond; exit 130' INT TERM

if [ ! -x "$BUILD/bench/dasf-bench-lttng" ]; then
    NO_LTTNG="LTTng-UST development files not found at build time"
elif ! command -v lttng-sessiond >/dev/null 2>&1 || ! command -v lttng >/dev/null 2>&1; then
    NO_LTTNG="lttng-tools not installed"
else
    LTTNG_HOME_DIR=$(mktemp -d /tmp/dasf-bench-lttng-home.XXXXXX)
    export LTTNG_HOME="$LTTNG_HOME_DIR"
    if lttng list >/dev/null 2>&1; then
        # root's session daemon lives at fixed paths: never start a second one
        # over somebody else's; ours would fail anyway.
        NO_LTTNG="a session daemon is already running for this user; not touching it"
    else
        lttng-sessiond --no-kernel >"$OUT/sessiond.log" 2>&1 &
        SESSIOND_PID=$!
        for _ in $(seq 100); do
            lttng list >/dev/null 2>&1 && break
            kill -0 "$SESSIOND_PID" 2>/dev/null || break
            sleep 0.1
        done
        if ! lttng list >/dev/null 2>&1; then
            NO_LTTNG="lttng-sessiond did not start (see $OUT/sessiond.log)"
            stop_sessiond
        else
            say "lttng-sessiond started, pid $SESSIOND_PID (LTTNG_HOME=$LTTNG_HOME)"
        fi
    fi
fi

# ---- 4. run everything ----------------------------------------------------------------
args=(--bin "$BUILD/bench" --out "$OUT" --python-site "$PYSITE")
if [ -f "$PEERS/profiler.py" ]; then args+=(--peers "$(cd "$PEERS" && pwd)"); fi
if [ -x "$BUILD/tools/dasf-trace" ]; then args+=(--cli "$BUILD/tools/dasf-trace"); fi
if [ -n "$NO_LTTNG" ]; then args+=(--no-lttng "$NO_LTTNG"); fi
status=0
"$PY" "$ROOT/bench/run.py" "${args[@]}" "$@" || status=$?
# Function tracing (docs/RECORD.md): dasf-trace record vs uftrace record vs the
# uninstrumented build, same run; uftrace comes from Debian (PKGS_BENCH).
if [ -x "$BUILD/tools/dasf-trace" ]; then
    rb=(--tool "$BUILD/tools/dasf-trace" --out "$OUT")
    case " $* " in *" --quick "*) rb+=(--quick) ;; esac
    "$PY" "$ROOT/bench/record_bench.py" "${rb[@]}" || status=$?
fi
# merge at 4/16/64 rank files (docs/MPI.md "Scale"), and the MPI wrappers' cost
# per call vs the uninstrumented call, same run (only when MPI was found).
quick=(); case " $* " in *" --quick "*) quick=(--quick) ;; esac
if [ -x "$BUILD/bench/dasf-bench-merge-gen" ] && [ -x "$BUILD/tools/dasf-trace" ]; then
    "$PY" "$ROOT/bench/merge_scale.py" --gen "$BUILD/bench/dasf-bench-merge-gen" \
        --tool "$BUILD/tools/dasf-trace" --out "$OUT" "${quick[@]}" || status=$?
fi
if [ -x "$BUILD/bench/dasf-bench-mpi-overhead" ] && [ -f "$BUILD/mpi/libdasf-profiler-mpi.so" ]; then
    "$PY" "$ROOT/bench/mpi_overhead.py" --bin "$BUILD/bench/dasf-bench-mpi-overhead" \
        --lib "$BUILD/mpi/libdasf-profiler-mpi.so" --out "$OUT" "${quick[@]}" || status=$?
else
    say "MPI not found at build time: no mpi_overhead rows"
fi
exit $status
