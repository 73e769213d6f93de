#!/usr/bin/env bash
# A session the broker drops right after accepting it, twice in a row, is
# what a wedged Paho client looks like from vigild (Paho 1.3.12 resending a
# broken publish first after every reconnect; see agent/mqtt_link.c).  Here
# another client takes vigild's client id the moment vigild has connected,
# twice: vigild must replace its MQTT client, connect again, subscribe, and
# carry on - a batch published after is processed, acknowledged and
# archived, and the backlog drains.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
vg_broker_start
D=dev-w
T=vigil/v1/$D
cat >"$VG_TMP/v.conf" <<CONF
[agent]
metrics_ms = 200
[mqtt]
retry_min_s = 1
retry_max_s = 1
CONF
vgd_start d "$D" --config "$VG_TMP/v.conf"
connects() { grep -c "connected to" "$VG_TMP/d.err" || true; }
more_than() { [ "$(connects)" -gt "$1" ]; }
# takes vigild's client id (mosquitto drops the older connection at once)
kick() {
    mosquitto_pub -p "$VG_BROKER_PORT" -h 127.0.0.1 -i "vigild-$D" -t "$T/kick" -m k ||
        vg_fail "mosquitto_pub could not connect"
}
for i in 1 2; do
    n=$(connects)
    [ "$i" = 1 ] || vgd_wait_for 15 more_than "$n" || vg_fail "vigild did not reconnect ($i)"
    kick
done
vgd_wait_for 15 grep -q "replacing the MQTT client" "$VG_TMP/d.err" ||
    vg_fail "no replacement after two quick losses: $(tail -5 "$VG_TMP/d.err")"
# a "connected" line after the replacement's (it may come within ms)
fresh_up() { awk '/replacing the MQTT client/ {r = 1} r && /connected to/ {f = 1} END {exit !f}' \
    "$VG_TMP/d.err"; }
vgd_wait_for 15 fresh_up || vg_fail "the fresh client did not connect"
vgd_wait_for 5 grep -q "vigild_mqtt_client_renewals_total{device=\"$D\"} 1" "$VG_TMP/d.prom" ||
    vg_fail "renewal not counted: $(grep renewals "$VG_TMP/d.prom")"
# the fresh client's session works both ways
vgd_sub a "$T/#"
"$VGD_TOOL" samples "$D" 1 "$(vgd_now_us)" 100000 temp 20,21,22,23 "$VG_TMP/b.cbor"
vgd_pub "$T/samples" "$VG_TMP/b.cbor"
vgd_wait_decoded a "^archive 0 [0-9]+ [0-9]+ 4$" 15 ||
    vg_fail "the batch never reached the archive: $(vgd_decode a | tail -5)"
accepted() { [ "$(vgd_metric d vigild_batches_in_total)" = 1 ]; }
vgd_wait_for 5 accepted || vg_fail "batches accepted: $(vgd_metric d vigild_batches_in_total)"
vgd_wait_for 10 grep -q "vigild_backlog_records{device=\"$D\"} 0" "$VG_TMP/d.prom" ||
    vg_fail "backlog not drained"
vg_log "PASS: wedged session replaced, then a batch processed and archived"
