#!/usr/bin/env bash
# The whole system end to end on loopback, twice:
#   run 1: vigil-sim (4 devices: normal, overheat, drift, spike) -> one vigild
#          per device (local envelope only, no model) -> archive -> vigil-batch
#          ingest -> warehouse;
#   nightly: the faults are labelled from the simulator's truth, vigil-batch
#          run retrains, backtests, signs and publishes (retained) bundles;
#   run 2: fresh vigild data dirs, the same seed and scenario; every agent
#          applies its bundle before the first sample.
# Checks: in both runs every batch the broker acknowledged reaches the
# warehouse exactly once (by device and seq, and sample counts); every trip
# is recorded and the overheat stops before its damage limit; the model is
# applied (vigild_model_version, acks); and the fitted thresholds change
# detection in the expected direction: with the fitted baseline the drift
# device alerts earlier after onset than with the envelope alone.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
. "$(dirname "$0")/../tools/e2e_lib.sh"
vg_watchdog 170
N=4
SIMARGS=(--devices "$N" --scenario mixed --seed 11 --rate 10 --duration 120 --speed 4)
e2e_init
vg_broker_start --persist
e2e_config "$VG_TMP/vigild.ini"

run_fleet() { # run_fleet NAME WAREHOUSE
    local name=$1 wh=$2 i
    e2e_ingest_start "ingest-$name" "$wh" e2e-ingest # one worker, one session
    for ((i = 0; i < N; i++)); do
        e2e_agent_start "$i"
    done
    if [ "$name" = run2 ]; then
        vgd_wait_for 20 model_applied || vg_fail "not every agent applied its model"
    fi
    e2e_sim "$name" "${SIMARGS[@]}"
    e2e_sim_wait "$name" 90
    e2e_wait_drained "$N" 20 || vg_fail "$name: agents did not drain their backlog"
    e2e_wait_wh "$wh" "$name" 20 || vg_log "$name: warehouse incomplete after 20 s"
    sleep 0.5
    for ((i = 0; i < N; i++)); do
        vg_stop_pid "${E2E_AGENT[i]}" 5
        mv "$VG_TMP/a$i.prom" "$VG_TMP/$name-a$i.prom"
        mv "$VG_TMP/a$i.data" "$VG_TMP/$name-a$i.data"
        mv "$VG_TMP/a$i.err" "$VG_TMP/$name-a$i.err"
    done
    vg_stop_pid "$E2E_INGEST" 5
    e2e_assert_exactly_once "$wh" "$name"
    e2e_check_trips "$name" "$wh"
}
model_applied() {
    local i
    for ((i = 0; i < N; i++)); do
        [ "$(vgd_metric "a$i" vigild_model_version)" != 0 ] || return 1
    done
}

run_fleet run1 "$VG_TMP/wh1.db"
# label every injected fault (the operator's incident log), then the nightly job
tail -n +2 "$VG_TMP/run1.truth" | while IFS=, read -r dev ch _ _ _ s e; do
    args=(--device "$dev" --from "$((s / 1000000))" --to "$((e / 1000000 + 1))")
    [ "$ch" != '*' ] && args+=(--channel "$ch")
    "$VB" label --warehouse "$VG_TMP/wh1.db" "${args[@]}" --note e2e >/dev/null
done
"$VB" run --warehouse "$VG_TMP/wh1.db" --out "$VG_TMP/bundles" --broker "$VG_BROKER_URI" \
    --sign-key "$VG_TMP/fleet.key" --report "$VG_TMP/report.html" --config "$VG_TMP/vigild.ini" \
    --prior-n0 100 --trip-margin 5 \
    >"$VG_TMP/nightly.out" 2>"$VG_TMP/nightly.err" || vg_fail "nightly run: $(cat "$VG_TMP/nightly.err")"
cat "$VG_TMP/nightly.out" "$VG_TMP/nightly.err" >&2
# the operator clears run 1's latched shutdown (retained on the broker)
"$VG_SIM" --broker "$VG_BROKER_URI" --clear-shutdown sim-1 >/dev/null 2>&1 || vg_fail "clear-shutdown"
run_fleet run2 "$VG_TMP/wh2.db"
# first_alert WH DEV CH FROM_US : simulated seconds after FROM_US of DEV's
# first raised alert on CH at or after FROM_US ("none" if there is none)
first_alert() {
    sqlite3 "$1" "SELECT coalesce(printf('%.1f', (min(a.t_us) - $4) / 1e6), 'none') FROM alerts a
                  JOIN devices d ON d.id = a.device
                  WHERE d.name = '$2' AND a.channel = '$3' AND a.raised = 1 AND a.t_us >= $4"
}
for r in run1 run2; do
    for ((i = 0; i < N; i++)); do
        vg_log "$r sim-$i: alerts raised $(grep 'vigild_alerts_total.*raised' "$VG_TMP/$r-a$i.prom" |
            awk '{print $2}'), trips $(vgd_metric "$r-a$i" vigild_trips_total)," \
            "model v$(vgd_metric "$r-a$i" vigild_model_version)"
    done
done
# the model: applied by every agent, acked, and it scored every run-2 batch
for ((i = 0; i < N; i++)); do
    [ "$(vgd_metric "run2-a$i" vigild_model_version)" -ge 1 ] || vg_fail "sim-$i ran run 2 without a model"
done
vg_assert_eq 0 "$(sqlite3 "$VG_TMP/wh2.db" "SELECT count(*) FROM samples WHERE model_version = 0")" \
    "run-2 sample blocks scored without the model"
vg_assert_eq "$N" "$(sqlite3 "$VG_TMP/wh1.db" "SELECT count(DISTINCT device) FROM models")" "models published"
# the drift: the envelope alone (adaptive detector) follows a slow drift and
# says nothing inside its window; the fitted baseline (EWMA/CUSUM against
# run 1's quiet data) raises an alert while the drift is on
IFS=, read -r _ _ _ _ _ d_on d_off < <(grep '^sim-2,temp,drift,' "$VG_TMP/run1.truth")
t1=$(first_alert "$VG_TMP/wh1.db" sim-2 temp "$d_on")
t2=$(first_alert "$VG_TMP/wh2.db" sim-2 temp "$d_on")
win=$(((d_off - d_on) / 1000000))
vg_log "drift on sim-2 (+0 .. +$win s): first temp alert without model: +$t1 s, with model: +$t2 s"
if [ "$t2" = none ] || ! awk -v t="$t2" -v w="$win" 'BEGIN { exit !(t < w) }'; then
    vg_fail "with the model the drift was not alerted inside its window (+$t2 s)"
fi
[ "$t1" = none ] || awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b < a) }' ||
    vg_fail "the model did not alert the drift earlier (+$t2 s vs +$t1 s)"
vg_log "PASS"
