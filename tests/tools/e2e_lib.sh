# shellcheck shell=bash
#
# e2e_lib.sh - helpers for the whole-system tests (test_e2e_*.sh and
# test_fault_*.sh), sourced after tests/integration/lib.sh (broker,
# watchdog, cleanup) and tests/tools/vigild_test_lib.sh (vgd_*):
#
#   e2e_init                      sqlite3 (vg_need_packages), paths, fleet key
#   e2e_config FILE [EXTRA]       vigild config: temp envelope hi 95, 3-of-5,
#                                 trip; fast metrics and reconnects; EXTRA is
#                                 appended (more INI lines)
#   e2e_agent_start I [ARGS...]   vigild for sim-I (or $E2E_PREFIX-I;
#                                 vgd_start, data in
#                                 $VG_TMP/a<I>.data, pid in E2E_AGENT[I])
#   e2e_agent_kill I              SIGKILL vigild of sim-I (and reap it)
#   e2e_ingest_start N WH [ID]    vigil-batch ingest into WH (pid E2E_INGEST)
#   e2e_sim NAME ARGS...          vigil-sim in the background with --dump
#                                 $VG_TMP/NAME.dump, summary NAME.out
#   e2e_wait_drained N SECS       all N agents' backlog 0 (metrics)
#   e2e_wait_wh WH NAME SECS      warehouse holds every batch NAME published
#   e2e_check_exactly_once WH NAME  the (device, seq) sets of the warehouse
#                                 and of vigil-sim's acknowledged batches are
#                                 equal; samples per device equal; no sample
#                                 stored twice.  Prints "missing=M dup=D"
#   e2e_check_trips NAME WH       every sim trip is in the warehouse; no
#                                 overheat reached its damage limit
#   e2e_metric_sum METRIC N       sum of METRIC over agents 0..N-1
#
# The published set comes from the simulator's --dump (every payload in
# publish order, decoded with vigil-sim --decode); the summary's "result:
# all N batches acknowledged" says every one of them was PUBACKed by the
# broker, so it is also the acknowledged set.
VB=$VG_BUILD/batch/vigil-batch
E2E_AGENT=()
E2E_INGEST=

e2e_init() {
    # shellcheck source=../../scripts/lib/common.sh
    . "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"
    command -v sqlite3 >/dev/null || vg_need_packages sqlite3 >&2
    command -v sqlite3 >/dev/null || vg_fail "sqlite3 CLI missing"
    "$VB" keygen "$VG_TMP/fleet" >/dev/null 2>&1 || vg_fail "vigil-batch keygen failed"
}

e2e_config() {
    cat >"$1" <<CONF
[detect]
window = 256

[channel.temp]
hi = 95
hysteresis = 2
debounce_n = 3
debounce_m = 5
trip = true

[agent]
metrics_ms = 200

[mqtt]
retry_min_s = 1
retry_max_s = 2

[action]
command = echo "\$VIGIL_DEVICE \$VIGIL_TRIP_ID \$VIGIL_CHANNEL" >> $VG_TMP/actions.log
timeout_ms = 2000
${2:-}
CONF
}

e2e_agent_start() {
    local i=$1
    shift
    vgd_start "a$i" "${E2E_PREFIX:-sim}-$i" --config "$VG_TMP/vigild.ini" --trust-key "$VG_TMP/fleet.pub" "$@"
    E2E_AGENT[i]=$VGD_PID
}

e2e_agent_kill() {
    local pid=${E2E_AGENT[$1]}
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

e2e_ingest_start() {
    local name=$1 wh=$2 id=${3:-e2e-ingest}
    rm -f "$VG_TMP/$name.ready"
    vg_bg "$name" "$VB" ingest --broker "$VG_BROKER_URI" --warehouse "$wh" \
        --client-id "$id" --ready-file "$VG_TMP/$name.ready"
    E2E_INGEST=$VG_LAST_PID
    vg_wait_file "$VG_TMP/$name.ready" 10 || vg_fail "ingest did not start: $(cat "$VG_TMP/$name.err")"
}

e2e_sim() {
    local name=$1
    shift
    vg_bg "$name" "$VG_SIM" --broker "$VG_BROKER_URI" --dump "$VG_TMP/$name.dump" \
        --truth "$VG_TMP/$name.truth" --quiet "$@"
    E2E_SIM=$VG_LAST_PID
}

# e2e_sim_wait NAME SECS : waits for the simulator; every batch acknowledged.
e2e_sim_wait() {
    vg_wait_exit "$E2E_SIM" "$2" || vg_fail "vigil-sim $1 failed: $(tail -3 "$VG_TMP/$1.out" "$VG_TMP/$1.err")"
    grep -q "^result: all [0-9]* batches acknowledged" "$VG_TMP/$1.out" ||
        vg_fail "vigil-sim $1: $(grep '^result' "$VG_TMP/$1.out")"
}

e2e_metric_sum() {
    local m=$1 n=$2 i s=0 v
    for ((i = 0; i < n; i++)); do
        v=$(vgd_metric "a$i" "$m")
        s=$(awk -v a="$s" -v b="$v" 'BEGIN { printf "%.0f", a + b }')
    done
    echo "$s"
}

e2e__drained() {
    local i
    for ((i = 0; i < $1; i++)); do
        [ "$(vgd_metric "a$i" vigild_backlog_records)" = 0 ] || return 1
        [ "$(vgd_metric "a$i" vigild_connected)" = 1 ] || return 1
    done
}
e2e_wait_drained() {
    sleep 0.5 # a metrics period after the last batch
    vgd_wait_for "$2" e2e__drained "$1"
}

# "device seq" of every sample batch vigil-sim published (sorted, unique).
e2e_published() {
    "$VG_SIM" --decode "$VG_TMP/$1.dump" | awk -F, 'NR > 1 || $1 != "device" { print $1, $2 }' |
        grep -v '^device seq$' | sort -u
}

# "device seq" of every sample batch row in the warehouse (sorted).
e2e_stored() {
    sqlite3 "$1" "SELECT d.name || ' ' || b.seq FROM batches b JOIN devices d ON d.id = b.device
                  WHERE b.kind = 0" | sort
}

e2e__wh_complete() {
    [ -s "$1" ] || return 1
    [ "$(e2e_stored "$1" 2>/dev/null | wc -l)" -ge "$(wc -l <"$VG_TMP/$2.published")" ]
}
e2e_wait_wh() {
    e2e_published "$2" >"$VG_TMP/$2.published"
    vgd_wait_for "$3" e2e__wh_complete "$1" "$2"
}

# e2e_check_exactly_once WH NAME : sets E2E_MISSING, E2E_EXTRA, E2E_DUP.
e2e_check_exactly_once() {
    local wh=$1 name=$2 pub=$VG_TMP/$2.published got=$VG_TMP/$2.stored
    [ -s "$pub" ] || e2e_published "$name" >"$pub"
    e2e_stored "$wh" >"$got"
    E2E_MISSING=$(comm -23 "$pub" <(sort -u "$got") | wc -l)
    E2E_EXTRA=$(comm -13 "$pub" <(sort -u "$got") | wc -l)
    E2E_DUP=$(($(wc -l <"$got") - $(sort -u "$got" | wc -l)))
    # a sample stored twice under another seq would repeat its block's t_first
    local dupt
    dupt=$(sqlite3 "$wh" "SELECT count(*) - count(DISTINCT device || '/' || channel || '/' || t_first)
                          FROM samples")
    E2E_DUP=$((E2E_DUP + dupt))
    vg_log "$name: published+acked $(wc -l <"$pub") batches, warehouse $(wc -l <"$got"):" \
        "missing=$E2E_MISSING extra=$E2E_EXTRA duplicate=$E2E_DUP"
    if [ "$E2E_MISSING" != 0 ]; then
        comm -23 "$pub" <(sort -u "$got") | sed -n 1,5p >&2
    fi
    # samples per device: the simulator's acknowledged count = warehouse sum(n)
    local dev want have
    E2E_SAMPLES_BAD=0
    while read -r dev want; do
        have=$(sqlite3 "$wh" "SELECT coalesce(sum(s.n), 0) FROM samples s JOIN devices d
                              ON d.id = s.device WHERE d.name = '$dev'")
        [ "$want" = "$have" ] || vg_log "$name: $dev samples acked $want, warehouse $have"
        [ "$want" = "$have" ] || E2E_SAMPLES_BAD=$((E2E_SAMPLES_BAD + 1))
    done < <(awk '$1 ~ /^[A-Za-z0-9_]+-[0-9]+$/ && $3 ~ /^[0-9]+\/[0-9]+$/ { split($3, s, "/"); print $1, s[2] }' \
        "$VG_TMP/$name.out")
}

# e2e_assert_exactly_once WH NAME : fails on any missing or duplicate batch.
e2e_assert_exactly_once() {
    e2e_check_exactly_once "$1" "$2"
    [ "$E2E_MISSING" = 0 ] || vg_fail "$2: $E2E_MISSING acknowledged batches missing in the warehouse"
    [ "$E2E_EXTRA" = 0 ] || vg_fail "$2: $E2E_EXTRA batches in the warehouse never published"
    [ "$E2E_DUP" = 0 ] || vg_fail "$2: $E2E_DUP duplicates in the warehouse"
    [ "$E2E_SAMPLES_BAD" = 0 ] || vg_fail "$2: sample counts differ for $E2E_SAMPLES_BAD devices"
}

# e2e_check_trips NAME WH : the simulator's trips are all recorded (vigild's
# action log and the warehouse's trips table) and no machine was damaged.
e2e_check_trips() {
    local name=$1 wh=$2 sim_trips wh_trips
    sim_trips=$(awk '/^faults: / { for (i = 2; i <= NF; i++) if ($i ~ /^trips=/) print substr($i, 7) }' \
        "$VG_TMP/$name.out")
    grep -q "^faults: .*damaged=0" "$VG_TMP/$name.out" ||
        vg_fail "$name: a machine reached its damage limit: $(grep -i damage "$VG_TMP/$name.out")"
    wh_trips=$(sqlite3 "$wh" "SELECT count(*) FROM trips")
    vg_log "$name: trips seen by the machines $sim_trips, in the warehouse $wh_trips"
    [ "${sim_trips:-0}" -ge 1 ] || vg_fail "$name: no trip happened"
    [ "$wh_trips" -ge "$sim_trips" ] || vg_fail "$name: $sim_trips trips, only $wh_trips recorded"
    # the overheat must stop before its damage limit (the latency bound)
    grep -E "overheat .*stopped .*damage limit 120 C not reached" "$VG_TMP/$name.out" >/dev/null ||
        vg_fail "$name: overheat not stopped in time: $(grep overheat "$VG_TMP/$name.out")"
}

# ------------------------------------------------- the fault tests' fleet --
# e2e_fleet_start N ARGS... : ingest into $VG_TMP/wh.db, vigild for sim-0 ..
# sim-(N-1), then vigil-sim "run" with the mixed scenario and ARGS.
E2E_N=0
e2e_fleet_start() {
    local i
    E2E_N=$1
    shift
    e2e_ingest_start ingest "$VG_TMP/wh.db" e2e-ingest
    for ((i = 0; i < E2E_N; i++)); do
        e2e_agent_start "$i"
    done
    e2e_sim run --devices "$E2E_N" --scenario mixed --start "$(date +%s)" "$@"
}

# e2e_fleet_finish SIM_SECS : waits for the run, the uplinks and the
# warehouse, stops agents and ingest.  Then
#   - the live path (vigild archive -> ingest): E2E_LIVE_MISSING batches
#     missing, duplicates must be 0; a gap fails the test unless the test
#     sets VG_E2E_ALLOW_INGEST_GAP=1 (only test_fault_ingest_kill.sh: a
#     SIGKILLed worker loses what Paho had PUBACKed before the commit,
#     docs/BATCH.md "Known limit"), and is always logged;
#   - the recovery path: every device spool imported (vigil-batch import)
#     into the same warehouse: then exactly once, nothing missing;
#   - every trip recorded, the overheat stopped before its damage limit.
e2e_fleet_finish() {
    local i
    e2e_sim_wait run "$1"
    e2e_wait_drained "$E2E_N" 30 || vg_fail "agents did not drain their backlog"
    e2e_wait_wh "$VG_TMP/wh.db" run 15 || vg_log "warehouse incomplete after 15 s"
    for ((i = 0; i < E2E_N; i++)); do
        vg_stop_pid "${E2E_AGENT[i]}" 5
    done
    vg_stop_pid "$E2E_INGEST" 5
    e2e_check_exactly_once "$VG_TMP/wh.db" run
    E2E_LIVE_MISSING=$E2E_MISSING # read by the tests
    vg_log "live path (archive -> ingest): missing=$E2E_MISSING duplicate=$E2E_DUP"
    [ "$E2E_DUP" = 0 ] || vg_fail "live path: $E2E_DUP duplicates in the warehouse"
    if [ "$E2E_MISSING" != 0 ] && [ "${VG_E2E_ALLOW_INGEST_GAP:-0}" != 1 ]; then
        vg_fail "live path: $E2E_MISSING acknowledged batches never reached the warehouse"
    fi
    e2e_import_spools "$VG_TMP/wh.db"
    e2e_assert_exactly_once "$VG_TMP/wh.db" run
    e2e_check_trips run "$VG_TMP/wh.db"
}

# e2e_import_spools WH : vigil-batch import of every agent's spool.
e2e_import_spools() {
    local i
    for ((i = 0; i < E2E_N; i++)); do
        "$VB" import --warehouse "$1" --device "${E2E_PREFIX:-sim}-$i" "$VG_TMP/a$i.data/spool.db" \
            2>>"$VG_TMP/import.err" || vg_fail "import of sim-$i: $(tail -2 "$VG_TMP/import.err")"
    done
}
