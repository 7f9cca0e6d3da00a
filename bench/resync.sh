#!/usr/bin/env bash
# bench/resync.sh [DASF_TRACE] [REPS] — time `dasf-trace verify` over the two
# ~300 MB adversarial files of tests/data/repro/mk2.py (legacy records claiming
# 2^28 bytes at every 9th offset, then zeros; 2000 fake chunk headers claiming
# 256 MiB data frames, then zeros), side by side with a floor measured in the
# same run: `cat FILE > /dev/null` (reading the bytes once).  Prints the median
# of REPS runs (default 5) of each, their ratio, and verify's peak RSS.
# The files are sparse (a few KiB on disk), made in a temporary directory.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$ROOT/build/release/tools/dasf-trace}
REPS=${2:-5}
PY=/usr/bin/python3
[ -x "$BIN" ] || { echo "resync.sh: no $BIN (./build.sh build release)" >&2; exit 2; }
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cp "$ROOT/tests/data/repro/mk.py" "$ROOT/tests/data/repro/mk2.py" "$DIR/"
(cd "$DIR" && "$PY" mk2.py)
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { # secs CMD... : wall seconds of one run
    local t0 t1
    t0=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
printf '%-40s %10s %10s %8s %10s\n' file verify_s floor_s ratio rss_MiB
for f in "$DIR"/h7_legacy_resync_quadratic.msgpack "$DIR"/h8_archive_resync_quadratic.zst; do
    v=(); c=()
    for _ in $(seq "$REPS"); do
        c+=("$(secs cat "$f")")
        v+=("$(secs "$BIN" verify "$f")")
    done
    mv=$(printf '%s\n' "${v[@]}" | median)
    mc=$(printf '%s\n' "${c[@]}" | median)
    /usr/bin/time -f '%M' -o "$DIR/rss" "$BIN" verify "$f" >/dev/null 2>&1 || true
    rss=$(tail -1 "$DIR/rss")
    printf '%-40s %10.3f %10.3f %8.2f %10.1f\n' "$(basename "$f") ($(( $(stat -c %s "$f") >> 20 )) MiB)" \
        "$mv" "$mc" "$(echo "$mv / $mc" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
