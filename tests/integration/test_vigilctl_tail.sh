#!/usr/bin/env bash
# vigilctl tail --json and decode against a real mosquitto: crafted payloads
# of every kind are published, tail's JSON lines are parsed back with jq and
# compared with what was published (device, seq, channel values, NaN as
# null, retained flag, undecodable payload reported with its reason); decode
# gives the same for each file; --diag prints diagnostic notation; an
# unreachable broker exits 3.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
source "$(dirname "$0")/../../scripts/lib/common.sh"
vg_need_packages jq
vg_watchdog 60
CTL=$VG_BUILD/ctl/vigilctl
[ -x "$CTL" ] || vg_fail "no vigilctl at $CTL"
vg_broker_start
T=vigil/v1/dev-t
now=$(vgd_now_us)
"$VGD_TOOL" samples dev-t 41 "$now" 250000 temp 20.5,21.25,nan "$VG_TMP/s.cbor"
"$VGD_TOOL" keygen "$VG_TMP/pk" "$VG_TMP/sk"
"$VGD_TOOL" sign "$VG_TMP/sk" dev-t 7 "$VG_TMP/b.cose" temp:10:90
head -c 40 /dev/urandom >"$VG_TMP/garbage.bin"
# a retained status from "before" we subscribe: vigil-sim's reset encoder is
# not needed, the test tool's bundle serves as a retained model
vgd_pub "$T/model" "$VG_TMP/b.cose" -r

vg_bg tail "$CTL" tail --broker "$VG_BROKER_URI" --json --count 4 --wait 20
TAIL_PID=$VG_LAST_PID
sleep 1
vgd_pub "$T/samples" "$VG_TMP/s.cbor"
vgd_pub "$T/alerts" "$VG_TMP/garbage.bin"
vgd_pub "other/x/samples" "$VG_TMP/s.cbor"   # outside the root: not seen
"$VG_SIM" --broker "$VG_BROKER_URI" --send-reset dev-t >/dev/null 2>&1 ||
    vg_fail "vigil-sim --send-reset failed"
vg_wait_exit "$TAIL_PID" 15 || vg_fail "tail did not exit after 4 messages"
out=$VG_TMP/tail.out
jq -e . "$out" >/dev/null || vg_fail "tail output is not JSON lines: $(cat "$out")"
vg_assert_eq 4 "$(wc -l <"$out")" "lines"

q() { jq -r "select(.kind == \"$1\") | $2" "$out"; }
vg_assert_eq "true" "$(q model .retained)" "model delivered retained"
vg_assert_eq "7" "$(q model .version)" "bundle version"
vg_assert_eq "10 90" "$(q model '.channels[0] | "\(.lo) \(.hi)"')" "bundle limits"
vg_assert_eq "dev-t" "$(q samples .device)" "samples device"
vg_assert_eq "41" "$(q samples .seq)" "samples seq"
vg_assert_eq "$now" "$(q samples .t0_us)" "samples t0"
vg_assert_eq "temp" "$(q samples '.channels[0].name')" "channel name"
vg_assert_eq "20.5,21.25,null" "$(q samples '.channels[0].v | map(tostring) | join(",")')" "values"
vg_assert_eq "$now,$((now + 250000)),$((now + 500000))" \
    "$(q samples '.channels[0].t_us | map(tostring) | join(",")')" "times"
vg_assert_eq "false" "$(jq -r 'select(.topic == "vigil/v1/dev-t/alerts") | .ok' "$out")" \
    "garbage reported as undecodable"
vg_assert_eq "dev-t" "$(jq -r 'select(.topic == "vigil/v1/dev-t/alerts") | .device' "$out")" \
    "device of an undecodable payload from its topic"
[ -n "$(jq -r 'select(.ok == false) | .reason' "$out")" ] || vg_fail "no reason"
vg_assert_eq "dev-t" "$(q reset .device)" "reset device"
grep -q '"other/' "$out" && vg_fail "message outside the filter"

# decode: each file, the same fields; --diag; garbage exits 5
vg_assert_eq "41" "$("$CTL" decode "$VG_TMP/s.cbor" | jq -r .seq)" "decode samples"
vg_assert_eq "model 7" "$("$CTL" decode <"$VG_TMP/b.cose" | jq -r '"\(.kind) \(.version)"')" \
    "decode bundle from stdin"
"$CTL" decode --diag "$VG_TMP/s.cbor" | grep -q '^{0: 1, 1: "dev-t", 2: 41' ||
    vg_fail "diag notation"
"$CTL" decode --diag "$VG_TMP/b.cose" | grep -q '^18(\[' || vg_fail "diag of a COSE tag"
rc=0
"$CTL" decode "$VG_TMP/garbage.bin" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "decode of garbage"
rc=0
"$CTL" decode --kind alert "$VG_TMP/s.cbor" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "samples decoded as an alert"

# human lines: one per message, aligned columns
"$CTL" tail --broker "$VG_BROKER_URI" --human --count 1 --wait 5 "$T/model" >"$VG_TMP/h.out"
grep -Eq '^[0-9-]{10}T[0-9:.]{12}  model +dev-t +\[retained\] bundle version 7' "$VG_TMP/h.out" ||
    vg_fail "human line: $(cat "$VG_TMP/h.out")"

# unreachable broker: exit 3 with a clear message
port=$((VG_BROKER_PORT + 1))
while vg_port_open "$port"; do port=$((port + 1)); done
rc=0
"$CTL" tail --broker "tcp://127.0.0.1:$port" --count 1 2>"$VG_TMP/unreach.err" || rc=$?
vg_assert_eq 3 "$rc" "exit code for an unreachable broker"
grep -q unreachable "$VG_TMP/unreach.err" || vg_fail "message: $(cat "$VG_TMP/unreach.err")"

# refused credentials: exit 4; the password from $VIGIL_PASSWORD works
mkdir -p "$VG_TMP/auth"
mosquitto_passwd -b -c "$VG_TMP/auth/pw" alice s3cret
aport=$((port + 1))
while vg_port_open "$aport"; do aport=$((aport + 1)); done
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\nuser %s\n' \
    "$aport" "$VG_TMP/auth/pw" "$(id -un)" >"$VG_TMP/auth/m.conf"
vg_bg auth-broker mosquitto -c "$VG_TMP/auth/m.conf"
vg_wait_port "$aport" 5 || vg_fail "second broker did not start"
rc=0
"$CTL" tail --broker "tcp://127.0.0.1:$aport" --username alice --password nope --count 1 \
    2>"$VG_TMP/auth.err" || rc=$?
vg_assert_eq 4 "$rc" "exit code for refused credentials"
grep -q "refused the connection" "$VG_TMP/auth.err" || vg_fail "message: $(cat "$VG_TMP/auth.err")"
rc=0
VIGIL_PASSWORD=s3cret "$CTL" tail --broker "tcp://127.0.0.1:$aport" --username alice --wait 0.5 ||
    rc=$?
vg_assert_eq 0 "$rc" "password from VIGIL_PASSWORD"
vg_log "PASS"
