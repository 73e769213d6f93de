#!/usr/bin/env bash
# The truth file matches what was published.  A subscriber records every
# sample of a mixed-scenario fleet from mosquitto; the recording must equal
# the simulator's --dump (nothing lost, nothing extra), every device's
# sequence numbers must be contiguous, and each fault of the truth file must
# be visible in the data inside its window:
#   stuck    identical values over the window (and only there)
#   spike    the spiking sample stands far above its neighbours
#   dropout  no sample at all from the device inside the window
#   noisy    sample-to-sample noise several times larger than before
#   drift    the level at the end of the window well above the level before
#   overheat temperature below 95 C at onset, 120 C reached later (no agent
#            stops the machine in this test)
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 180
vg_broker_start
vg_listen rec --idle 3 --duration 60

vg_sim 60 --broker "$VG_BROKER_URI" --devices 7 --scenario mixed --rate 10 --duration 60 \
    --max-rate --quiet --seed 7 --dump "$VG_TMP/run.bin" --truth "$VG_TMP/truth.csv" \
    >"$VG_TMP/run.sum" || vg_fail "vigil-sim failed: $(cat "$VG_TMP/run.sum")"
vg_wait_exit "$VG_LISTEN_PID" 30 || vg_fail "listener failed: $(cat "$VG_TMP/rec.err")"
cat "$VG_TMP/run.sum" >&2

# What arrived is exactly what was published.
"$VG_SIM" --decode "$VG_TMP/run.bin" | tail -n +2 | sort >"$VG_TMP/published.csv"
tail -n +2 "$VG_TMP/rec.csv" | sort -u >"$VG_TMP/received.csv"
vg_assert "received = published" cmp "$VG_TMP/published.csv" "$VG_TMP/received.csv"

# Row counts: 600 ticks * 4 channels per device, less the dropout window.
rows=$(wc -l <"$VG_TMP/published.csv")
vg_assert_eq $((7 * 2400 - 210 * 4)) "$rows" "samples published"
samples=$(sed -n 's/.*samples_acked=\([0-9]*\).*/\1/p' "$VG_TMP/run.sum")
vg_assert_eq "$rows" "$samples" "samples acknowledged in the summary"

# One truth row per fault: overheat, drift, 5 spikes, stuck, dropout, noisy.
vg_assert_eq 10 "$(($(wc -l <"$VG_TMP/truth.csv") - 1))" "truth rows"

awk -F, -v dt=100000 '
FNR == NR { if (FNR > 1) { nt++; dev[nt] = $1; ch[nt] = $2; kind[nt] = $3; t0[nt] = $6; t1[nt] = $7 } next }
{
    key = $1 SUBSEP $3; n = ++cnt[key]; T[key, n] = $4; V[key, n] = $5 + 0
    seqs[$1 SUBSEP $2] = 1; if ($2 + 0 > maxseq[$1]) maxseq[$1] = $2 + 0
    nseq[$1] += 0; devrows[$1]++
}
function bad(i, msg) { printf "bad: %s %s %s: %s\n", dev[i], kind[i], ch[i], msg; fails++ }
function mean(key, a, b,   k, s, m) { s = 0; m = 0
    for (k = 1; k <= cnt[key]; k++) if (T[key, k] >= a && T[key, k] < b) { s += V[key, k]; m++ }
    return m ? s / m : -1e300 }
function sd_diff(key, a, b,   k, s, q, m, d) { s = q = m = 0
    for (k = 2; k <= cnt[key]; k++) if (T[key, k - 1] >= a && T[key, k] < b) {
        d = V[key, k] - V[key, k - 1]; s += d; q += d * d; m++ }
    return m > 1 ? sqrt((q - s * s / m) / (m - 1)) : 0 }
function check_stuck(i, key,   k, m, v0, same, before) { m = 0; same = 1
    for (k = 1; k <= cnt[key]; k++) {
        if (T[key, k] >= t0[i] && T[key, k] < t1[i]) { if (!m++) v0 = V[key, k]; else if (V[key, k] != v0) same = 0 }
        if (T[key, k] >= t0[i] - 20 * dt && T[key, k] < t0[i] && k > 1 && V[key, k] == V[key, k - 1]) before++ }
    if (m != (t1[i] - t0[i]) / dt) bad(i, "samples in window " m)
    if (!same) bad(i, "values change inside the stuck window")
    if (before > 2) bad(i, "values already flat before the window") }
function check_spike(i, key,   k, v, nb) {
    for (k = 1; k <= cnt[key]; k++) if (T[key, k] == t0[i]) v = V[key, k]
    nb = (mean(key, t0[i] - 3 * dt, t0[i]) + mean(key, t0[i] + dt, t0[i] + 4 * dt)) / 2
    if (v - nb < 30) bad(i, "spike only " (v - nb) " above its neighbours") }
function check_dropout(i,   c, k, key, inside, edge) {
    for (c in chans) { key = dev[i] SUBSEP c
        for (k = 1; k <= cnt[key]; k++) {
            if (T[key, k] >= t0[i] && T[key, k] < t1[i]) inside++
            if (T[key, k] == t0[i] - dt || T[key, k] == t1[i]) edge++ } }
    if (inside) bad(i, inside " samples inside the dropout")
    if (edge != 8) bad(i, "samples missing at the edges of the dropout") }
function check_noisy(i, key,   a, b) { a = sd_diff(key, t0[i] - 100 * dt, t0[i]); b = sd_diff(key, t0[i], t1[i])
    if (b < 4 * a) bad(i, "noise " b " not 4x the normal " a) }
function check_drift(i, key,   a, b) { a = mean(key, t0[i] - 50 * dt, t0[i]); b = mean(key, t1[i] - 20 * dt, t1[i])
    if (b - a < 8) bad(i, "level rose only " (b - a)) }
function check_overheat(i, key,   k, hot, dmg) {
    for (k = 1; k <= cnt[key]; k++) if (T[key, k] >= t0[i]) {
        if (T[key, k] == t0[i] && V[key, k] >= 95) bad(i, "already hot at onset")
        if (!hot && V[key, k] >= 95) hot = T[key, k]
        if (!dmg && V[key, k] >= 120) dmg = T[key, k] }
    if (!hot || hot - t0[i] < 5e6) bad(i, "95 C crossed too early or never")
    if (!dmg || dmg - hot < 5e6) bad(i, "120 C not reached, or too soon after 95 C") }
END {
    chans["temp"]; chans["vib"]; chans["pressure"]; chans["load"]
    for (i = 1; i <= nt; i++) {
        key = dev[i] SUBSEP ch[i]
        if (kind[i] == "stuck") check_stuck(i, key)
        else if (kind[i] == "spike") check_spike(i, key)
        else if (kind[i] == "dropout") check_dropout(i)
        else if (kind[i] == "noisy") check_noisy(i, key)
        else if (kind[i] == "drift") check_drift(i, key)
        else if (kind[i] == "overheat") check_overheat(i, key)
        else bad(i, "unknown fault kind")
        checked[kind[i]]++
    }
    for (s in seqs) { split(s, p, SUBSEP); nseq[p[1]]++ }
    for (d in nseq) if (nseq[d] != maxseq[d] + 1) { printf "bad: %s sequence numbers not contiguous\n", d; fails++ }
    for (k in checked) printf "checked %d %s\n", checked[k], k
    exit fails > 0
}' "$VG_TMP/truth.csv" "$VG_TMP/published.csv" >"$VG_TMP/checks.txt" || {
    cat "$VG_TMP/checks.txt" >&2
    vg_fail "a fault is not where the truth file says"
}
cat "$VG_TMP/checks.txt" >&2
vg_assert_eq 6 "$(grep -c '^checked' "$VG_TMP/checks.txt")" "fault kinds checked"
vg_log "ok: $rows samples received as published, every fault where the truth says"
