#!/usr/bin/env bash
# The spool's disk quota holds while samples pour in and nothing can be
# forwarded (uplink throttled to a trickle): unsent samples are evicted
# oldest first and counted, the database stays under the quota, and the
# trip still happens and is counted.  (The eviction order itself is
# covered by tests/unit/test_spool.c.)
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 90
vg_broker_start
# alert_on 0.99: statistical alerts (which flap at 100 Hz under max-rate
# load) stay quiet; what fills the spool is samples, as in a long outage
cat >"$VG_TMP/v.conf" <<CONF
[detect]
alert_on = 0.99
alert_off = 0.9
[channel.temp]
hi = 95
debounce_n = 3
debounce_m = 5
trip = true
[spool]
quota_bytes = 400000
uplink_rate = 1
commit_every = 64
[agent]
metrics_ms = 200
CONF
vgd_start d sim-1 --config "$VG_TMP/v.conf"
# 2 devices: sim-1 overheats; 100 rows per batch, ~5 KB each, ~5 MB total
vg_sim 60 --broker "$VG_BROKER_URI" --devices 2 --scenario mixed --rate 100 --duration 1000 \
    --batch 100 --max-rate --quiet >"$VG_TMP/sim.out" 2>&1 || vg_fail "sim failed"
sleep 2
vg_stop_pid "$VGD_PID" 5
bytes=$(vgd_metric d vigild_spool_bytes)
lost=$(vgd_metric d vigild_evicted_unsent_total)
trips=$(vgd_metric d vigild_trips_total)
vg_log "spool_bytes=$bytes evicted_unsent=$lost trips=$trips"
[ "$bytes" -le 440000 ] || vg_fail "spool $bytes bytes over the 400000 quota"
[ "$lost" -gt 0 ] || vg_fail "nothing evicted: the test did not exceed the quota"
[ "$trips" -ge 1 ] || vg_fail "no trip"
vg_log "PASS"
