#!/usr/bin/env bash
# The broker is stopped and restarted mid-run (persistence on, as a real
# deployment would run it): vigil-sim keeps publishing through the outage,
# vigild's persistent session gets what was queued, and at the end every
# batch the simulator published is in the archive exactly as a set (at
# least once), and vigild's backlog is empty.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 90
vg_broker_start --persist
vgd_start d sim-0
# the archive consumer: persistent session, so it misses nothing either
vg_bg arch mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -q 1 -c -i arch-test \
    -t vigil/v1/sim-0/archive -F '%t %x'
sleep 0.5
vg_bg sim "$VG_SIM" --broker "$VG_BROKER_URI" --devices 1 --rate 20 --duration 20 --speed 1 \
    --start "$(date +%s)" --quiet
SIM=$VG_LAST_PID
sleep 6
vg_broker_stop TERM
sleep 3
vg_broker_restart
vg_wait_exit "$SIM" 60 || vg_fail "vigil-sim did not finish cleanly: $(tail -3 "$VG_TMP/sim.out")"
grep -q "result: all 40 batches acknowledged" "$VG_TMP/sim.out" || vg_fail "sim: $(tail -2 "$VG_TMP/sim.out")"
got() { "$VGD_TOOL" decode <"$VG_TMP/arch.out" | awk '$2 == 0 {print $3}' | sort -un | wc -l; }
all40() { [ "$(got)" = 40 ]; }
vgd_wait_for 30 all40 || vg_fail "archive has $(got) of 40 batches"
vgd_wait_for 10 grep -q 'vigild_backlog_records{device="sim-0"} 0' "$VG_TMP/d.prom" ||
    vg_fail "backlog not drained"
grep -q "connection to .* lost" "$VG_TMP/d.err" || vg_fail "vigild never saw the outage"
vg_log "PASS: 40/40 batches archived across the broker restart"
