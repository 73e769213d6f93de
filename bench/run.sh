#!/usr/bin/env bash
# bench/run.sh - run the foundation's benchmarks and print their figures.
#
#   bench/run.sh [--rows N] [--runs R] [--quick]
#
# 1. core: vigil-bench-core, the full detector set over 1,000 channels
#    (20,000 samples each per run), beside a bare windowed z-score
#    baseline timed in the same process, medians of R runs;
# 2. replay: vigil-replay over an N-row, 3-channel CSV file (default 10
#    million rows), R runs: median rows/s and the peak RSS (bounded memory);
# 3. the host: CPU model, cores, load at start.
# Build directory: $VIGIL_BUILD, default build/ of this checkout.
# Build type is the default RelWithDebInfo (-O2 -g).  Nothing here is a
# pass/fail test: it measures.  --quick runs 1,000,000 rows and 3 runs.
set -euo pipefail
# shellcheck source=../scripts/lib/common.sh
source "$(dirname "$0")/../scripts/lib/common.sh"

ROWS=10000000
RUNS=5
while [[ $# -gt 0 ]]; do
    case "$1" in
    --rows) ROWS="$2"; shift 2 ;;
    --runs) RUNS="$2"; shift 2 ;;
    --quick) ROWS=1000000; RUNS=3; shift ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) vg_die "unknown option $1" ;;
    esac
done

vg_need_packages "${VG_PKGS_BUILD[@]}" time
B="${VIGIL_BUILD:-$VG_ROOT/build}" # bench/all.sh --build passes its own
vg_build "$B" >/dev/null
DATA="$B/bench-data"
mkdir -p "$DATA"

echo "## host"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores"
echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git -C "$VG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo
echo "## core: full detector set, 1000 channels"
"$B/bench/vigil-bench-core" --channels 1000 --runs "$RUNS"

echo
echo "## replay: $ROWS rows x 3 channels"
CSV="$DATA/replay-$ROWS.csv"
[[ -s "$CSV" ]] || "$B/bench/vigil-gen-csv" --rows "$ROWS" --fault overheat >"$CSV"
cat >"$DATA/bench.ini" <<'INI'
[channel.temp]
hi = 95
debounce_n = 3
debounce_m = 5
trip = true
INI
times=()
for ((i = 0; i < RUNS; i++)); do
    /usr/bin/time -f "%e %M" -o "$DATA/time.txt" \
        "$B/agent/vigil-replay" --config "$DATA/bench.ini" "$CSV" >/dev/null
    read -r secs rss <"$DATA/time.txt"
    times+=("$secs")
    echo "run $((i + 1)): ${secs} s, peak RSS ${rss} KB"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
awk -v r="$ROWS" -v s="$median" 'BEGIN { printf "median %.2f s = %.2f M rows/s = %.2f M samples/s\n", s, r / s / 1e6, 3 * r / s / 1e6 }'
