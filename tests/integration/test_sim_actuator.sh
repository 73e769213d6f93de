#!/usr/bin/env bash
# The actuator: a shutdown on <dev>/cmd/shutdown really stops the simulated
# machine (load to zero, temperature relaxes towards ambient, vibration
# falls) and a later reset starts it again; an overheat stopped by a
# shutdown sent the moment 3 of 5 temperature samples exceed 95 C ends
# before the 120 C damage limit and the summary reports the time from onset
# to stop; a retained shutdown stops a machine as soon as it connects.
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 240
vg_broker_start
T0=1704096000000000 # default --start, epoch us

# seen_until CSV DEV SECONDS WALL_TIMEOUT: wait until the recording holds a
# sample of DEV at least SECONDS of simulated time into the run.
seen_until() {
    local csv=$1 dev=$2 secs=$3 wall=$4 i
    for ((i = 0; i < wall * 10; i++)); do
        awk -F, -v d="$dev" -v t=$((T0 + secs * 1000000)) '$1 == d && $4 >= t { f = 1; exit } END { exit !f }' \
            "$csv" && return 0
        sleep 0.1
    done
    vg_fail "no sample of $dev at +$secs s after $wall s"
}

# stat CSV DEV CHANNEL FROM TO WHAT: min, max or mean of the channel's
# samples with simulated time in [FROM, TO) seconds.
stat() {
    awk -F, -v d="$2" -v c="$3" -v a=$((T0 + $4 * 1000000)) -v b=$((T0 + $5 * 1000000)) -v w="$6" '
        $1 == d && $3 == c && $4 >= a && $4 < b { v = $5 + 0; n++; s += v
            if (n == 1 || v < lo) lo = v; if (n == 1 || v > hi) hi = v }
        END { if (!n) { print "nan"; exit 1 } print (w == "min" ? lo : w == "max" ? hi : s / n) }' "$1"
}

# ge A B: A >= B as numbers.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# --- A: shutdown and reset of one machine of a running fleet --------------
vg_listen a --idle 4 --duration 90
vg_bg sim_a "$VG_SIM" --broker "$VG_BROKER_URI" --devices 2 --rate 10 --duration 40 --speed 4
sim_a=$VG_LAST_PID
seen_until "$VG_TMP/a.csv" sim-0 6 30
vg_sim 20 --broker "$VG_BROKER_URI" --send-shutdown sim-0 || vg_fail "send-shutdown failed"
seen_until "$VG_TMP/a.csv" sim-0 30 30
vg_sim 20 --broker "$VG_BROKER_URI" --send-reset sim-0 || vg_fail "send-reset failed"
vg_wait_exit "$sim_a" 60 || vg_fail "vigil-sim (A) failed: $(cat "$VG_TMP/sim_a.err")"
vg_wait_exit "$VG_LISTEN_PID" 30 || true
sum=$VG_TMP/sim_a.out
cat "$sum" >&2
grep -q 'sim-0 .*commands: 1 shutdown (0 ignored), 0 cleared, 0 bad, 1 reset (0 refused)' "$sum" ||
    vg_fail "summary does not show one shutdown and one reset for sim-0"
stop=$(sed -n 's/.*sim-0 *trip 1 at +\([0-9.]*\) s.*/\1/p' "$sum")
restart=$(sed -n 's/.*sim-0 *trip 1 at .*restarted at +\([0-9.]*\) s.*/\1/p' "$sum")
[ -n "$stop" ] && [ -n "$restart" ] || vg_fail "no stop/restart times for sim-0 in the summary"
s=${stop%.*} r=${restart%.*}
vg_log "sim-0 stopped at +$stop s, restarted at +$restart s"
csv=$VG_TMP/a.csv
ge 0.05 "$(stat "$csv" sim-0 load $((s + 1)) "$r" max)" || vg_fail "load not zero while stopped"
ge "$(stat "$csv" sim-0 load 0 "$s" min)" 0.2 || vg_fail "load not up before the stop"
ge "$(stat "$csv" sim-0 load $((r + 1)) 40 min)" 0.2 || vg_fail "load not back after the reset"
hot=$(stat "$csv" sim-0 temp $((s + 1)) $((s + 3)) mean)
cool=$(stat "$csv" sim-0 temp $((r - 2)) "$r" mean)
ge "$hot" "$(awk -v c="$cool" 'BEGIN { print c + 4 }')" || vg_fail "temp did not relax: $hot -> $cool"
ge 0.6 "$(stat "$csv" sim-0 vib $((s + 6)) "$r" max)" || vg_fail "vibration did not fall"
ge "$(stat "$csv" sim-1 load 0 40 min)" 0.2 || vg_fail "sim-1 was affected"
vg_log "A ok: temp $hot -> $cool C while stopped, load 0, back after reset"

# --- B: overheat, tripped by a 3-of-5 limit at 95 C before damage --------
vg_listen b --idle 4 --duration 90
vg_bg sim_b "$VG_SIM" --broker "$VG_BROKER_URI" --prefix oh --devices 1 --scenario overheat \
    --rate 10 --duration 60 --speed 4 --truth "$VG_TMP/b.truth"
sim_b=$VG_LAST_PID
tripped=0
for ((i = 0; i < 600 && !tripped; i++)); do
    if sort -t, -k4,4n "$VG_TMP/b.csv" | awk -F, '$1 == "oh-0" && $3 == "temp" {
            h[n++ % 5] = ($5 >= 95); c = 0; for (k in h) c += h[k]; if (c >= 3) { f = 1; exit } }
            END { exit !f }'; then
        vg_sim 20 --broker "$VG_BROKER_URI" --send-shutdown oh-0 || vg_fail "send-shutdown failed"
        tripped=1
    else
        kill -0 "$sim_b" 2>/dev/null || break
        sleep 0.1
    fi
done
[ "$tripped" = 1 ] || vg_fail "temperature never confirmed above 95 C"
vg_wait_exit "$sim_b" 60 || vg_fail "vigil-sim (B) failed: $(cat "$VG_TMP/sim_b.err")"
vg_wait_exit "$VG_LISTEN_PID" 30 || true
cat "$VG_TMP/sim_b.out" >&2
line=$(grep 'oh-0 *overheat' "$VG_TMP/sim_b.out") || vg_fail "no overheat line in the summary"
case $line in
*"stopped "*" s after onset"*"damage limit 120 C not reached"*) ;;
*) vg_fail "overheat not stopped before damage: $line" ;;
esac
grep -q '^faults: injected=1 trips=1 damaged=0$' "$VG_TMP/sim_b.out" || vg_fail "fault totals"
# the truth file ends the overheat at the stop
end_us=$(awk -F, 'NR == 2 { print $7 }' "$VG_TMP/b.truth")
stop=$(sed -n 's/.*oh-0 *trip 1 at +\([0-9.]*\) s.*/\1/p' "$VG_TMP/sim_b.out")
vg_assert_eq "$stop" "$(awk -v e="$end_us" -v t="$T0" 'BEGIN { printf "%.1f", (e - t) / 1e6 }')" \
    "overheat end in the truth file = stop time"
s=${stop%.*}
peak=$(stat "$VG_TMP/b.csv" oh-0 temp "$s" $((s + 2)) max)
last=$(stat "$VG_TMP/b.csv" oh-0 temp 58 60 mean)
ge "$peak" 95 || vg_fail "stopped below the limit? peak $peak"
ge 110 "$peak" || vg_fail "peak $peak too close to damage"
ge "$peak" "$(awk -v l="$last" 'BEGIN { print l + 10 }')" || vg_fail "no cooling after stop: $peak -> $last"
vg_log "B ok: $line; temp $peak -> $last C"

# --- C: a retained (latched) shutdown stops the machine at connect -------
vg_sim 20 --broker "$VG_BROKER_URI" --send-shutdown rt-0 --retain || vg_fail "retained shutdown"
vg_listen c --idle 3 --duration 60
vg_sim 60 --broker "$VG_BROKER_URI" --prefix rt --devices 1 --rate 10 --duration 10 --speed 5 \
    >"$VG_TMP/sim_c.out" 2>"$VG_TMP/sim_c.err" || vg_fail "vigil-sim (C) failed"
vg_wait_exit "$VG_LISTEN_PID" 30 || true
stop=$(sed -n 's/.*rt-0 *trip 1 at +\([0-9.]*\) s.*/\1/p' "$VG_TMP/sim_c.out")
[ -n "$stop" ] || vg_fail "retained shutdown did not stop rt-0: $(cat "$VG_TMP/sim_c.out")"
ge 1.0 "$stop" || vg_fail "retained shutdown acted late (+$stop s)"
ge 0.05 "$(stat "$VG_TMP/c.csv" rt-0 load 1 10 max)" || vg_fail "rt-0 ran despite the latch"
vg_sim 20 --broker "$VG_BROKER_URI" --clear-shutdown rt-0 || vg_fail "clear-shutdown failed"
vg_sim 60 --broker "$VG_BROKER_URI" --prefix rt --devices 1 --rate 10 --duration 5 --speed 5 \
    >"$VG_TMP/sim_c2.out" 2>"$VG_TMP/sim_c2.err" || vg_fail "vigil-sim (C2) failed"
grep -q '^faults: injected=0 trips=0 damaged=0$' "$VG_TMP/sim_c2.out" ||
    vg_fail "still stopped after the retained shutdown was cleared"
vg_log "C ok: latched shutdown stopped rt-0 at +$stop s; cleared, it runs again"
