#!/usr/bin/env bash
# scripts/demo.sh - the README's first command: the main job.
#
# Installs what is missing (apt-get), builds with CMake into build/, then
# runs the whole system on this machine, on loopback only:
#   1. a local mosquitto on a free 127.0.0.1 port;
#   2. vigil-batch ingest (the archive sink) and one vigild per device,
#      each with the local safety envelope and the fleet's signing key;
#   3. vigil-sim: N simulated devices with a mix of faults (normal,
#      overheat, drift, spike, stuck, dropout, noisy) and real actuators;
#   4. after the run, the nightly job (vigil-batch run: retrain, backtest,
#      sign, publish, report), then waits for the devices to apply and
#      ack the new models;
#   5. prints a summary: faults injected, alerts, trips and time to trip,
#      samples archived, models pushed and acked, and the report's path.
# Every process it starts is stopped at the end (also on Ctrl-C).  It takes
# about DURATION + 35 seconds.
#
# usage: scripts/demo.sh [--devices N] [--duration S] [--out DIR]
#        scripts/demo.sh --replay [--fault overheat|spike|stuck|drift|missing]
#                        [--rows N] [--out DIR]     (offline: vigil-replay on a CSV)
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "$0")/lib/common.sh"

FAULT=overheat
ROWS=20000
OUT="$VG_ROOT/build/demo"
MODE=system
DEVICES=7
DURATION=60
PIDS=()

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; }

parse_args() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --fault) FAULT="$2"; shift 2 ;;
        --rows) ROWS="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --replay) MODE=replay; shift ;;
        --devices) DEVICES="$2"; shift 2 ;;
        --duration) DURATION="$2"; shift 2 ;;
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

# ------------------------------------------------------------ the system --
BIN="$VG_ROOT/build"
PORT=
URI=

# stop_all : stops every process this script started (trap on EXIT).
stop_all() {
    local i pid
    # newest first: agents and workers before the broker they talk to
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        kill -TERM "${PIDS[i]}" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" >/dev/null 2>&1 || true
    done
    PIDS=()
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_broker : mosquitto on a free loopback port -> $PORT, $URI.
start_broker() {
    local try
    for ((try = 0; try < 20; try++)); do
        PORT=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        port_open "$PORT" && continue
        printf '%s\n' "listener $PORT 127.0.0.1" "allow_anonymous true" \
            "persistence false" "max_queued_messages 100000" "set_tcp_nodelay true" \
            "user $(id -un)" \
            >"$OUT/mosquitto.conf"
        mosquitto -c "$OUT/mosquitto.conf" >"$OUT/mosquitto.log" 2>&1 &
        PIDS+=($!)
        local i
        for ((i = 0; i < 60; i++)); do
            port_open "$PORT" && { URI="tcp://127.0.0.1:$PORT"; return 0; }
            sleep 0.05
        done
    done
    vg_die "could not start mosquitto (see $OUT/mosquitto.log)"
}

write_agent_config() {
    cat >"$OUT/vigild.ini" <<INI
# The demo machines' local safety envelope (see docs/CONFIG.md).
[detect]
window = 256

[channel.temp]
hi = 95
hysteresis = 2
debounce_n = 3
debounce_m = 5
trip = true
stale_s = 5
trip_on_stale = true

[action]
# what a trip does locally, with or without the network
command = echo "\$(date -u +%FT%TZ) \$VIGIL_DEVICE: shutdown (\$VIGIL_CHANNEL: \$VIGIL_REASON)" >> $OUT/actions.log
timeout_ms = 2000
INI
}

# metric FILE NAME : value of a Prometheus metric in a vigild metrics file.
metric() { awk -v n="$2" 'index($1, n "{") == 1 || $1 == n { print $2; exit }' "$1" 2>/dev/null; }

start_agents() {
    local i dev
    for ((i = 0; i < DEVICES; i++)); do
        dev="sim-$i"
        mkdir -p "$OUT/agents/$dev"
        "$BIN/agent/vigild" --broker "$URI" --device "$dev" --data-dir "$OUT/agents/$dev" \
            --config "$OUT/vigild.ini" --trust-key "$OUT/fleet.pub" \
            --metrics-file "$OUT/agents/$dev/metrics.prom" --log-level warning \
            2>"$OUT/agents/$dev/vigild.log" &
        PIDS+=($!)
    done
}

start_ingest() {
    "$BIN/batch/vigil-batch" ingest --broker "$URI" --warehouse "$OUT/warehouse.db" \
        --ready-file "$OUT/ingest.ready" 2>"$OUT/ingest.log" &
    PIDS+=($!)
    local i=0
    while [[ ! -e "$OUT/ingest.ready" ]] && ((i++ < 200)); do sleep 0.05; done
    [[ -e "$OUT/ingest.ready" ]] || vg_die "vigil-batch ingest did not start (see $OUT/ingest.log)"
}

# wait_for CONDITION-FUNCTION SECS : polls until it holds.
wait_for() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        "$1" && return 0
        sleep 0.1
    done
    return 1
}

agents_drained() {
    local i b
    for ((i = 0; i < DEVICES; i++)); do
        b=$(metric "$OUT/agents/sim-$i/metrics.prom" vigild_backlog_records)
        [[ "${b:-1}" == 0 ]] || return 1
    done
}

agents_updated() {
    local i v
    for ((i = 0; i < DEVICES; i++)); do
        v=$(metric "$OUT/agents/sim-$i/metrics.prom" vigild_model_version)
        [[ "${v:-0}" != 0 ]] || return 1
    done
}

# start_fleet : vigil-sim in the background for DURATION + 30 s: the
# nightly job runs after DURATION s while the machines keep running, so the
# new models are applied live, between samples.
SIM_PID=
start_fleet() {
    local total=$((DURATION + 30))
    vg_info "fleet: $DEVICES devices x temp/vib/pressure/load at 10 Hz for ${total} s, mixed faults"
    "$BIN/firmware-sim/vigil-sim" --broker "$URI" --devices "$DEVICES" --rate 10 \
        --duration "$total" --scenario mixed --seed 7 --start "$(date -u +%s)" \
        --truth "$OUT/truth.csv" --quiet >"$OUT/sim-summary.txt" 2>"$OUT/sim.log" &
    SIM_PID=$!
    PIDS+=("$SIM_PID")
}

wait_fleet() {
    wait "$SIM_PID" || vg_warn "vigil-sim exited with $? (see $OUT/sim.log)"
}

run_nightly() {
    vg_info "nightly job: vigil-batch run (retrain, backtest, sign, publish, report)"
    "$BIN/batch/vigil-batch" run --warehouse "$OUT/warehouse.db" --out "$OUT/bundles" \
        --broker "$URI" --sign-key "$OUT/fleet.key" --report "$OUT/report.html" \
        --config "$OUT/vigild.ini" >"$OUT/nightly.txt" 2>"$OUT/nightly.log" ||
        vg_die "vigil-batch run failed (see $OUT/nightly.log)"
}

print_summary() {
    local i dev
    printf '\n  per device (vigild metrics; model = version running after the nightly job):\n'
    printf '  %-7s %-9s %9s %7s %6s %6s\n' device fault samples alerts trips model
    for ((i = 0; i < DEVICES; i++)); do
        dev="sim-$i"
        local m="$OUT/agents/$dev/metrics.prom" fault
        fault=$(awk -F, -v d="$dev" '$1 == d { print $3; exit }' "$OUT/truth.csv")
        printf '  %-7s %-9s %9s %7s %6s %6s\n' "$dev" "${fault:-normal}" \
            "$(metric "$m" vigild_samples_in_total)" "$(metric "$m" vigild_alerts_total)" \
            "$(metric "$m" vigild_trips_total)" "v$(metric "$m" vigild_model_version)"
    done
    printf '\n  faults injected, and what the machines saw (vigil-sim):\n'
    sed -n '/^faults (/,$p' "$OUT/sim-summary.txt" | sed 's/^/    /'
    printf '\n  local shutdown actions run by vigild:\n'
    sed 's/^/    /' "$OUT/actions.log" 2>/dev/null || printf '    none\n'
    printf '\n  nightly job (archive -> warehouse -> retrain -> signed bundles):\n'
    grep -h "ingest: records" "$OUT/ingest.log" | tail -1 | sed 's/^/    /'
    sed 's/^/    /' "$OUT/nightly.log"
    printf '\n  report: %s\n  all files: %s\n' "$OUT/report.html" "$OUT"
}

run_system() {
    vg_need_packages mosquitto
    rm -rf "$OUT"
    mkdir -p "$OUT"
    trap stop_all EXIT
    trap 'exit 130' INT TERM
    vg_section "vigil: the whole system on loopback"
    start_broker
    vg_info "mosquitto on $URI"
    "$BIN/batch/vigil-batch" keygen "$OUT/fleet" >/dev/null 2>&1
    write_agent_config
    start_ingest
    start_agents
    sleep 1
    start_fleet
    sleep "$DURATION"
    run_nightly
    vg_info "waiting for the devices to apply and ack the new models"
    wait_for agents_updated 20 || vg_warn "not every device applied a new model (see nightly.txt)"
    vg_info "waiting for the fleet to finish its run"
    wait_fleet
    wait_for agents_drained 10 || vg_warn "some agents still have a backlog"
    stop_all # before the silent machines trip the agents' stale-data fail-safe
    vg_section "what happened"
    print_summary
    vg_ok "demo finished"
}

run_replay() {
    mkdir -p "$OUT"
    write_config
    local bin="$BIN"
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

main() {
    parse_args "$@"
    vg_section "setup"
    vg_need_packages "${VG_PKGS_BUILD[@]}"
    vg_build "$VG_ROOT/build" -DVIGIL_TESTS=OFF >/dev/null
    if [[ $MODE == system ]]; then
        run_system
    else
        run_replay
    fi
}

main "$@"
