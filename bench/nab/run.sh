#!/usr/bin/env bash
# bench/nab/run.sh - detection quality by the NAB rules (issue 7).
#
#   bench/nab/run.sh [--build DIR] [--out DIR] [--series N]
#
# 1. builds vigil (default build dir: build/), generates the labelled corpus
#    (vigil-nab-corpus, N series, default 60; every third is held out);
# 2. runs over every series: vigil-replay as deployed (stale deadline of
#    three sample intervals, no model) = "vigil", vigil-replay
#    --train-rows <probationary rows> = "vigil-fit", and the two baselines
#    (windowed Gaussian "wgauss", fixed threshold "fixed");
# 3. scores each with vigil-nab-score: the swept anomaly_score (best single
#    threshold over the part) and the alert column as it is, three profiles,
#    tuning and held-out parts; prints the table and each detector's
#    throughput over the corpus (samples / s, wall clock incl. CSV I/O).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="$ROOT/build"
OUT=""
SERIES=60
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build) B="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --series) SERIES="$2"; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
OUT="${OUT:-$B/nab}"
[[ -f "$B/CMakeCache.txt" ]] || cmake -S "$ROOT" -B "$B" >/dev/null
cmake --build "$B" -j2 --target vigil-replay vigil-nab-corpus vigil-nab-score \
    vigil-nab-baseline >/dev/null
rm -rf "$OUT" && mkdir -p "$OUT/data" "$OUT/res"
"$B/bench/vigil-nab-corpus" --out "$OUT/data" --series "$SERIES"
M="$OUT/data/manifest.csv"
cat >"$OUT/vigil.ini" <<'INI'
[channel.*]
stale_s = 900
INI

# run_det NAME CMD...: runs CMD FILE for every series, output res/<s>.NAME.csv
run_det() {
    local name="$1"; shift
    local t0 t1 rows
    t0=$(date +%s.%N)
    while IFS=, read -r s _part _rows prob _rest; do
        "$@" "$prob" "$OUT/data/$s.csv" >"$OUT/res/$s.$name.csv"
    done <"$M"
    t1=$(date +%s.%N)
    rows=$(awk -F, '{n += $3} END {print n}' "$M")
    awk -v n="$rows" -v a="$t0" -v b="$t1" -v d="$name" \
        'BEGIN {printf "throughput %-10s %8d samples %6.2f s %10.0f samples/s\n", d, n, b - a, n / (b - a)}'
}
vigil_plain() { "$B/agent/vigil-replay" --config "$OUT/vigil.ini" "$2"; }
vigil_fit() { "$B/agent/vigil-replay" --config "$OUT/vigil.ini" --train-rows "$1" "$2"; }
wgauss() { "$B/bench/vigil-nab-baseline" --det wgauss "$2"; }
fixed() { "$B/bench/vigil-nab-baseline" --det fixed --probation "$1" "$2"; }

run_det vigil vigil_plain
run_det vigil-fit vigil_fit
run_det wgauss wgauss
run_det fixed fixed

echo
printf '%-10s %-5s %-6s %-9s %10s %6s %4s %5s %4s\n' det part column profile threshold score tp fp fn
for det in vigil vigil-fit wgauss fixed; do
    for part in tune held; do
        for col in score alert; do
            "$B/bench/vigil-nab-score" --manifest "$M" --dir "$OUT/res" --det "$det" \
                --part "$part" --col "$col"
        done
    done
done | awk '{printf "%-10s %-5s %-6s %-9s %10s %6s %4s %5s %4s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9}'
