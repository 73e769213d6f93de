#!/usr/bin/env bash
# TLS against the deploy broker config (deploy/mosquitto/mosquitto.conf with
# a CA, server and client certificates made here by openssl): vigild
# connects over ssl:// with the CA, its client certificate and password,
# and processes samples (an overheat trips, the shutdown reaches the
# operator over TLS).  Refused: a plain-TCP client, a client that trusts
# another CA, a client certificate from another CA, no client certificate,
# and vigild trusting the wrong CA (it never connects, and logs OpenSSL's
# reason).  vigilctl reads the retained shutdown over mqtts:// (rewritten
# to ssl://), and trusting the wrong CA exits 3 with OpenSSL's reason.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
for u in dev-a operator; do vg_secure_user "$u"; done
vg_pki_ca rogue
vg_pki_cert rogue rogue-dev-a dev-a
vg_secure_broker_start

# vigild_conf NAME CAFILE: vigild config with dev-a's TLS identity
vigild_conf() {
    cat >"$VG_TMP/$1.conf" <<CONF
[mqtt]
ca_file = $2
cert_file = $VG_PKI/dev-a.pem
key_file = $VG_PKI/dev-a.key
username = dev-a
password = $(cat "$VG_PKI/dev-a.pass")
[channel.temp]
hi = 95
trip = true
CONF
}

# broker_says REGEX : count of broker log lines matching REGEX
broker_says() {
    grep -c -E "$1" "$VG_TMP/broker.log" || true
}

# broker_said REGEX N : true once more than N broker log lines match
broker_said() {
    [ "$(broker_says "$1")" -gt "$2" ]
}

# refused WHAT BROKER_REGEX ARGS... : a mosquitto_sub with these TLS/auth
# args must fail to connect (non-zero, nothing received) and the broker must
# log why (BROKER_REGEX, one more line than before)
refused() {
    local what=$1 why=$2 rc=0 before
    shift 2
    before=$(broker_says "$why")
    vg_timeout 10 mosquitto_sub -h 127.0.0.1 -p "$VG_BROKER_PORT" -t 'vigil/v1/dev-a/#' \
        -C 1 -W 4 "$@" >"$VG_TMP/probe.out" 2>"$VG_TMP/probe.err" || rc=$?
    [ "$rc" -ne 0 ] && [ ! -s "$VG_TMP/probe.out" ] ||
        vg_fail "$what was not refused (rc $rc): $(cat "$VG_TMP/probe.out" "$VG_TMP/probe.err")"
    vgd_wait_for 3 broker_said "$why" "$before" ||
        vg_fail "$what: the broker did not log '$why'"
    vg_log "refused as expected, $what: client '$(head -1 "$VG_TMP/probe.err")', broker '$why'"
}

# 1. vigild over TLS processes samples: an overheat trips
vigild_conf good "$VG_PKI/ca.pem"
vg_tls_sub_bg op-sub operator -q 1 -t 'vigil/v1/+/cmd/shutdown' -t 'vigil/v1/+/alerts' -F '%t %x'
vgd_start d dev-a --config "$VG_TMP/good.conf"
grep -q "connected to ssl://127.0.0.1:$VG_BROKER_PORT" "$VG_TMP/d.err" || vg_fail "not on TLS"
now=$(vgd_now_us)
for seq in 1 2 3 4; do
    "$VGD_TOOL" samples dev-a "$seq" $((now + seq * 500000)) 100000 temp 96,97,98,99,100 \
        "$VG_TMP/b.cbor"
    vg_tls_pub dev-a -q 1 -t vigil/v1/dev-a/samples -f "$VG_TMP/b.cbor" ||
        vg_fail "dev-a cannot publish its samples over TLS"
done
vgd_wait_decoded op "^shutdown [0-9]+ temp " 10 || vg_fail "no trip over TLS: $(vgd_decode op)"
vgd_wait_decoded op "^alert raised temp " 5 || vg_fail "no alert over TLS: $(vgd_decode op)"
vg_log "vigild over TLS: $(vgd_decode op | paste -sd';')"

# positive control for the probes: the retained shutdown is readable
vg_tls_sub dev-a -t vigil/v1/dev-a/cmd/shutdown -C 1 -W 4 >"$VG_TMP/ok.out" ||
    vg_fail "control probe failed"
[ -s "$VG_TMP/ok.out" ] || vg_fail "control probe received nothing"

# 2. refused connections
PASS=$(cat "$VG_PKI/dev-a.pass")
refused "plain TCP on the TLS port" "wrong version number" -u dev-a -P "$PASS"
refused "a client trusting another CA" "alert unknown ca" --cafile "$VG_PKI/rogue.pem" \
    --cert "$VG_PKI/dev-a.pem" --key "$VG_PKI/dev-a.key" -u dev-a -P "$PASS"
refused "a client certificate from another CA" "certificate verify failed" --cafile "$VG_PKI/ca.pem" \
    --cert "$VG_PKI/rogue-dev-a.pem" --key "$VG_PKI/rogue-dev-a.key" -u dev-a -P "$PASS"
refused "no client certificate" "peer did not return a certificate" --cafile "$VG_PKI/ca.pem" -u dev-a -P "$PASS"

# 3. vigilctl over mqtts:// reads the retained shutdown; trusting the wrong
#    CA it exits 3 (unreachable) and says why
CTL=$VG_BUILD/ctl/vigilctl
MQTTS=mqtts://127.0.0.1:$VG_BROKER_PORT
CTL_ID=(--cert-file "$VG_PKI/operator.pem" --key-file "$VG_PKI/operator.key" --username operator
    --password "$(cat "$VG_PKI/operator.pass")")
vg_timeout 15 "$CTL" tail --broker "$MQTTS" --ca-file "$VG_PKI/ca.pem" "${CTL_ID[@]}" --count 1 \
    --wait 5 vigil/v1/dev-a/cmd/shutdown >"$VG_TMP/ctl.out" 2>"$VG_TMP/ctl.err" ||
    vg_fail "vigilctl over mqtts:// failed: $(cat "$VG_TMP/ctl.err")"
grep -q "shutdown" "$VG_TMP/ctl.out" || vg_fail "vigilctl read: $(cat "$VG_TMP/ctl.out")"
rc=0
vg_timeout 15 "$CTL" tail --broker "$MQTTS" --ca-file "$VG_PKI/rogue.pem" "${CTL_ID[@]}" --count 1 \
    --wait 5 >"$VG_TMP/ctl-rogue.out" 2>"$VG_TMP/ctl-rogue.err" || rc=$?
vg_assert_eq 3 "$rc" "vigilctl exit status trusting the wrong CA"
grep -q "TLS handshake failed: certificate verify failed" "$VG_TMP/ctl-rogue.err" ||
    vg_fail "vigilctl with the wrong CA: $(cat "$VG_TMP/ctl-rogue.err")"
vg_log "vigilctl with the wrong CA: $(head -1 "$VG_TMP/ctl-rogue.err")"

# 4. vigild trusting the wrong CA (mqtts:// URI) never connects, and says why
vg_stop_pid "$VGD_PID" 5
before=$(broker_says "alert unknown ca")
vigild_conf rogue "$VG_PKI/rogue.pem"
vg_bg r "$VGD_BIN" --broker "$MQTTS" --device dev-a --data-dir "$VG_TMP/r.data" \
    --config "$VG_TMP/rogue.conf"
vgd_wait_for 10 grep -qs "cannot connect" "$VG_TMP/r.err" || vg_fail "no connect error: $(cat "$VG_TMP/r.err")"
sleep 1
grep -q "connected to" "$VG_TMP/r.err" && vg_fail "vigild connected trusting the wrong CA"
[ "$(broker_says "alert unknown ca")" -gt "$before" ] || vg_fail "broker did not see vigild reject it"
grep -q "cannot connect to $MQTTS (TLS handshake failed: certificate verify failed)" \
    "$VG_TMP/r.err" || vg_fail "vigild did not log the TLS reason: $(cat "$VG_TMP/r.err")"
vg_log "vigild with the wrong CA: $(grep -m1 'cannot connect' "$VG_TMP/r.err")"
vg_log "PASS"
