#!/usr/bin/env bash
# vigil-batch ingest against a real mosquitto: archive chunks published at
# QoS 1 land in the warehouse exactly once - a chunk published twice adds
# nothing, chunks queued while the worker is stopped (persistent session
# and subscriptions) arrive after its restart, a corrupt payload is
# counted and loses no good data, and after a SIGKILL mid-stream plus a
# re-import of the device's spool nothing is missing or duplicated.  Then:
# chunks published right after a broker restart (persistence on), before
# the worker has reconnected, still arrive (the broker restored the plain
# subscription and queued them); and two workers in one --share group
# split a stream between them, exactly once.
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 90
VB=$VG_BUILD/batch/vigil-batch
TOOL=$VG_BUILD/batch/vg-archive-tool
WH=$VG_TMP/wh.db
vg_broker_start --persist

# 120 batches x 3 channels x 100 samples in 15 chunks of 8 batches
"$TOOL" chunks --device pump-1 --out "$VG_TMP/ch" --batches 120 --samples 100 --channels 3 --per-chunk 8
"$TOOL" spool --device pump-1 --out "$VG_TMP/pump-1.db" --batches 120 --samples 100 --channels 3
want=$((120 * 3 * 100))

start_ingest() {
    rm -f "$VG_TMP/ready"
    vg_bg "ingest$1" "$VB" ingest --broker "$VG_BROKER_URI" --warehouse "$WH" \
        --client-id ingest-w1 --ready-file "$VG_TMP/ready"
    INGEST_PID=$VG_LAST_PID
    vg_wait_file "$VG_TMP/ready" 10 || vg_fail "ingest did not subscribe: $(cat "$VG_TMP/ingest$1.err")"
}
pub() { # pub FILE [DEVICE]
    mosquitto_pub -h 127.0.0.1 -p "$VG_BROKER_PORT" -q 1 -t "vigil/v1/${2:-pump-1}/archive" -f "$1"
}
samples() { sqlite3 "$WH" "SELECT coalesce(sum(n), 0) FROM samples"; }
wait_samples() { # wait_samples N SECS
    local i
    for ((i = 0; i < $2 * 10; i++)); do [ "$(samples)" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}

# 1. first 5 chunks, chunk 0 twice, one corrupt payload
start_ingest 1
for i in 0 1 2 3 4; do pub "$VG_TMP/ch/chunk-00000$i.cbor"; done
pub "$VG_TMP/ch/chunk-000000.cbor"
mosquitto_pub -h 127.0.0.1 -p "$VG_BROKER_PORT" -q 1 -t vigil/v1/pump-1/archive -m 'not cbor'
wait_samples $((40 * 300)) 20 || vg_fail "first chunks not stored: $(samples)"
sleep 0.5
vg_assert_eq $((40 * 300)) "$(samples)" "samples after duplicates"

# 2. stop the worker; chunks 5..9 are queued by the broker for its session
vg_stop_pid "$INGEST_PID" 5
grep -q "rejected_decode=1" "$VG_TMP/ingest1.err" || vg_fail "corrupt payload not counted: $(cat "$VG_TMP/ingest1.err")"
for i in 5 6 7 8 9; do pub "$VG_TMP/ch/chunk-00000$i.cbor"; done
start_ingest 2
wait_samples $((80 * 300)) 20 || vg_fail "queued chunks not delivered after restart: $(samples)"

# 3. SIGKILL mid-stream, restart, then re-import the device's spool
for i in 10 11 12 13 14; do pub "$VG_TMP/ch/chunk-0000$i.cbor"; done &
pubber=$!
sleep 0.05
kill -KILL "$INGEST_PID"
wait "$INGEST_PID" 2>/dev/null || true
wait "$pubber"
start_ingest 3
sleep 2
got=$(samples)
vg_log "after SIGKILL and restart: $got of $want samples via MQTT"
[ "$got" -le "$want" ] || vg_fail "more samples than sent: $got"
VB_PROGRESS=1 "$VB" import --warehouse "$WH" "$VG_TMP/pump-1.db" 2>"$VG_TMP/import.err" || vg_fail "import: $(cat "$VG_TMP/import.err")"
grep -q "import: 1/1 files" "$VG_TMP/import.err" || vg_fail "import drew no progress line"
vg_assert_eq "$want" "$(samples)" "samples after re-import"
vg_assert_eq 120 "$(sqlite3 "$WH" "SELECT count(*) FROM batches")" "distinct batches"
vg_assert_eq 360 "$(sqlite3 "$WH" "SELECT count(*) FROM samples")" "block rows (no duplicates)"
vg_assert_eq ok "$(sqlite3 "$WH" "PRAGMA integrity_check")" "integrity"

# 4. broker restart (TERM: it saves sessions and subscriptions) while the
# worker is frozen; chunks of pump-2 are published to the restarted broker
# before the worker can reconnect: they must be queued for its session.
"$TOOL" chunks --device pump-2 --out "$VG_TMP/ch2" --batches 40 --samples 100 --channels 3 --per-chunk 8
kill -STOP "$INGEST_PID"
vg_broker_stop TERM
vg_broker_restart
for i in 0 1 2 3 4; do pub "$VG_TMP/ch2/chunk-00000$i.cbor" pump-2; done
kill -CONT "$INGEST_PID"
wait_samples $((want + 40 * 300)) 20 ||
    vg_fail "chunks published after the broker restart were lost: $(samples) of $((want + 40 * 300))"
vg_stop_pid "$INGEST_PID" 5
vg_assert_eq $((120 + 40)) "$(sqlite3 "$WH" "SELECT count(*) FROM batches")" "batches after restart"

# 5. --share: two workers in one group split 15 chunks, exactly once
WH=$VG_TMP/wh-shared.db
"$TOOL" chunks --device pump-3 --out "$VG_TMP/ch3" --batches 120 --samples 100 --channels 3 --per-chunk 8
for w in 1 2; do
    rm -f "$VG_TMP/ready$w"
    vg_bg "shared$w" "$VB" ingest --broker "$VG_BROKER_URI" --warehouse "$WH" --share vigil-ingest \
        --client-id "ingest-s$w" --ready-file "$VG_TMP/ready$w"
    eval "SHARED_PID$w=$VG_LAST_PID"
    vg_wait_file "$VG_TMP/ready$w" 10 || vg_fail "shared worker $w did not subscribe"
done
for f in "$VG_TMP"/ch3/chunk-*.cbor; do
    pub "$f" pump-3
done
wait_samples "$want" 20 || vg_fail "shared workers stored $(samples) of $want samples"
vg_stop_pid "$SHARED_PID1" 5
vg_stop_pid "$SHARED_PID2" 5
vg_assert_eq 120 "$(sqlite3 "$WH" "SELECT count(*) FROM batches")" "distinct batches (shared)"
vg_assert_eq 360 "$(sqlite3 "$WH" "SELECT count(*) FROM samples")" "block rows (shared, no duplicates)"
for w in 1 2; do
    n=$(sed -n 's/.*records new=\([0-9]*\).*/\1/p' "$VG_TMP/shared$w.err")
    vg_log "shared worker $w committed $n batch records"
    [ "${n:-0}" -gt 0 ] || vg_fail "shared worker $w got nothing: the group did not split the load"
done
grep -q 'subscribed as ingest-s1 to \$share/vigil-ingest/vigil/v1/+/' "$VG_TMP/shared1.err" ||
    vg_fail "worker 1 did not use the shared subscription: $(head -2 "$VG_TMP/shared1.err")"
vg_log "PASS"
