#!/usr/bin/env bash
# scripts/demo.sh - the README's first command: the main job.
#
# Installs what is missing (apt-get), builds with CMake into build/, then
# runs the stage of vigil that exists today end to end:
#   1. generates a day of machine data (1 Hz, temp + two more channels)
#      with an injected fault - an overheat run-away by default - and
#      its ground truth;
#   2. runs vigil-replay, the agent's exact detection pipeline, over it
#      with a local safety envelope (hard limit 95 C, 3-of-5 debounce,
#      trip) and with a model fitted on the first hours of the data;
#   3. prints what was found: first alert, trip time, time from fault
#      onset to trip, and alert counts, for both runs.
#
# usage: scripts/demo.sh [--fault overheat|spike|stuck|drift|missing]
#                        [--rows N] [--out DIR] [--help]
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

FAULT=overheat
ROWS=20000
OUT="$VG_ROOT/build/demo"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }

parse_args() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --fault) FAULT="$2"; shift 2 ;;
        --rows) ROWS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
        esac
    done
    case "$FAULT" in overheat | spike | stuck | drift | missing) ;;
    *) vg_die "unknown fault '$FAULT'" ;; esac
}

write_config() {
    cat >"$OUT/vigil.ini" <<'INI'
# Local safety envelope of the demo machine (see docs/CONFIG.md).
[detect]
window = 256

[channel.temp]
lo = -20
hi = 95
hysteresis = 2
debounce_n = 3
debounce_m = 5
trip = true
stale_s = 30
trip_on_stale = true
INI
}

# first_row OUTPUT.csv COLUMN  -> timestamp of the first row with COLUMN = 1
first_row() { awk -F, -v c="$2" 'NR > 1 && $c == 1 { print $1; exit }' "$1"; }

to_epoch() { [[ -n "$1" ]] && date -u -d "$1" +%s || echo ""; }

report_run() { # report_run LABEL OUTPUT.csv SUMMARY-LINE
    local label=$1 out=$2 summary=$3 onset
    onset=$(awk -F, 'NR == 2 { print $3 }' "$OUT/truth.csv")
    local alert trip
    alert=$(first_row "$out" 3)
    trip=$(first_row "$out" 4)
    printf '\n  %s\n' "$label"
    printf '    %s\n' "${summary#vigil-replay: }"
    printf '    fault onset        %s\n' "$(date -u -d "@$onset" '+%F %T')"
    if [[ -n "$alert" ]]; then
        printf '    first alert        %s  (%+d s from onset)\n' "$alert" \
            $(($(to_epoch "$alert") - onset))
    else
        printf '    first alert        none\n'
    fi
    if [[ -n "$trip" ]]; then
        printf '    trip (shutdown)    %s  (%+d s from onset)\n' "$trip" \
            $(($(to_epoch "$trip") - onset))
    else
        printf '    trip (shutdown)    none\n'
    fi
}

main() {
    parse_args "$@"
    vg_section "setup"
    vg_need_packages "${VG_PKGS_BUILD[@]}"
    vg_build "$VG_ROOT/build" -DVIGIL_TESTS=OFF >/dev/null
    mkdir -p "$OUT"
    write_config
    local bin="$VG_ROOT/build"
    vg_section "vigil demo: $FAULT fault in $ROWS rows of 1 Hz data"
    "$bin/bench/vigil-gen-csv" --rows "$ROWS" --fault "$FAULT" --truth "$OUT/truth.csv" \
        >"$OUT/machine.csv"
    vg_info "data: $OUT/machine.csv (truth: $OUT/truth.csv)"
    local s1 s2 train=$((ROWS / 2))
    s1=$("$bin/agent/vigil-replay" --config "$OUT/vigil.ini" --summary "$OUT/machine.csv" \
        2>&1 >"$OUT/scored-envelope.csv")
    s2=$("$bin/agent/vigil-replay" --config "$OUT/vigil.ini" --train-rows "$train" \
        --save-model "$OUT/model.cbor" --summary "$OUT/machine.csv" \
        2>&1 >"$OUT/scored-model.csv")
    report_run "envelope only (no model)" "$OUT/scored-envelope.csv" "$s1"
    report_run "model fitted on the first $train rows" "$OUT/scored-model.csv" "$s2"
    printf '\n  outputs: %s/scored-*.csv (timestamp,anomaly_score,alert,trip), model.cbor\n' "$OUT"
    vg_ok "demo finished"
}

main "$@"
