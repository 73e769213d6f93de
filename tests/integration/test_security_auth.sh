#!/usr/bin/env bash
# Per-device user name and password on the deploy broker config (TLS with
# client certificates, deploy/mosquitto/acl): the right password connects;
# a wrong password, an unknown user and no user name at all are refused
# with "not authorised" by mosquitto_sub and by the broker's log, and
# vigild with a wrong password never connects and says why.  One device's
# password does not open another device's account.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
for u in dev-a dev-b; do vg_secure_user "$u"; done
vg_secure_broker_start
PASS_A=$(cat "$VG_PKI/dev-a.pass")
PASS_B=$(cat "$VG_PKI/dev-b.pass")

# probe USER PASS : mosquitto_sub over TLS with dev-a's certificate; its
# stderr in $VG_TMP/probe.err, status returned
probe() {
    local user=(-u "$1") rc=0
    [ -n "$1" ] || user=()
    mosquitto_sub -h 127.0.0.1 -p "$VG_BROKER_PORT" --cafile "$VG_PKI/ca.pem" \
        --cert "$VG_PKI/dev-a.pem" --key "$VG_PKI/dev-a.key" "${user[@]}" ${2:+-P "$2"} \
        -t vigil/v1/dev-a/cmd/reset -C 1 -W 2 >/dev/null 2>"$VG_TMP/probe.err" || rc=$?
    return "$rc"
}

# refused WHAT USER PASS : refused with "not authorised", and the broker says so
refused() {
    local before
    before=$(grep -c "not authorised" "$VG_TMP/broker.log" || true)
    probe "$2" "$3" && vg_fail "$1: connected"
    grep -qi "not authori[sz]ed" "$VG_TMP/probe.err" || vg_fail "$1: unclear error: $(cat "$VG_TMP/probe.err")"
    sleep 0.2
    [ "$(grep -c "not authorised" "$VG_TMP/broker.log")" -gt "$before" ] ||
        vg_fail "$1: the broker did not log the refusal"
    vg_log "refused as expected, $1: $(head -1 "$VG_TMP/probe.err")"
}

# control: the right password connects (the -W timeout is the only error)
probe dev-a "$PASS_A" || true
grep -q "Timed out" "$VG_TMP/probe.err" || vg_fail "dev-a with its password: $(cat "$VG_TMP/probe.err")"

refused "wrong password" dev-a "wrong-$PASS_A"
refused "another device's password" dev-a "$PASS_B"
refused "unknown user" dev-zz "$PASS_A"
refused "no user name" "" ""

# vigild: right password connects, wrong one does not and logs the code
vgd_conf() {
    cat >"$VG_TMP/$1.conf" <<CONF
[mqtt]
ca_file = $VG_PKI/ca.pem
cert_file = $VG_PKI/dev-a.pem
key_file = $VG_PKI/dev-a.key
username = dev-a
password = $2
CONF
}
vgd_conf good "$PASS_A"
vgd_start d dev-a --config "$VG_TMP/good.conf"
vg_stop_pid "$VGD_PID" 5
vgd_conf bad "not-$PASS_A"
before=$(grep -c "not authorised" "$VG_TMP/broker.log" || true)
vg_bg bad "$VGD_BIN" --broker "$VG_BROKER_URI" --device dev-a --data-dir "$VG_TMP/bad.data" \
    --config "$VG_TMP/bad.conf"
vgd_wait_for 10 grep -qs "cannot connect" "$VG_TMP/bad.err" || vg_fail "no connect error: $(cat "$VG_TMP/bad.err")"
sleep 1
grep -q "connected to" "$VG_TMP/bad.err" && vg_fail "vigild connected with a wrong password"
[ "$(grep -c "not authorised" "$VG_TMP/broker.log")" -gt "$before" ] || vg_fail "broker did not refuse vigild"
# MQTT 3.1.1 CONNACK return code 5 = "not authorized"
grep -q "cannot connect.*(5: " "$VG_TMP/bad.err" || vg_fail "vigild error is not CONNACK 5: $(cat "$VG_TMP/bad.err")"
vg_log "vigild, wrong password: $(grep -m1 'cannot connect' "$VG_TMP/bad.err")"
vg_log "PASS"
