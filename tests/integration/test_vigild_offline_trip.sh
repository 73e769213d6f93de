#!/usr/bin/env bash
# The trip path needs no broker: with the broker down, a critical channel
# that falls silent past its deadline (trip_on_stale) trips, the local
# action runs and the latch is recorded; the retained shutdown, published
# while disconnected, reaches the broker once it is back.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
vg_broker_start
T=vigil/v1/dev-s
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
stale_s = 2
trip_on_stale = true
[action]
command = echo "\$VIGIL_CHANNEL \$VIGIL_REASON" > $VG_TMP/action.log
sysfs_path = $VG_TMP/gpio
sysfs_value = 0
[mqtt]
retry_min_s = 1
retry_max_s = 2
CONF
echo 1 >"$VG_TMP/gpio"
vgd_start d dev-s --config "$VG_TMP/v.conf"
now=$(vgd_now_us)
"$VGD_TOOL" samples dev-s 1 "$now" 100000 temp 20,21,22 "$VG_TMP/b.cbor"
vgd_pub "$T/samples" "$VG_TMP/b.cbor"
sleep 0.5
vg_broker_stop KILL
vgd_wait_for 10 test -s "$VG_TMP/action.log" || vg_fail "no local action with the broker down"
grep -q "^temp stale" "$VG_TMP/action.log" || vg_fail "action: $(cat "$VG_TMP/action.log")"
vg_assert_eq 0 "$(cat "$VG_TMP/gpio")" "gpio value written"
[ -s "$VG_TMP/d.data/latched" ] || vg_fail "latch not recorded"
vg_broker_restart
vgd_wait_for 15 grep -q "vigild_connects_total{device=\"dev-s\"} 2" "$VG_TMP/d.prom" ||
    vg_fail "vigild did not reconnect"
ret=$(timeout 5 mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -t "$T/cmd/shutdown" -C 1 -W 4 \
    -F '%t %x' 2>/dev/null || true)
dec=$("$VGD_TOOL" decode <<<"$ret")
grep -q "^shutdown 1 temp stale" <<<"$dec" ||
    vg_fail "retained shutdown not delivered after reconnect: '$ret'"
vg_log "PASS"
