#!/usr/bin/env bash
# Fault: vigil-batch ingest is SIGKILLed (mid-message: 4 machines at 200 Hz
# keep it busy) and restarted 8 times while a fleet streams through vigild.
# Its session is persistent (same --client-id), so what the broker queued or
# had in flight is redelivered; what Paho had already PUBACKed but ingest
# had not committed is the documented gap (docs/BATCH.md, "Known limit"),
# measured and logged here, and closed by re-importing the device spools.
# Checks: no duplicate in the warehouse at any point (the live path alone,
# and live + re-import), nothing missing after the re-import, the per-device
# sample counts equal the simulator's acknowledged counts, the warehouse
# passes integrity_check, every trip recorded, overheat stopped in time.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
. "$(dirname "$0")/../tools/e2e_lib.sh"
vg_watchdog 150
KILLS=8
e2e_init
vg_broker_start --persist
e2e_config "$VG_TMP/vigild.ini"
e2e_fleet_start 4 --rate 200 --duration 50 --seed 9
for ((k = 1; k <= KILLS; k++)); do
    sleep "4.$((RANDOM % 10))"
    kill -KILL "$E2E_INGEST"
    wait "$E2E_INGEST" 2>/dev/null || true
    vg_log "ingest SIGKILLed (round $k); restarting"
    e2e_ingest_start "ingest$k" "$VG_TMP/wh.db" e2e-ingest
done
# the Paho gap of a killed worker is expected here: measured, then closed
export VG_E2E_ALLOW_INGEST_GAP=1
e2e_fleet_finish 90
vg_assert_eq ok "$(sqlite3 "$VG_TMP/wh.db" "PRAGMA integrity_check")" "warehouse integrity"
vg_log "PASS: $KILLS ingest SIGKILLs: live path missing=$E2E_LIVE_MISSING batches" \
    "(closed by spool import); duplicate=0"
