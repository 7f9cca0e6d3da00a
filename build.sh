#!/usr/bin/env bash
# build.sh — the one entry point: install what is missing, configure, build, run.
#
#   ./build.sh demo            build Release, trace the stencil example and (with
#                              dasf-trace record) an unmodified one, show the traces
#   ./build.sh test [PRESET]   build and run every test (ctest); PRESET defaults to
#                              $DASF_PRESET or "debug" (release|debug|asan|tsan|clang)
#   ./build.sh build [PRESET]  configure and build only
#   ./build.sh bench           run the benchmark suite (bench/run.sh)
#   ./build.sh fuzz [SECONDS]  run each libFuzzer target (tests/fuzz/) for SECONDS
#                              (default 60) under ASan+UBSan; exit 1 on any finding
#   ./build.sh help            this text
#
# Debian packages are installed only when dpkg says they are missing (apt-get update
# first, sudo when not root).  Build trees live in build/<preset>/ (git-ignored).
set -euo pipefail
shopt -s inherit_errexit # a failing step inside $(...) fails the command too

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
JOBS="${DASF_JOBS:-$(nproc)}"
PRESETS="release debug asan tsan clang"

# Packages every build needs, then what each mode adds.
PKGS_BUILD="build-essential cmake pkg-config liburcu-dev libzstd-dev libmsgpack-dev libjansson-dev zlib1g-dev libdeflate-dev zstd libdw-dev"
PKGS_TEST="libcriterion-dev python3 python3-msgpack python3-lxml python3-portalocker protobuf-compiler python3-protobuf
libopenmpi-dev openmpi-bin gfortran"
# g++ and clang (clang++) compile the C++ header tests; gfortran (above) the Fortran module.
PKGS_TEST="$PKGS_TEST g++ clang"
PKGS_BENCH="liblttng-ust-dev lttng-tools uftrace"
# The Python package (python/) and its tests: build deps, then what the suite imports.
PKGS_PY="python3-dev python3-setuptools python3-pip python3-wheel python3-pytest python3-pandas
python3-distributed python3-msgpack python3-portalocker"

die() { echo "build.sh: $*" >&2; exit 2; }
say() { printf '\n== %s\n' "$*"; }

usage() {
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
}

# need_packages PKG... : apt-get install the ones dpkg does not report as installed.
need_packages() {
    local missing=() p
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing packages (${missing[*]}) and no sudo to install them"
        sudo=(sudo)
    fi
    say "installing ${missing[*]}"
    # Wait for another apt/dpkg run instead of failing at once (parallel builds).
    local lock=(-o DPkg::Lock::Timeout=600)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "${lock[@]}" update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}"
}

check_preset() {
    local p
    for p in $PRESETS; do [ "$1" = "$p" ] && return 0; done
    die "unknown preset '$1' (one of: $PRESETS)"
}

# configure_build PRESET [extra cmake -D...] : cmake --preset, then build everything.
configure_build() {
    local preset="$1"; shift
    say "configure ($preset)"
    cmake --preset "$preset" "$@" >/dev/null
    say "build ($preset, -j$JOBS)"
    cmake --build --preset "$preset" -j "$JOBS"
}

# ThreadSanitizer maps its shadow memory at fixed addresses; with high ASLR
# entropy (vm.mmap_rnd_bits > 28 on some Debian 12 kernels) a TSan binary dies
# at start with "FATAL: ThreadSanitizer: unexpected memory mapping".  When a
# probe shows that, the tests run with ASLR off for the process tree
# (setarch -R), which changes nothing else.
tsan_wrapper() {
    local probe="build/tsan/tsan-probe"
    printf 'int main(void) { return 0; }\n' | cc -fsanitize=thread -x c - -o "$probe"
    if ! "$probe" >/dev/null 2>"$probe.err"; then
        if grep -q 'unexpected memory mapping' "$probe.err"; then
            echo "setarch $(uname -m) -R"
            return 0
        fi
        cat "$probe.err" >&2
        die "a trivial ThreadSanitizer program does not run here"
    fi
}

# cmd_build [PRESET [extra cmake -D...]]
cmd_build() {
    local preset="${1:-${DASF_PRESET:-debug}}"
    [ $# -gt 0 ] && shift
    check_preset "$preset"
    need_packages $PKGS_BUILD $PKGS_TEST
    [ "$preset" = clang ] && need_packages clang
    configure_build "$preset" "$@"
}

# Criterion's runner cannot start under TSan without help (Criterion issue
# #274): .ci/criterion-tsan-preload.c explains; it is preloaded into the tests.
tsan_preload() {
    local so="build/tsan/criterion-tsan-preload.so"
    cc -shared -fPIC -O2 -Wall -Wextra -Werror -o "$so" .ci/criterion-tsan-preload.c -ldl
    echo "$ROOT/$so"
}

cmd_test() {
    local preset="${1:-${DASF_PRESET:-debug}}"
    # The tests are always built here, whatever the preset's BUILD_TESTING
    # (release turns it off so that installing needs no test tools).
    cmd_build "$preset" -DBUILD_TESTING=ON
    local wrap=""
    if [ "$preset" = tsan ]; then
        wrap="$(tsan_wrapper)"
        [ -n "$wrap" ] && echo "(TSan: running tests under '$wrap' — see docs/BUILD.md)"
        LD_PRELOAD="$(tsan_preload)${LD_PRELOAD:+:$LD_PRELOAD}"
        export LD_PRELOAD
    fi
    say "test ($preset)"
    # The test preset carries the sanitizer options (CMakePresets.json).
    $wrap ctest --preset "$preset" -j "$JOBS"
    python_test "$preset"
}

# python_test PRESET : pip-installs python/ (the dasf_profiler package) into a private
# user site under build/PRESET/python/ and runs its pytest suite (docs/PYTHON.md).
# The install is the documented `pip install --no-build-isolation ./python` (runtime
# sources compiled into the extension), except under ASan, where the extension links the
# preset's own sanitized libdasf-profiler.a and Python runs with libasan preloaded.  TSan
# is left out: an uninstrumented interpreter under a preloaded TSan is not a usable signal.
python_test() {
    local preset="$1"
    if [ "$preset" = tsan ]; then
        echo "(python: not run under TSan — see docs/PYTHON.md)"
        return 0
    fi
    need_packages $PKGS_PY
    local py=/usr/bin/python3 base="$ROOT/build/$preset/python"
    local user="$base/user"
    # A user site that this interpreter processes at start-up (so the package's .pth
    # start-up hook is tested as users get it); --target bypasses Debian's PEP 668
    # refusal, which is about the system's site-packages, not this private directory.
    local site
    site="$(PYTHONUSERBASE="$user" "$py" -c 'import site; print(site.getusersitepackages())')"
    rm -rf "$site"
    local -a envs=(PYTHONUSERBASE="$user" DASF_PROFILER_BUILD_DIR="$base/build"
                   PYTHONDONTWRITEBYTECODE=1 DASF_SOURCE_DIR="$ROOT")
    local preload=""
    if [ "$preset" = asan ]; then
        envs+=(DASF_PROFILER_SANITIZE=address
               DASF_PROFILER_STATIC_LIB="$ROOT/build/asan/libdasf-profiler.a")
    fi
    say "python: pip install --no-build-isolation ./python ($preset)"
    env "${envs[@]}" "$py" -m pip install --no-build-isolation --no-deps --no-index \
        --disable-pip-version-check --root-user-action=ignore -q --target "$site" ./python
    if [ "$preset" = asan ]; then
        # Python itself is not instrumented: ASan's runtime must be loaded first; the
        # interpreter's own allocations at exit are not leaks of ours (detect_leaks=0).
        preload="$(cc -print-file-name=libasan.so)"
        envs+=(LD_PRELOAD="$preload${LD_PRELOAD:+:$LD_PRELOAD}"
               ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=1"
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    fi
    say "python: pytest python/tests ($preset)"
    local rc=0
    env "${envs[@]}" "$py" -m pytest -q -p no:cacheprovider python/tests || rc=$?
    # pytest: 0 all passed; 1 some failed; 2 interrupted; 3 internal error; 4 usage
    # error; 5 no tests collected -- every non-zero status is a failure here.
    case $rc in
    0) ;;
    5) die "python: pytest collected no tests (status 5)" ;;
    *) die "python: pytest failed (status $rc)" ;;
    esac
}

cmd_demo() {
    need_packages $PKGS_BUILD
    say "configure (demo: Release)"
    cmake --preset demo >/dev/null
    say "build (stencil and instrumented examples, dasf-trace, the preload library)"
    cmake --build --preset demo -j "$JOBS" --target stencil instrumented dasf-trace dasf_preload
    local out="$ROOT/demo-out" bin="$ROOT/build/demo"
    local trace="$out/stencil.msgpack.zst" tool="$bin/tools/dasf-trace"
    mkdir -p "$out"
    rm -f "$trace"
    say "run: 2-D Jacobi stencil, 4 threads, traced into $trace"
    "$bin/examples/stencil" -t 4 -o "$trace"
    say "dasf-trace info"
    "$tool" info "$trace"
    say "dasf-trace stats --top 15"
    "$tool" stats --top 15 "$trace"
    say "dasf-trace export --chrome / --perfetto / timeline"
    "$tool" export --chrome -o "$out/stencil.json" "$trace"
    "$tool" export --perfetto -o "$out/stencil.pftrace" "$trace"
    "$tool" timeline -o "$out/stencil.svg" "$trace"
    # A program that does not call the library, built with -finstrument-functions:
    # traced unchanged, its functions named when the trace is read.
    local rtrace="$out/instrumented.msgpack.zst"
    rm -f "$rtrace"
    say "dasf-trace record: an unmodified -finstrument-functions program"
    "$tool" record -o "$rtrace" -- "$bin/examples/instrumented"
    say "dasf-trace stats --top 8 (function names resolved from the binary at read time)"
    "$tool" stats --top 8 "$rtrace"
    cat <<MSG

Demo done.  Files:
  trace archive   $trace
  Chrome JSON     $out/stencil.json
  Perfetto trace  $out/stencil.pftrace
  SVG timeline    $out/stencil.svg
  recorded trace  $rtrace   (dasf-trace record, docs/RECORD.md)

Open the .pftrace in https://ui.perfetto.dev (Open trace file): Perfetto's
native format, about 10x smaller than the JSON.  The JSON opens there too and
in chrome://tracing; open the SVG in any web browser.  Look closer with:
  $tool cat --name 'halo*' $trace | head
  $tool stats --by thread $trace
  $tool stats --include quicksort --by thread $rtrace
MSG
}

cmd_bench() {
    [ -x bench/run.sh ] || [ -f bench/run.sh ] ||
        die "bench/run.sh does not exist yet: the benchmark suite is not in this checkout"
    need_packages $PKGS_BUILD $PKGS_PY
    # The LTTng-UST peer is optional: without it the table says so in its rows.
    need_packages $PKGS_BENCH ||
        echo "build.sh: could not install $PKGS_BENCH; the LTTng rows will say unavailable" >&2
    exec bash bench/run.sh "$@"
}

# ./build.sh fuzz [SECONDS]: the libFuzzer targets of tests/fuzz/ (clang,
# ASan+UBSan: the fuzz preset), one at a time, each for SECONDS.  Seeds are
# made fresh (dasf-fuzz-seeds, with the repro inputs of tests/data/repro) and
# merged with the corpus each target grew in earlier runs (build/fuzz/corpus/,
# kept) and tests/fuzz/regress/.  Findings (crash-*, leak-*, timeout-*, oom-*)
# go to build/fuzz/findings/; docs/BUILD.md says what to do with one.
FUZZ_TARGETS="${DASF_FUZZ_TARGETS:-reader chunk encoder}" # a subset: DASF_FUZZ_TARGETS="chunk"
cmd_fuzz() {
    local secs="${1:-60}"
    [[ "$secs" =~ ^[0-9]+$ ]] && [ "$secs" -gt 0 ] || die "fuzz wants a number of seconds, got '$secs'"
    need_packages $PKGS_BUILD $PKGS_TEST clang libclang-rt-14-dev
    configure_build fuzz
    local bin="build/fuzz/tests/fuzz" work="build/fuzz" t rc status=0
    rm -rf "$work/seeds"
    mkdir -p "$work/findings"
    "$bin/dasf-fuzz-seeds" "$work/seeds" tests/data/repro/*.zst tests/data/repro/*.msgpack
    local summary=""
    for t in $FUZZ_TARGETS; do
        mkdir -p "$work/corpus/$t"
        local maxlen=65536
        [ "$t" = encoder ] && maxlen=4096
        say "fuzz_$t for ${secs}s"
        rc=0
        ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1" \
        UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
            "$bin/fuzz_$t" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 \
            -timeout=25 -max_len="$maxlen" -dict=tests/fuzz/dasf.dict -print_final_stats=1 \
            -artifact_prefix="$work/findings/$t-" \
            "$work/corpus/$t" "$work/seeds/$t" "tests/fuzz/regress/$t" 2>"$work/fuzz_$t.log" || rc=$?
        local done_line execs
        done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/fuzz_$t.log" | tail -n1 || true)"
        execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz_$t.log" | tail -n1)"
        tail -n 5 "$work/fuzz_$t.log"
        if [ $rc -ne 0 ]; then
            status=1
            grep -E 'ERROR|SUMMARY|runtime error|contract violated|Test unit written' \
                "$work/fuzz_$t.log" | head -n 20 >&2 || true
        fi
        summary+="$(printf '  fuzz_%-8s %-8s %10s execs   %s' "$t" \
            "$([ $rc -eq 0 ] && echo ok || echo "FOUND($rc)")" "${execs:-?}" \
            "$(echo "$done_line" | grep -oE 'cov: [0-9]+ ft: [0-9]+' || true)")"$'\n'
    done
    say "fuzz summary (${secs}s each; logs in $work/fuzz_*.log, findings in $work/findings/)"
    printf '%s' "$summary"
    return $status
}

mode="${1:-help}"
[ $# -gt 0 ] && shift
case "$mode" in
demo) [ $# -eq 0 ] || die "demo takes no arguments"; cmd_demo ;;
test) [ $# -le 1 ] || die "usage: ./build.sh test [PRESET]"; cmd_test "$@" ;;
build) [ $# -le 1 ] || die "usage: ./build.sh build [PRESET]"; cmd_build "$@" ;;
bench) cmd_bench "$@" ;;
fuzz) [ $# -le 1 ] || die "usage: ./build.sh fuzz [SECONDS]"; cmd_fuzz "$@" ;;
help | -h | --help) usage ;;
*) usage >&2; die "unknown command '$mode'" ;;
esac
