#!/usr/bin/env bash
# Publishing survives a broker restart.  mosquitto (persistence on) is
# stopped in the middle of a paced run and started again on the same port
# a few seconds later: vigil-sim reconnects, Paho re-sends what was in
# flight and what was queued during the outage, and the summary shows every
# batch acknowledged; a persistent-session subscriber receives every sample
# that was published (compared with the --dump), none lost.  Then the broker
# is frozen (SIGSTOP, so batches are in flight without PUBACK) and killed
# (SIGKILL) mid-run: every batch is still acknowledged in the end.
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 300
vg_broker_start --persist
T0=1704096000000000

# wait_sim_time CSV SECONDS: wait until the recording reaches +SECONDS.
wait_sim_time() {
    local i
    for ((i = 0; i < 300; i++)); do
        awk -F, -v t=$((T0 + $2 * 1000000)) 'NR > 1 && $4 >= t { f = 1; exit } END { exit !f }' "$1" &&
            return 0
        sleep 0.1
    done
    vg_fail "recording never reached +$2 s"
}

# --- graceful stop (SIGTERM: the broker saves its sessions) --------------
vg_listen rec --expect 4800 --idle 20 --duration 150
vg_bg sim "$VG_SIM" --broker "$VG_BROKER_URI" --devices 3 --rate 20 --batch 5 --duration 20 \
    --dump "$VG_TMP/run.bin" --quiet
sim=$VG_LAST_PID
wait_sim_time "$VG_TMP/rec.csv" 5
vg_broker_stop TERM
sleep 3
vg_broker_restart
vg_wait_exit "$sim" 120 || vg_fail "vigil-sim exit $? : $(cat "$VG_TMP/sim.out" "$VG_TMP/sim.err")"
vg_wait_exit "$VG_LISTEN_PID" 60 || vg_fail "listener: $(cat "$VG_TMP/rec.err")"
cat "$VG_TMP/sim.out" >&2
grep -q 'batches_published=240 batches_acked=240 samples_published=4800 samples_acked=4800' \
    "$VG_TMP/sim.out" || vg_fail "not every batch acknowledged after the restart"
reconnects=$(sed -n 's/.*reconnects=\([0-9]*\).*/\1/p' "$VG_TMP/sim.out")
[ "$reconnects" -ge 3 ] || vg_fail "expected each of 3 devices to reconnect, saw $reconnects"
grep -q '^result: all 240 batches acknowledged$' "$VG_TMP/sim.out" || vg_fail "result line"
"$VG_SIM" --decode "$VG_TMP/run.bin" | tail -n +2 | sort >"$VG_TMP/published.csv"
tail -n +2 "$VG_TMP/rec.csv" | sort -u >"$VG_TMP/received.csv"
vg_assert_eq 4800 "$(wc -l <"$VG_TMP/published.csv")" "samples published"
vg_assert "every published sample received across the restart" \
    cmp "$VG_TMP/published.csv" "$VG_TMP/received.csv"
dups=$(($(tail -n +2 "$VG_TMP/rec.csv" | wc -l) - 4800))
vg_log "graceful restart ok: 240/240 batches acked, 4800 samples received ($dups redelivered)"

# --- hard kill (SIGKILL) --------------------------------------------------
vg_listen rec2 --idle 20 --duration 150
vg_bg sim2 "$VG_SIM" --broker "$VG_BROKER_URI" --devices 2 --rate 20 --batch 5 --duration 12 \
    --quiet
sim2=$VG_LAST_PID
wait_sim_time "$VG_TMP/rec2.csv" 4
kill -STOP "$VG_BROKER_PID" # batches sent now stay unacknowledged ...
sleep 1.5
vg_broker_stop KILL # ... and die with the broker: Paho must send them again
sleep 2
vg_broker_restart
vg_wait_exit "$sim2" 120 || vg_fail "vigil-sim exit $? : $(cat "$VG_TMP/sim2.out" "$VG_TMP/sim2.err")"
cat "$VG_TMP/sim2.out" >&2
grep -q 'batches_published=96 batches_acked=96 ' "$VG_TMP/sim2.out" ||
    vg_fail "not every batch acknowledged after a hard kill"
vg_log "hard kill ok: 96/96 batches acked"
