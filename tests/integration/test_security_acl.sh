#!/usr/bin/env bash
# ACLs of deploy/mosquitto/acl (unchanged) on the deploy broker config, over
# TLS with per-device passwords.  Device dev-a is refused everything of
# dev-b: its samples (an overheat injected as dev-a never reaches dev-b's
# vigild or subscribers, no trip), cmd/reset, cmd/shutdown, status and model
# writes are dropped (MQTT 5: PUBACK "not authorized"), and it cannot read
# dev-b's retained model or its samples (nothing is delivered, MQTT 3.1.1
# and 5).  Resets (raw publishes and vigilctl reset, when built): a device
# cannot reset itself and the batch user cannot reset; the operator can.
# Controls show each refused path works for its owner.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
for u in dev-a dev-b batch operator; do vg_secure_user "$u"; done
vg_secure_broker_start
B=vigil/v1/dev-b

cat >"$VG_TMP/b.conf" <<CONF
[mqtt]
ca_file = $VG_PKI/ca.pem
cert_file = $VG_PKI/dev-b.pem
key_file = $VG_PKI/dev-b.key
username = dev-b
password = $(cat "$VG_PKI/dev-b.pass")
[channel.temp]
hi = 95
trip = true
CONF

now=$(vgd_now_us)
# batch_of SEQ VALUES : samples for dev-b in $VG_TMP/s<SEQ>.cbor
batch_of() {
    "$VGD_TOOL" samples dev-b "$1" $((now + $1 * 500000)) 100000 temp "$2" "$VG_TMP/s$1.cbor"
}
# reset_msg FILE : a reset command for dev-b (CBOR per docs/schema.cddl)
reset_msg() {
    python3 -c '
import struct, sys, time
def tstr(s):
    b = s.encode(); return bytes([0x60 + len(b)]) + b
t = int(time.time() * 1e6)
m = b"\xa5" + b"\x00\x01" + b"\x01" + tstr("dev-b") + b"\x02" + tstr("operator") \
    + b"\x03\x1b" + struct.pack(">Q", t) + b"\x04\x00"
open(sys.argv[1], "wb").write(m)' "$1"
}
# lines NAME REGEX : lines of NAME-sub.out whose topic matches
lines() {
    grep -c -E "$2" "$VG_TMP/$1-sub.out" || true
}
# has_lines NAME REGEX N : true once at least N lines match (for vgd_wait_for)
has_lines() {
    [ "$(lines "$1" "$2")" -ge "$3" ]
}

# vigild trusts the key that signs the model dev-a tries to slip in: only
# the ACL stands between that bundle and dev-b
"$VGD_TOOL" keygen "$VG_TMP/pk" "$VG_TMP/sk"
# ctl_reset USER : vigilctl reset of dev-b as USER over TLS (its exit status)
VCTL=$VG_BUILD/ctl/vigilctl
ctl_reset() {
    VIGIL_PASSWORD=$(cat "$VG_PKI/$1.pass") vg_timeout 15 "$VCTL" reset --broker "$VG_BROKER_URI" \
        --device dev-b --username "$1" --ca-file "$VG_PKI/ca.pem" --cert-file "$VG_PKI/$1.pem" \
        --key-file "$VG_PKI/$1.key" --timeout 2
}

vgd_start d dev-b --config "$VG_TMP/b.conf" --trust-key "$VG_TMP/pk"
vg_tls_sub_bg b-sub dev-b -q 1 -t "$B/samples" -t "$B/cmd/reset" -t "$B/model" \
    -t "$B/cmd/shutdown" -F '%t %x'
vg_tls_sub_bg op-sub operator -q 1 -t 'vigil/v1/+/cmd/shutdown' -t 'vigil/v1/+/status' \
    -t 'vigil/v1/+/alerts' -F '%t %x'
vg_tls_sub_bg a-sub dev-a -q 1 -t 'vigil/v1/+/samples' -F '%t %x'
sleep 0.5

# control: dev-b's own samples reach dev-b's subscribers (and dev-a sees none)
batch_of 1 20,21,22,21,20
vg_tls_pub dev-b -q 1 -t "$B/samples" -f "$VG_TMP/s1.cbor" || vg_fail "dev-b cannot publish its samples"
vgd_wait_for 5 has_lines b "^$B/samples " 1 || vg_fail "control: dev-b's samples not delivered"

# 1. dev-a writing dev-b's topics: accepted on the wire, dropped by the ACL
batch_of 2 99,99,99,99,99
batch_of 3 99,99,99,99,99
reset_msg "$VG_TMP/reset.cbor"
"$VGD_TOOL" sign "$VG_TMP/sk" dev-b 9 "$VG_TMP/model.cose" temp:-10:90
vg_tls_pub dev-a -q 1 -t "$B/samples" -f "$VG_TMP/s2.cbor" || vg_fail "3.1.1 publish errored"
vg_tls_pub dev-a -q 1 -t "$B/cmd/reset" -f "$VG_TMP/reset.cbor" || vg_fail "3.1.1 publish errored"
vg_tls_pub dev-a -q 1 -t "$B/model" -r -f "$VG_TMP/model.cose" || vg_fail "3.1.1 publish errored"
vg_tls_pub dev-a -q 1 -t "$B/cmd/shutdown" -r -m forged || vg_fail "3.1.1 publish errored"
vg_tls_pub dev-a -q 1 -t "$B/status" -r -m forged || vg_fail "3.1.1 publish errored"
# MQTT 5 reports the refusal (PUBACK reason 0x87)
vg_tls_pub dev-a -V mqttv5 -q 1 -t "$B/samples" -f "$VG_TMP/s3.cbor" 2>"$VG_TMP/pub5.err" || true
grep -qi "not authori[sz]ed" "$VG_TMP/pub5.err" || vg_fail "MQTT 5 publish not refused: $(cat "$VG_TMP/pub5.err")"
vg_log "dev-a -> $B/samples with MQTT 5: $(head -1 "$VG_TMP/pub5.err")"
sleep 1.5
vg_assert_eq 1 "$(lines b "^$B/samples ")" "samples delivered to dev-b (only its own)"
vg_assert_eq 0 "$(lines b "^$B/(cmd/reset|model|cmd/shutdown) ")" "dev-a's reset/model/shutdown delivered"
vg_assert_eq 0 "$(lines op "^$B/(status|cmd/shutdown) [0-9a-f]*$(printf forged | od -An -tx1 | tr -d ' \n')")" \
    "forged status/shutdown delivered to the operator"
grep -q "TRIP" "$VG_TMP/d.err" && vg_fail "dev-b tripped on dev-a's samples"
grep -q "model 9" "$VG_TMP/d.err" && vg_fail "dev-b saw dev-a's model: $(grep model "$VG_TMP/d.err")"
vg_assert_eq 0 "$(lines a "^$B/samples ")" "dev-b's samples delivered to dev-a"

# 2. dev-a cannot read dev-b's (retained) model
vg_tls_pub batch -q 1 -t "$B/model" -r -f "$VG_TMP/model.cose" || vg_fail "batch cannot publish a model"
vg_tls_sub dev-b -t "$B/model" -C 1 -W 3 >"$VG_TMP/bm.out" || vg_fail "control: dev-b cannot read its model"
[ -s "$VG_TMP/bm.out" ] || vg_fail "control: dev-b read an empty model"
vg_tls_sub dev-a -t "$B/model" -C 1 -W 3 >"$VG_TMP/am.out" 2>"$VG_TMP/am.err" || true
[ -s "$VG_TMP/am.out" ] && vg_fail "dev-a read dev-b's model (MQTT 3.1.1)"
vg_tls_sub dev-a -V mqttv5 -t "$B/model" -C 1 -W 3 >"$VG_TMP/am5.out" 2>"$VG_TMP/am5.err" || true
[ -s "$VG_TMP/am5.out" ] && vg_fail "dev-a read dev-b's model (MQTT 5)"
# mosquitto 2.0 checks read rights per delivered message: depending on the
# version the SUBACK is a refusal or a grant that never delivers anything
vg_log "dev-a subscribing $B/model with MQTT 5: nothing delivered ($(head -1 "$VG_TMP/am5.err"))"

# 3. resets: dev-b trips on its own samples; neither dev-b nor batch can
#    reset it, the operator can (once the value is back)
batch_of 4 99,99,99,99,99
vg_tls_pub dev-b -q 1 -t "$B/samples" -f "$VG_TMP/s4.cbor"
vgd_wait_for 5 grep -q "TRIP" "$VG_TMP/d.err" || vg_fail "control: dev-b did not trip on its own samples"
vgd_wait_for 5 has_lines op "^$B/cmd/shutdown [0-9a-f]+$" 1 || vg_fail "operator did not see the trip"
batch_of 5 20,20,20,20,20
vg_tls_pub dev-b -q 1 -t "$B/samples" -f "$VG_TMP/s5.cbor"
vg_tls_pub dev-b -q 1 -t "$B/cmd/reset" -f "$VG_TMP/reset.cbor"
vg_tls_pub batch -q 1 -t "$B/cmd/reset" -f "$VG_TMP/reset.cbor"
vg_tls_pub dev-b -V mqttv5 -q 1 -t "$B/cmd/reset" -f "$VG_TMP/reset.cbor" 2>"$VG_TMP/r5.err" || true
grep -qi "not authori[sz]ed" "$VG_TMP/r5.err" || vg_fail "dev-b's MQTT 5 reset not refused: $(cat "$VG_TMP/r5.err")"
# the operator's tool, vigilctl, used with the wrong roles: not confirmed
if [ -x "$VCTL" ]; then
    for u in dev-b batch; do
        rc=0
        ctl_reset "$u" >"$VG_TMP/ctl-$u.out" 2>&1 || rc=$?
        vg_assert_eq 1 "$rc" "vigilctl reset as $u (exit 1: not confirmed): $(cat "$VG_TMP/ctl-$u.out")"
    done
else
    sleep 1.5
fi
grep -q "reset" "$VG_TMP/d.err" && vg_fail "a device or batch reset reached vigild: $(grep reset "$VG_TMP/d.err")"
[ -s "$VG_TMP/d.data/latched" ] || vg_fail "trip no longer latched"
vg_assert_eq 0 "$(lines b "^$B/cmd/reset ")" "resets delivered from dev-b/batch"
if [ -x "$VCTL" ]; then
    ctl_reset operator >"$VG_TMP/ctl-op.out" 2>&1 || vg_fail "vigilctl reset as operator: $(cat "$VG_TMP/ctl-op.out")"
    vg_log "vigilctl reset as operator: $(tail -1 "$VG_TMP/ctl-op.out")"
else
    vg_tls_pub operator -q 1 -t "$B/cmd/reset" -f "$VG_TMP/reset.cbor" || vg_fail "operator cannot publish a reset"
fi
vgd_wait_for 5 grep -Eq "trip [0-9]+ reset by" "$VG_TMP/d.err" || vg_fail "operator reset not applied: $(tail -3 "$VG_TMP/d.err")"
vgd_wait_for 5 has_lines op "^$B/cmd/shutdown ?$" 1 || vg_fail "retained shutdown not cleared"
vg_log "PASS"
