#!/usr/bin/env bash
# Crafted messages: malformed and oversized CBOR, a wrong schema version,
# NaN/Inf values, duplicate and out-of-order sequence numbers and an unknown
# channel are each rejected and counted by reason while vigild keeps
# running and keeps accepting good batches.  Then the reset rules: a hard
# limit trips (1-of-1), a reset while the value is still over the limit is
# refused (the retained shutdown stays), and once the value is back a reset
# clears the latch and the retained shutdown.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
vg_broker_start
T=vigil/v1/dev-x
cat >"$VG_TMP/v.conf" <<CONF
[detect]
allow_unknown = false
[channel.temp]
hi = 95
trip = true
[agent]
metrics_ms = 100
CONF
vgd_start d dev-x --config "$VG_TMP/v.conf"
vgd_sub all "$T/#" -v
now=$(vgd_now_us)
mk() { "$VGD_TOOL" samples dev-x "$1" "$2" 100000 "$3" "$4" "$VG_TMP/$5"; }
mk 1 "$now" temp 20,21,22 ok1.cbor
mk 2 $((now + 300000)) temp 23,nan,inf nan.cbor
mk 3 $((now + 600000)) pressure 1,2 unknown.cbor
mk 4 $((now + 900000)) temp 24,25 ok4.cbor
# Not CBOR from the first byte (0xff is a stray "break"), then noise: random
# bytes alone sometimes start with a map header and are refused as "schema".
{ printf '\377'; head -c 2999 /dev/urandom; } >"$VG_TMP/garbage.bin"
head -c 1100000 /dev/zero >"$VG_TMP/big.bin"
# schema version: key 0 of the map is the first item; its value 1 -> 2
od -An -tx1 -v "$VG_TMP/ok1.cbor" | tr -d ' \n' | sed 's/^\(..\)0001/\10002/' | xxd -r -p \
    >"$VG_TMP/schema.cbor"
for f in ok1 ok1 garbage big schema nan unknown ok4 ok1; do
    ext=cbor
    [ "$f" = garbage ] || [ "$f" = big ] && ext=bin
    vgd_pub "$T/samples" "$VG_TMP/$f.$ext"
done
sleep 1
kill -0 "$VGD_PID" || vg_fail "vigild died"
m() { vgd_metric d "vigild_rejected_total{device=\"dev-x\",reason=\"$1\"}"; }
vg_assert_eq 4 "$(vgd_metric d vigild_batches_in_total)" "batches accepted (nan and unknown-channel batches too)"
vg_assert_eq 6 "$(vgd_metric d vigild_samples_in_total)" "samples scored"
vg_assert "decode counted" [ "$(m decode)" -ge 1 ]
vg_assert_eq 1 "$(m toobig)" "oversized"
vg_assert_eq 1 "$(m schema)" "schema"
vg_assert_eq 2 "$(m nan)" "nan/inf samples"
vg_assert_eq 1 "$(m channel)" "unknown channel"
vg_assert_eq 1 "$(m duplicate)" "duplicate seq"
vg_assert_eq 1 "$(m order)" "out-of-order seq"

# Trip, refused reset, good reset.
mk 5 $((now + 2000000)) temp 99 hot.cbor
mk 6 $((now + 2100000)) temp 97 hot2.cbor
mk 7 $((now + 2200000)) temp 50 cool.cbor
printf '' >"$VG_TMP/empty"
reset() { "$VG_SIM" --broker "$VG_BROKER_URI" --send-reset dev-x >/dev/null 2>&1; }
vgd_pub "$T/samples" "$VG_TMP/hot.cbor"
vgd_wait_for 5 grep -q "TRIP 1" "$VG_TMP/d.err" || vg_fail "no trip"
[ -s "$VG_TMP/d.data/latched" ] || vg_fail "no latch file"
vgd_pub "$T/samples" "$VG_TMP/hot2.cbor"
reset
vgd_wait_for 5 grep -q "reset refused" "$VG_TMP/d.err" || vg_fail "reset not refused"
vgd_pub "$T/samples" "$VG_TMP/cool.cbor"
reset
vgd_wait_for 5 grep -q "reset by" "$VG_TMP/d.err" || vg_fail "reset not accepted"
[ -e "$VG_TMP/d.data/latched" ] && vg_fail "latch file still there"
vgd_wait_decoded all "^shutdown 1 temp" 5 || vg_fail "no shutdown published"
vgd_wait_decoded all "^shutdown clear" 5 || vg_fail "retained shutdown not cleared"
# nothing retained any more on cmd/shutdown
ret=$(timeout 2 mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -t "$T/cmd/shutdown" -W 1 \
    -F '%x' 2>/dev/null || true)
vg_assert_eq "" "$ret" "retained shutdown after reset"
vg_log "PASS"
