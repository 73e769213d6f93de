#!/usr/bin/env bash
# bench/mvar/run.sh - multivariate detection quality and cost (issue 7).
#
#   bench/mvar/run.sh [--build DIR] [--out DIR] [--series N] [--seed K] [--train R]
#
# 1. builds vigil (default build dir: build/) and generates the labelled
#    pump corpus (vigil-mvar-corpus: N series, default 40, 8 correlated
#    sensors at 1 Hz, the first R rows (400) of each anomaly-free for training;
#    even series "tune", odd series "held" out);
# 2. runs over every series, all fitted on the first R rows:
#      vigil        vigil-replay --train-rows R (default: --mvar joint)
#      vigil-max    the same with --mvar max (every channel's score too)
#      vigil-uni    the same with --mvar off (univariate detectors only)
#      vigil-mvar   the same with --mvar only (T^2/Q alone)
#      zscore       per-channel 3-sigma z-score (vigil-mvar-baseline)
#      hotelling    full-covariance Hotelling T^2, chi^2 limit, no PCA
# 3. scores each: per-row F1 / precision / recall / FAR / MAR of the alert
#    column as it is and of the best swept threshold (vigil-mvar-score), and
#    the changepoint windows by the NAB rules (vigil-nab-score, three
#    profiles) with the edges of the alert column as the predicted
#    changepoints, tune and held parts;
# 4. prints each detector's wall-clock throughput over the corpus (rows/s,
#    including CSV parsing and the fit);
# 5. the drifting-correlation cases (no fault; the channels' correlations
#    drift: vigil-gen-csv --channels 4, 10000 rows, and --rows 20000 --seed 3,
#    fitted on the first 4000): rows in alert with --mvar joint / only / off
#    (fewer is better: every one is a false positive).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
B="$ROOT/build"
OUT=""
SERIES=40
SEED=7
TRAIN=400
while [[ $# -gt 0 ]]; do
    case "$1" in
    --build) B="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --series) SERIES="$2"; shift 2 ;;
    --seed) SEED="$2"; shift 2 ;;
    --train) TRAIN="$2"; shift 2 ;;
    -h | --help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
OUT="${OUT:-$B/mvar}"
[[ -f "$B/CMakeCache.txt" ]] || cmake -S "$ROOT" -B "$B" >/dev/null
cmake --build "$B" -j2 --target vigil-replay vigil-mvar-corpus vigil-mvar-score \
    vigil-mvar-baseline vigil-nab-score vigil-gen-csv >/dev/null
rm -rf "$OUT" && mkdir -p "$OUT/data" "$OUT/res"
"$B/bench/vigil-mvar-corpus" --out "$OUT/data" --series "$SERIES" --seed "$SEED" --train "$TRAIN"
M="$OUT/data/manifest.csv"

# run_det NAME CMD...: runs CMD FILE for every series into res/<s>.NAME.csv
run_det() {
    local name="$1"; shift
    local t0 t1 rows
    t0=$(date +%s.%N)
    while IFS=, read -r s _rest; do
        "$@" "$OUT/data/$s.csv" >"$OUT/res/$s.$name.csv"
    done <"$M"
    t1=$(date +%s.%N)
    rows=$(awk -F, '{n += $3} END {print n}' "$M")
    awk -v n="$rows" -v a="$t0" -v b="$t1" -v d="$name" \
        'BEGIN {printf "throughput %-10s %7d rows %6.2f s %9.0f rows/s\n", d, n, b - a, n / (b - a)}'
}
R="$B/agent/vigil-replay"
DETS="vigil vigil-max vigil-uni vigil-mvar zscore hotelling"
run_det vigil "$R" --train-rows "$TRAIN"
run_det vigil-max "$R" --train-rows "$TRAIN" --mvar max
run_det vigil-uni "$R" --train-rows "$TRAIN" --mvar off
run_det vigil-mvar "$R" --train-rows "$TRAIN" --mvar only
run_det zscore "$B/bench/vigil-mvar-baseline" --det zscore --train "$TRAIN"
run_det hotelling "$B/bench/vigil-mvar-baseline" --det hotelling --train "$TRAIN"

echo
echo "per-row F1 (training rows excluded; rows of a part pooled)"
echo "det          part col   thr    f1    prec  recall far    mar   rows"
for part in tune held; do
    for d in $DETS; do
        "$B/bench/vigil-mvar-score" --manifest "$M" --data "$OUT/data" --res "$OUT/res" \
            --det "$d" --part "$part"
    done
done
# Changepoints: a detector's predicted changepoints are the edges of its
# alert column (0 -> 1 and 1 -> 0), as a persistent alert is not a series of
# detections; written as res/<s>.<det>-cp.csv for vigil-nab-score.
for d in $DETS; do
    while IFS=, read -r s _rest; do
        awk -F, 'NR == 1 {print; next}
                 {e = (NR > 2 && $3 != prev); prev = $3; print $1 "," e "," e}' \
            "$OUT/res/$s.$d.csv" >"$OUT/res/$s.$d-cp.csv"
    done <"$M"
done
echo
echo "changepoint windows (alert edges), NAB (det part col profile thr score tp fp fn)"
for part in tune held; do
    for d in $DETS; do
        "$B/bench/vigil-nab-score" --manifest "$M" --dir "$OUT/res" --det "$d-cp" \
            --part "$part" --col alert
    done
done

# The drifting-correlation case: no fault, so every row in alert is a false
# positive.
echo
echo "drifting correlations (vigil-gen-csv --channels 4 [--rows 20000 --seed 3], --train-rows 4000)"
"$B/bench/vigil-gen-csv" --channels 4 >"$OUT/data/drift4.csv"
"$B/bench/vigil-gen-csv" --channels 4 --rows 20000 --seed 3 >"$OUT/data/drift4s3.csv"
for c in drift4 drift4s3; do
    for mode in joint only off; do
        "$R" --train-rows 4000 --mvar "$mode" "$OUT/data/$c.csv" >"$OUT/res/$c.$mode.csv"
        awk -F, -v c="$c" -v m="$mode" 'NR > 1 {n++; a += $3; e += NR > 2 && $3 != prev; prev = $3}
            END {printf "%-8s --mvar %-5s alert rows %5d of %5d  alert edges %3d\n", c, m, a, n, e}' \
            "$OUT/res/$c.$mode.csv"
    done
done
