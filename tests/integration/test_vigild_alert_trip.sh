#!/usr/bin/env bash
# vigild end to end with vigil-sim: an overheat trips (shutdown retained,
# local action run, the simulated machine stops before damage); spikes
# raise and clear alerts but never trip a 3-of-5 debounced limit; alerts
# carry detector and score; SIGHUP reloads without harm; the archive
# receives every batch.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 90
vg_broker_start

cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
hysteresis = 2
debounce_n = 3
debounce_m = 5
trip = true
[action]
command = echo "\$VIGIL_DEVICE \$VIGIL_CHANNEL \$VIGIL_TRIP_ID" >> $VG_TMP/action.log
timeout_ms = 2000
CONF
vgd_sub all 'vigil/v1/#' -v
vgd_start over sim-1 --config "$VG_TMP/v.conf"
vgd_start spike sim-3 --config "$VG_TMP/v.conf"
# sim-0 normal, sim-1 overheat, sim-2 drift, sim-3 spike
vg_sim 60 --broker "$VG_BROKER_URI" --devices 4 --scenario mixed --rate 10 \
    --duration 44 --speed 4 --start "$(date +%s)" --quiet >"$VG_TMP/sim.out" 2>&1 ||
    vg_fail "vigil-sim failed: $(tail -5 "$VG_TMP/sim.out")"
cat "$VG_TMP/sim.out" >&2
grep -Eq "sim-1 +overheat.*stopped .* after onset.*not reached" "$VG_TMP/sim.out" ||
    vg_fail "the overheating machine was not stopped before damage"
grep -Eq "sim-3 +spike .* no trip" "$VG_TMP/sim.out" || vg_fail "spikes tripped"
vg_assert "local action ran once for sim-1" grep -qx "sim-1 temp 1" "$VG_TMP/action.log"
vg_assert_eq 1 "$(wc -l <"$VG_TMP/action.log")" "actions run"

kill -HUP "$VGD_PID" # the spike daemon reloads (must keep running)
sleep 1
kill -0 "$VGD_PID" || vg_fail "vigild died on SIGHUP"
vg_stop_pid "$VGD_PID" 5

dec=$(vgd_decode all)
grep -q "^shutdown 1 temp limit" <<<"$dec" || vg_fail "no retained shutdown for sim-1"
grep -q "^status 1 1" <<<"$dec" || vg_fail "no latched status"
n_sp_raised=$(grep -c "sim-3/alerts" "$VG_TMP/all-sub.out" || true)
[ "$n_sp_raised" -ge 2 ] || vg_fail "spikes raised no alert pair on sim-3 ($n_sp_raised)"
sp=$("$VGD_TOOL" decode < <(grep "sim-3/alerts" "$VG_TMP/all-sub.out"))
grep -q "^alert raised temp" <<<"$sp" || vg_fail "no raised temp alert on sim-3"
grep -q "^alert cleared temp" <<<"$sp" || vg_fail "no cleared temp alert on sim-3"
grep -q "sim-3/cmd/shutdown" "$VG_TMP/all-sub.out" && vg_fail "a shutdown was published for spikes"
# the archive carries every batch of sim-3 (440 samples per channel / 10 = 44 batches)
narch=$("$VGD_TOOL" decode < <(grep "sim-3/archive" "$VG_TMP/all-sub.out") |
    awk '$2 == 0 {print $3}' | sort -un | wc -l)
vg_assert_eq 44 "$narch" "sim-3 batches archived"
vg_log "PASS"
