#!/usr/bin/env bash
# Fault: slow and stalled consumers on the broker.  While a fleet of 4
# machines (normal, overheat, drift, spike; 100 Hz) runs:
#   - a QoS 1 persistent subscriber to everything (vigil/v1/#) is SIGSTOPped
#     for the whole run (the broker queues for it),
#   - a subscriber on alerts/archive/status reads one line per 0.2 s through a
#     pipe (its socket fills up),
#   - vigil-batch ingest itself is SIGSTOPped for 15 s mid-run, then resumed.
# Checks: vigild's processing and trip path do not stall: every acknowledged
# sample is scored (vigild_samples_in_total = vigil-sim's acked samples), the
# simulator never fell behind its schedule by more than 1 s, vigild's
# processing latency stays under 50 ms for 99 % of the batches (histogram),
# the overheat stops before its damage limit; and once ingest resumes the
# warehouse holds every batch exactly once.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
. "$(dirname "$0")/../tools/e2e_lib.sh"
vg_watchdog 150
e2e_init
vg_broker_start --persist
e2e_config "$VG_TMP/vigild.ini"
vg_bg stopped mosquitto_sub -h 127.0.0.1 -p "$VG_BROKER_PORT" -q 1 -c -i e2e-stalled -t 'vigil/v1/#' -F '%t %x'
STOPPED=$VG_LAST_PID
# the slow one writes into a FIFO that a reader drains one line per 0.2 s
mkfifo "$VG_TMP/slow.out"
vg_bg slowreader bash -c 'while read -r _; do sleep 0.2; done <"$1"' _ "$VG_TMP/slow.out"
vg_bg slow mosquitto_sub -h 127.0.0.1 -p "$VG_BROKER_PORT" -q 1 -t 'vigil/v1/+/alerts' \
    -t 'vigil/v1/+/archive' -t 'vigil/v1/+/status' -F '%t %x'
sleep 0.5
kill -STOP "$STOPPED"
e2e_fleet_start 4 --rate 100 --duration 50 --seed 8
sleep 12
kill -STOP "$E2E_INGEST"
vg_log "ingest SIGSTOPped"
sleep 15
kill -CONT "$E2E_INGEST"
vg_log "ingest resumed"
e2e_sim_wait run 60
# scoring kept up: every acknowledged sample scored, on time
scored_all() { [ "$(vgd_metric "a$1" vigild_samples_in_total)" = "$2" ]; }
for i in 0 1 2 3; do
    acked=$(awk -v d="sim-$i" '$1 == d { split($3, s, "/"); print s[2] }' "$VG_TMP/run.out")
    vgd_wait_for 5 scored_all "$i" "$acked" ||
        vg_fail "sim-$i: scored $(vgd_metric "a$i" vigild_samples_in_total) of $acked samples"
    le=$(awk '/vigild_processing_latency_seconds_bucket/ && /le="0.05"/ { print $2 }' "$VG_TMP/a$i.prom")
    n=$(vgd_metric "a$i" vigild_processing_latency_seconds_count)
    vg_log "sim-$i: $acked samples scored; $le of $n batches processed within 50 ms"
    [ -n "$le" ] || vg_fail "no 50 ms bucket in vigild's latency histogram"
    [ $((le * 100)) -ge $((n * 99)) ] || vg_fail "sim-$i: only $le of $n batches within 50 ms"
done
behind=$(awk '/fell behind the schedule by up to/ { print $7 }' "$VG_TMP/run.out")
vg_log "simulator schedule: ${behind:+fell behind by up to $behind s}${behind:-never behind by 0.5 s}"
[ -z "$behind" ] || awk -v b="$behind" 'BEGIN { exit !(b <= 1.0) }' ||
    vg_fail "the simulator fell behind its schedule by $behind s: the broker path stalled"
kill -CONT "$STOPPED" # so that the cleanup's SIGTERM reaches it
e2e_fleet_finish 10
vg_log "PASS: stalled and slow subscribers, ingest stopped 15 s: no stall, nothing lost"
