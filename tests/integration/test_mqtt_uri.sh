#!/usr/bin/env bash
# Broker URIs are read the same way by the four programs that speak MQTT
# (shared/vg_uri.c): vigild, vigilctl tail, vigil-batch ingest and
# vigil-sim --listen all connect to a plain mosquitto given an mqtt:// URI
# (Paho is given tcp://), and each refuses a URI of no known scheme at once,
# with a non-zero status and the same "cannot use broker URI" message,
# without trying to connect.  (TLS schemes: test_security_tls.sh,
# test_security_clients.sh.)
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
vg_broker_start
MQTT=mqtt://127.0.0.1:$VG_BROKER_PORT
VB=$VG_BUILD/batch/vigil-batch
CTL=$VG_BUILD/ctl/vigilctl

# 1. mqtt:// is accepted by all four
vg_bg d "$VGD_BIN" --broker "$MQTT" --device dev-u --data-dir "$VG_TMP/d.data"
vgd_wait_for 10 grep -qs "connected to $MQTT" "$VG_TMP/d.err" ||
    vg_fail "vigild did not connect over mqtt://: $(cat "$VG_TMP/d.err")"
vg_timeout 15 "$CTL" tail --broker "$MQTT" --json --count 1 --wait 5 vigil/v1/dev-u/status \
    >"$VG_TMP/ctl.out" 2>"$VG_TMP/ctl.err" ||
    vg_fail "vigilctl over mqtt://: $(cat "$VG_TMP/ctl.err")"
grep -q '"dev-u"' "$VG_TMP/ctl.out" || vg_fail "vigilctl read: $(cat "$VG_TMP/ctl.out")"
vg_bg ingest "$VB" ingest --broker "$MQTT" --warehouse "$VG_TMP/wh.db" \
    --ready-file "$VG_TMP/ingest.ready"
vg_wait_file "$VG_TMP/ingest.ready" 10 ||
    vg_fail "vigil-batch ingest did not subscribe over mqtt://: $(cat "$VG_TMP/ingest.err")"
vg_bg listen "$VG_SIM" --broker "$MQTT" --listen --out "$VG_TMP/listen.csv" \
    --ready-file "$VG_TMP/listen.ready"
vg_wait_file "$VG_TMP/listen.ready" 10 ||
    vg_fail "vigil-sim did not subscribe over mqtt://: $(cat "$VG_TMP/listen.err")"
vg_log "mqtt:// accepted by vigild, vigilctl, vigil-batch and vigil-sim"

# 2. an unknown scheme: refused at once, status STATUS, the common message
# refused WHAT STATUS CMD...
refused() {
    local what=$1 want=$2 rc=0
    shift 2
    vg_timeout 10 "$@" >"$VG_TMP/bad.out" 2>"$VG_TMP/bad.err" || rc=$?
    vg_assert_eq "$want" "$rc" "$what: exit status for http://"
    grep -q "cannot use broker URI 'http://127.0.0.1:$VG_BROKER_PORT'" "$VG_TMP/bad.err" ||
        vg_fail "$what: $(cat "$VG_TMP/bad.err")"
    vg_log "refused as expected, $what: $(grep -m1 'cannot use broker URI' "$VG_TMP/bad.err")"
}
BAD=http://127.0.0.1:$VG_BROKER_PORT
refused vigild 1 "$VGD_BIN" --broker "$BAD" --device dev-v --data-dir "$VG_TMP/v.data"
refused vigilctl 2 "$CTL" tail --broker "$BAD" --count 1
refused vigil-batch 2 "$VB" ingest --broker "$BAD" --warehouse "$VG_TMP/wh2.db"
refused vigil-sim 1 "$VG_SIM" --broker "$BAD" --listen --out "$VG_TMP/bad.csv"
vg_log "PASS"
