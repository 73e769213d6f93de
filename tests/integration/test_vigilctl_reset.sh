#!/usr/bin/env bash
# vigilctl reset against a running vigild: a hard limit trips (1-of-1); a
# reset while the value is still over the limit is refused (exit 1, with
# the trip named); once a good value arrived, a reset clears the latch
# (exit 0) and the retained shutdown is gone; a reset with nothing latched
# exits 0.  Then vigilctl spool reads vigild's spool offline: counts, the
# trip, the alert, the backlog, and --export of one channel.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
source "$(dirname "$0")/../../scripts/lib/common.sh"
vg_need_packages jq
vg_watchdog 60
CTL=$VG_BUILD/ctl/vigilctl
[ -x "$CTL" ] || vg_fail "no vigilctl at $CTL"
vg_broker_start
T=vigil/v1/dev-r
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
trip = true
[agent]
status_ms = 300
metrics_ms = 100
CONF
vg_bg arch "$CTL" tail --broker "$VG_BROKER_URI" --json --count 1 --wait 20 "vigil/v1/dev-r/archive"
ARCH_PID=$VG_LAST_PID
sleep 0.5
vgd_start d dev-r --config "$VG_TMP/v.conf"
now=$(vgd_now_us)
mk() { "$VGD_TOOL" samples dev-r "$1" "$2" 100000 temp "$3" "$VG_TMP/$4"; }
mk 1 "$now" 20,21,22 ok.cbor
mk 2 $((now + 1000000)) 99 hot.cbor
mk 3 $((now + 1100000)) 98 hot2.cbor
mk 4 $((now + 1200000)) 50 cool.cbor
reset() { "$CTL" reset --broker "$VG_BROKER_URI" --device dev-r --operator tester --timeout 2 "$@"; }

vgd_pub "$T/samples" "$VG_TMP/ok.cbor"
vg_wait_exit "$ARCH_PID" 10 || vg_fail "no archive chunk seen by tail"
vg_assert_eq "samples 1 temp 20,21,22" "$(jq -r '.items[] | select(.kind == "samples") |
    "\(.kind) \(.seq) \(.payload.channels[0].name) \(.payload.channels[0].v | map(tostring) | join(","))"' \
    "$VG_TMP/arch.out" | head -1)" "archived batch decoded by tail"
vgd_pub "$T/samples" "$VG_TMP/hot.cbor"
vgd_wait_for 5 grep -q "TRIP 1" "$VG_TMP/d.err" || vg_fail "no trip"
vgd_pub "$T/samples" "$VG_TMP/hot2.cbor"
sleep 0.5
rc=0
reset >"$VG_TMP/r1.out" 2>"$VG_TMP/r1.err" || rc=$?
vg_assert_eq 1 "$rc" "reset while the cause is present"
grep -q "refused by the agent: the cause is still present (trip 1 on temp" "$VG_TMP/r1.err" ||
    vg_fail "refusal reason: $(cat "$VG_TMP/r1.err")"
grep -q "reset refused" "$VG_TMP/d.err" || vg_fail "vigild did not see a refused reset"

vgd_pub "$T/samples" "$VG_TMP/cool.cbor"
sleep 0.3
rc=0
reset >"$VG_TMP/r2.out" 2>"$VG_TMP/r2.err" || rc=$?
vg_assert_eq 0 "$rc" "reset once the cause has cleared ($(cat "$VG_TMP/r2.err"))"
grep -q "latch cleared by the agent" "$VG_TMP/r2.out" || vg_fail "output: $(cat "$VG_TMP/r2.out")"
grep -q "reset by 'tester'" "$VG_TMP/d.err" || vg_fail "operator not passed to vigild"
[ -e "$VG_TMP/d.data/latched" ] && vg_fail "latch file still there"
ret=$(timeout 2 mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -t "$T/cmd/shutdown" -W 1 \
    -F '%x' 2>/dev/null || true)
vg_assert_eq "" "$ret" "retained shutdown after reset"
rc=0
reset >"$VG_TMP/r3.out" 2>&1 || rc=$?
vg_assert_eq 0 "$rc" "reset with nothing latched"
grep -q "nothing was latched" "$VG_TMP/r3.out" || vg_fail "output: $(cat "$VG_TMP/r3.out")"
rc=0
"$CTL" reset --broker "$VG_BROKER_URI" --device 'bad/id' >/dev/null 2>&1 || rc=$?
vg_assert_eq 2 "$rc" "bad device id is a usage error"

# the spool, offline (vigild stopped so every record is committed)
vg_stop_pid "$VGD_PID" 5
"$CTL" spool "$VG_TMP/d.data" --json >"$VG_TMP/spool.json" || vg_fail "spool --json failed"
j() { jq -r "$1" "$VG_TMP/spool.json"; }
vg_assert_eq 4 "$(j .samples.records)" "sample batches in the spool"
vg_assert_eq 1 "$(j .trips.records)" "trips in the spool"
vg_assert_eq 1 "$(j '.trip_list[0].record.trip_id')" "trip id"
vg_assert_eq temp "$(j '.trip_list[0].record.channel')" "trip channel"
[ "$(j .alerts.records)" -ge 1 ] || vg_fail "no alert in the spool"
vg_assert_eq "1 4" "$(j '.batch_ends | map(.seq | tostring) | join(" ")')" "oldest and newest batch"
# backlog = unsent records; vigild forwards them on archive, so it may be
# anything from 0 to all, but it must equal the per-kind unsent sum
vg_assert_eq "$(j '[.samples, .alerts, .trips, .models] | map(.unsent) | add')" \
    "$(j .backlog)" "backlog"
"$CTL" spool "$VG_TMP/d.data" | grep -q "^trips " || vg_fail "human spool report"
"$CTL" spool "$VG_TMP/d.data" --export "$VG_TMP/temp.csv" --channel temp \
    --from $((now / 1000000)) 2>/dev/null || vg_fail "export failed"
vg_assert_eq "timestamp,temp" "$(head -1 "$VG_TMP/temp.csv")" "CSV header"
vg_assert_eq "20,21,22,99,98,50" "$(tail -n +2 "$VG_TMP/temp.csv" | cut -d, -f2 | paste -sd,)" \
    "exported values"
tu=$((now + 1050000))
to=$(date -u -d "@$((tu / 1000000))" '+%Y-%m-%d %H:%M:%S').$(printf %06d $((tu % 1000000)))
"$CTL" spool "$VG_TMP/d.data" --export - --channel temp --to "$to" 2>/dev/null |
    tail -n +2 >"$VG_TMP/part.csv"
vg_assert_eq "20,21,22,99" "$(cut -d, -f2 "$VG_TMP/part.csv" | paste -sd,)" \
    "time-bounded export (--to $to)"
rc=0
"$CTL" spool "$VG_TMP/garbage-dir" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "missing spool"
echo "not sqlite" >"$VG_TMP/fake.db"
rc=0
"$CTL" spool "$VG_TMP/fake.db" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "not a spool"
vg_log "PASS"
