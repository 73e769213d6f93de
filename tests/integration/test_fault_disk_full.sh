#!/usr/bin/env bash
# Fault: the spool's file system fills up, then space returns.  Two vigild
# (sim-0 normal, sim-1 overheat; 200 Hz x 4 channels for 45 s) keep their
# data dirs on a 24 MiB tmpfs, each spool under a 1.5 MiB quota ([spool]
# quota_bytes: sent samples are evicted first, so the spools fit the file
# system with room for their WALs once the disk has space again).  A filler
# file packs the tmpfs to ~100 KiB free two seconds in; the spools fail
# with ENOSPC, the overheat happens while the disk is full, and the filler
# is removed 14 s after the first reported failure.
#
# What is acknowledged: a sample batch counts as acknowledged when vigild's
# committed mark (ROOT/DEV/samples/ack) covers it, i.e. when it is committed
# to the spool (docs/OPERATIONS.md, "Acknowledgement and durability"); the
# broker's PUBACK says nothing about that (Paho PUBACKs before vigild has
# seen the batch).  The devices run with --device-ack and an in-flight
# window of 1024 batches (51 s at 20 batches/s, like firmware with a buffer
# larger than the outage): they keep publishing new samples while the disk
# is full, so detection goes on, and they keep every batch the mark does
# not cover and send it again until it does.  A batch that arrives while
# the disk is full is scored (alerts, trips) but its commit fails, so the
# mark does not cover it and vigild accepts it again later.  Checks:
#   - vigild never stops: it scores every sample (vigild_samples_in_total
#     >= vigil-sim's acknowledged samples, per device);
#   - it still trips (the overheat stops before its damage limit, the local
#     action runs, vigild_trips_total = 1);
#   - it reports the condition clearly: vigild_spool_errors_total > 0 and
#     "disk or database full" in its log;
#   - it recovers: once the space is back the spool errors stop, no unsent
#     batch was evicted by the quota, the backlog drains, and the devices'
#     every batch ends acknowledged ("result: all N batches acknowledged");
#   - nothing acknowledged is lost, on the live path alone (no re-import):
#     every acknowledged batch is in the warehouse exactly once (by device
#     and seq, and per-device sample counts), and so is everything the
#     spools hold.
# Needs root to mount the tmpfs: without it the test is skipped (exit 77).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
. "$(dirname "$0")/../tools/e2e_lib.sh"
vg_watchdog 170
DISK=$VG_TMP/disk
QUOTA=$((3 * 512 * 1024))
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=24m,mode=0755 vigil-e2e "$DISK" 2>"$VG_TMP/mount.err"; then
    vg_log "SKIP: cannot mount a tmpfs (needs root): $(cat "$VG_TMP/mount.err")"
    exit 77
fi
release_disk() { # the agents first (they hold files there), then the mount
    local rc=$? pid
    set +e # (exit rc) below must not end the trap under errexit
    vg_log "releasing $DISK"
    for pid in "${E2E_AGENT[@]}"; do
        vg_stop_pid "$pid" 3
    done
    if [ "$rc" != 0 ]; then # keep the spools for inspection
        for i in 0 1; do
            mkdir -p "$VG_TMP/kept-a$i"
            cp "$DISK/a$i"/spool.db* "$VG_TMP/kept-a$i/" 2>/dev/null
        done
    fi
    timeout 10 umount -l "$DISK" || vg_log "cannot unmount $DISK"
    (exit "$rc")
    vg_cleanup
}
trap release_disk EXIT
for i in 0 1; do
    mkdir -p "$DISK/a$i"
    ln -s "$DISK/a$i" "$VG_TMP/a$i.data"
done
e2e_init
vg_broker_start --persist
e2e_config "$VG_TMP/vigild.ini" "
[spool]
quota_bytes = $QUOTA"
free_kb() { df -k --output=avail "$DISK" | tail -1 | tr -d ' '; }
errors() { echo $(($(vgd_metric a0 vigild_spool_errors_total) + $(vgd_metric a1 vigild_spool_errors_total))); }
e2e_fleet_start 2 --rate 200 --duration 45 --seed 4 --device-ack --inflight 1024
sleep 2
T_FULL=$(date +%s.%N)
dd if=/dev/zero of="$DISK/filler" bs=4k count=$((($(free_kb) - 100) / 4)) 2>/dev/null || true
vg_log "filler written: $(free_kb) KiB free on the spool file system"
full() { grep -qsE "disk or database full|database or disk is full" "$VG_TMP/a0.err" "$VG_TMP/a1.err"; }
vgd_wait_for 15 full || vg_fail "the spools never reported a full disk: $(tail -2 "$VG_TMP/a0.err")"
vg_log "spool reports a full disk ($(errors) spool errors so far)"
sleep 14
rm -f "$DISK/filler"
T_FREE=$(date +%s.%N)
vg_log "space returned: $(free_kb) KiB free"
# the spools take batches again: the errors stop within a few seconds
sleep 3
e0=$(errors)
sleep 3
vg_assert_eq "$e0" "$(errors)" "spool errors still counted 3-6 s after the space returned"
e2e_sim_wait run 60
if ! e2e_wait_drained 2 30; then
    for i in 0 1; do
        vg_log "sim-$i: backlog $(vgd_metric "a$i" vigild_backlog_records) records," \
            "uplink lag $(vgd_metric "a$i" vigild_uplink_lag_seconds) s, unsent (kind|seq):" \
            "$(sqlite3 "$VG_TMP/a$i.data/spool.db" "SELECT kind || '|' || seq FROM record WHERE sent = 0 LIMIT 5" |
                tr '\n' ' ')"
    done
    vg_fail "agents did not drain their backlog after the disk came back"
fi
e2e_published run >"$VG_TMP/run.published"
for i in 0 1; do
    kill -0 "${E2E_AGENT[i]}" 2>/dev/null || vg_fail "vigild sim-$i died"
done
sleep 0.5
for i in 0 1; do
    acked=$(awk -v d="sim-$i" '$1 == d { split($3, s, "/"); print s[2] }' "$VG_TMP/run.out")
    scored=$(vgd_metric "a$i" vigild_samples_in_total)
    errs=$(vgd_metric "a$i" vigild_spool_errors_total)
    vg_log "sim-$i: acked $acked samples, scored $scored, spool errors $errs," \
        "spool $(vgd_metric "a$i" vigild_spool_bytes) bytes (quota $QUOTA)"
    [ "$scored" -ge "$acked" ] || vg_fail "sim-$i: only $scored of $acked samples scored while the disk was full"
    [ "$errs" -gt 0 ] || vg_fail "sim-$i: no spool error counted"
    vg_assert_eq 0 "$(vgd_metric "a$i" vigild_evicted_unsent_total)" "sim-$i unsent batches evicted by the quota"
    last=$(awk -v d="sim-$i" '$1 == d && $2 + 0 > n { n = $2 + 0 } END { print n }' "$VG_TMP/run.published")
    inspool=$(sqlite3 "$VG_TMP/a$i.data/spool.db" "SELECT max(seq) FROM record WHERE kind = 0")
    vg_assert_eq "$last" "$inspool" "sim-$i: newest batch in the spool (the spool recovered)"
done
vg_assert_eq 1 "$(vgd_metric a1 vigild_trips_total)" "sim-1 trips"
grep -q "^sim-1 " "$VG_TMP/actions.log" || vg_fail "no local action for sim-1's trip"
for i in 0 1; do
    vg_stop_pid "${E2E_AGENT[i]}" 5
done
vg_stop_pid "$E2E_INGEST" 5
e2e_check_trips run "$VG_TMP/wh.db"
# live path: whatever a spool holds is in the warehouse
for i in 0 1; do
    sqlite3 "$VG_TMP/a$i.data/spool.db" "SELECT 'sim-$i ' || seq FROM record WHERE kind = 0"
done | sort >"$VG_TMP/spooled"
e2e_stored "$VG_TMP/wh.db" >"$VG_TMP/stored"
notarch=$(comm -23 "$VG_TMP/spooled" <(sort -u "$VG_TMP/stored") | wc -l)
vg_assert_eq 0 "$notarch" "batches committed to a spool but not in the warehouse (live path)"
e2e_assert_exactly_once "$VG_TMP/wh.db" run
vg_log "PASS: disk full for $(awk -v a="$T_FULL" -v b="$T_FREE" 'BEGIN { printf "%.0f", b - a }') s:" \
    "scoring and trip unaffected, spool recovered, every acknowledged batch archived live" \
    "exactly once (vigil-sim $(grep -o 'resends=[0-9]*' "$VG_TMP/run.out"))"
