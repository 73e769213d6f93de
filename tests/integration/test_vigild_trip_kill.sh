#!/usr/bin/env bash
# The trip path latches (latch file renamed in place), publishes the
# retained shutdown and queues the trip record inside the message handler,
# so no subscriber sees a shutdown before the latch file exists; the
# record's commit and the fsyncs follow on the main thread.  This test
# SIGKILLs vigild the
# moment a subscriber has the shutdown (mosquitto_sub -C 1 && kill -KILL:
# a millisecond or two after vigild published it), 5 times, and checks
# after each kill that
#   - the latch file is in place, and the restarted vigild restores the
#     latch from it (logged, vigild_latched 1);
#   - the spool holds the trip record exactly once after the restart (the
#     record is committed right after the handler; had the kill come before
#     that commit, the restart records it from the latch file).  How often
#     the record was already in the spool at the kill (read with sqlite3,
#     after SQLite's WAL recovery) is logged.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 120
vg_broker_start
command -v sqlite3 >/dev/null || { vg_log "SKIP: no sqlite3 command-line tool"; exit 77; }
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 100
debounce_n = 1
debounce_m = 1
trip = true
CONF
ROUNDS=5
trips() { sqlite3 "$1/spool.db" "SELECT count(*) FROM record WHERE kind = 2"; }
for ((r = 1; r <= ROUNDS; r++)); do
    dev=dev-k$r T=vigil/v1/dev-k$r D=$VG_TMP/d$r.data
    vgd_start "d$r" "$dev" --config "$VG_TMP/v.conf"
    pid=$VGD_PID
    # the killer: the first shutdown message, then SIGKILL at once
    (mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -q 1 -t "$T/cmd/shutdown" -C 1 -W 20 \
        >"$VG_TMP/sd$r.out" && kill -KILL "$pid") &
    killer=$!
    sleep 0.3
    now=$(vgd_now_us)
    "$VGD_TOOL" samples "$dev" 1 "$now" 1000 temp 20,150 "$VG_TMP/b$r.cbor"
    vgd_pub "$T/samples" "$VG_TMP/b$r.cbor"
    wait "$killer" || vg_fail "round $r: no shutdown seen"
    wait "$pid" 2>/dev/null && vg_fail "round $r: vigild was not killed"
    [ -s "$D/latched" ] || vg_fail "round $r: no latch file after the kill"
    at_kill=$((${at_kill:-0} + $(trips "$D")))
    mv "$VG_TMP/d$r.err" "$VG_TMP/d$r.killed.err"
    vgd_start "d$r" "$dev" --config "$VG_TMP/v.conf"
    grep -q "trip 1 .*is latched from before the restart" "$VG_TMP/d$r.err" ||
        vg_fail "round $r: latch not restored: $(tail -3 "$VG_TMP/d$r.err")"
    vgd_wait_for 5 grep -q "vigild_latched{device=\"$dev\"} 1" "$VG_TMP/d$r.prom" ||
        vg_fail "round $r: vigild_latched is not 1 after the restart"
    vg_stop_pid "$VGD_PID" 5
    vg_assert_eq 1 "$(trips "$D")" "round $r: trip records after the restart"
done
vg_log "PASS: $ROUNDS SIGKILLs right after the shutdown: latch and trip record kept every time" \
    "(the record already committed at the kill in $at_kill of $ROUNDS)"
