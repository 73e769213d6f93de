#!/usr/bin/env bash
# --replay publishes a vigil-replay CSV file as one device's stream: every
# present cell of every row arrives exactly once (after removing QoS 1
# redeliveries, of which there should be none here) with its recorded
# timestamp and value; empty and NaN cells are missing samples; batches
# carry contiguous sequence numbers; --speed X paces the recorded time X
# times faster than real time; a malformed file is rejected with its line.
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 180
vg_broker_start

# 1000 rows at 4 Hz from 2024-03-01 12:00:00: every 7th flow cell empty,
# every 11th level cell NaN, row 500 with no value at all.
awk 'BEGIN {
    print "timestamp,temp,flow,level"
    for (i = 0; i < 1000; i++) {
        s = 43200 + i * 0.25
        t = sprintf("2024-03-01 %02d:%02d:%09.6f", int(s / 3600), int(s / 60) % 60, s - 60 * int(s / 60))
        temp = sprintf("%.4f", 20 + i * 0.01)
        flow = (i % 7 == 0) ? "" : sprintf("%.6f", 3 + sin(i / 10))
        level = (i % 11 == 0) ? "NaN" : sprintf("%.3e", 1.5 + i * 1e-4)
        if (i == 500) { temp = ""; flow = ""; level = "nan" }
        print t "," temp "," flow "," level
    } }' >"$VG_TMP/rec.csv"
base=1709294400000000 # 2024-03-01 12:00:00 UTC in epoch us

# The expected samples: channel,t_us,value for every present cell.
awk -F, -v base=$base 'NR > 1 { t = sprintf("%.0f", base + (NR - 2) * 250000)
    if ($2 != "") print "temp," t "," $2
    if ($3 != "") print "flow," t "," $3
    if ($4 != "" && tolower($4) != "nan") print "level," t "," $4 }' "$VG_TMP/rec.csv" >"$VG_TMP/expected.csv"
expected=$(wc -l <"$VG_TMP/expected.csv")
vg_log "replaying 1000 rows, $expected samples"

vg_listen fast --expect "$expected" --idle 5 --duration 60
vg_sim 60 --broker "$VG_BROKER_URI" --device rp-1 --replay "$VG_TMP/rec.csv" --speed 0 \
    --batch 16 >"$VG_TMP/fast.sum" || vg_fail "replay failed: $(cat "$VG_TMP/fast.sum")"
vg_wait_exit "$VG_LISTEN_PID" 30 || vg_fail "listener: $(cat "$VG_TMP/fast.err")"
cat "$VG_TMP/fast.sum" >&2
grep -q '^rows: read=1000 channels=3 missing_cells=' "$VG_TMP/fast.sum" || vg_fail "rows read"
grep -q '^result: all 63 batches acknowledged$' "$VG_TMP/fast.sum" || vg_fail "63 batches acked"

# Every expected sample exactly once, with its value; nothing else.
awk -F, 'FNR == NR { want[$1 "," $2] = $3; next }
    FNR > 1 { if ($1 != "rp-1") { print "bad: device " $1; bad++; next }
        k = $3 "," $4; if (!(k in want)) { print "bad: unexpected " k; bad++; next }
        if (want[k] + 0 != $5 + 0) { print "bad: " k " value " $5 " != " want[k]; bad++ }
        if (seen[k "," $2]++) next      # the same batch delivered twice (QoS 1)
        if (got[k]++) { print "bad: twice " k; bad++ }
        seq[$2] = 1; if ($2 + 0 > maxseq) maxseq = $2 + 0 }
    END { for (k in want) if (!(k in got)) { print "bad: missing " k; bad++ }
        n = 0; for (s in seq) n++
        if (n != maxseq + 1) { print "bad: sequence numbers not contiguous"; bad++ }
        printf "matched %d samples in %d batches\n", length(got), n
        exit bad > 0 }' "$VG_TMP/expected.csv" "$VG_TMP/fast.csv" >"$VG_TMP/check.txt" || {
    head -20 "$VG_TMP/check.txt" >&2
    vg_fail "replayed samples differ from the file"
}
cat "$VG_TMP/check.txt" >&2
vg_assert_eq "matched $expected samples in 63 batches" "$(cat "$VG_TMP/check.txt")" "replay check"

# Paced: 40 rows one second apart (integer epoch seconds) at --speed 20
# take about 2 s of wall time.
awk 'BEGIN { print "time,a,b"; for (i = 0; i < 40; i++) print 1709294400 + i "," i "," (-i) }' \
    >"$VG_TMP/slow.csv"
vg_listen paced --expect 80 --idle 5 --duration 60
t0=$(date +%s%N)
vg_sim 60 --broker "$VG_BROKER_URI" --device rp-2 --replay "$VG_TMP/slow.csv" --speed 20 \
    --batch 4 >"$VG_TMP/slow.sum" || vg_fail "paced replay failed"
ms=$((($(date +%s%N) - t0) / 1000000))
vg_wait_exit "$VG_LISTEN_PID" 30 || vg_fail "listener: $(cat "$VG_TMP/paced.err")"
vg_log "paced replay of 39 s recorded at --speed 20 took $ms ms"
[ "$ms" -ge 1900 ] && [ "$ms" -lt 8000 ] || vg_fail "paced replay took $ms ms, expected about 1950"
got=$(tail -n +2 "$VG_TMP/paced.csv" | cut -d, -f3,4 | sort -u | wc -l)
vg_assert_eq 80 "$got" "paced replay samples"

# A malformed file stops with the line number.
printf 'time,a\n1709294400,1\n1709294401,x\n' >"$VG_TMP/bad.csv"
if vg_sim 30 --broker "$VG_BROKER_URI" --device rp-3 --replay "$VG_TMP/bad.csv" \
    >"$VG_TMP/bad.sum" 2>"$VG_TMP/bad.err"; then
    vg_fail "a malformed CSV was accepted"
fi
grep -q 'line 3' "$VG_TMP/bad.err" || vg_fail "no line number in: $(cat "$VG_TMP/bad.err")"
vg_log "ok: $expected samples replayed exactly once; pacing and errors as documented"
