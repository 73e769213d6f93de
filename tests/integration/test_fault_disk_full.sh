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
# What vigild acknowledges: a sample batch is acknowledged by vigild when
# it is committed to its spool (docs/OPERATIONS.md, "Acknowledgement and
# durability"; the MQTT PUBACK the device gets is the broker's, sent before
# vigild has seen the batch).  A batch that arrives while the disk is full
# is scored (alerts, trips) but cannot be committed, so vigild never
# acknowledges it and the device-level mark does not cover it.  Checks:
#   - vigild never stops: it scores every sample the broker delivered
#     (vigild_samples_in_total >= vigil-sim's acked samples, per device);
#   - it still trips (the overheat stops before its damage limit, the local
#     action runs, vigild_trips_total = 1);
#   - it reports the condition clearly: vigild_spool_errors_total > 0 and
#     "disk or database full" in its log;
#   - it recovers: once the space is back the spool errors stop, the last
#     batch the simulator published is in the spool, no unsent batch was
#     evicted by the quota, and the backlog drains;
#   - nothing acknowledged is lost, on the live path alone (no re-import):
#     every batch in the spools and every batch they forwarded is in the
#     warehouse exactly once, and every batch that is not there was
#     published while the disk was full (its samples lie inside the full
#     window, with 3 s of slack for queueing on either side).
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
e2e_fleet_start 2 --rate 200 --duration 45 --seed 4
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
e2e_wait_drained 2 30 || vg_fail "agents did not drain their backlog after the disk came back"
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
e2e_check_exactly_once "$VG_TMP/wh.db" run
[ "$E2E_DUP" = 0 ] || vg_fail "$E2E_DUP duplicates in the warehouse"
[ "$E2E_EXTRA" = 0 ] || vg_fail "$E2E_EXTRA batches in the warehouse never published"
# every missing batch was published while the disk was full
"$VG_SIM" --decode "$VG_TMP/run.dump" | awk -F, 'NR > 1 { k = $1 " " $2; if (!(k in hi) || $4 > hi[k]) hi[k] = $4 }
    END { for (k in hi) print k, hi[k] }' >"$VG_TMP/batch_t"
comm -23 "$VG_TMP/run.published" <(sort -u "$VG_TMP/stored") >"$VG_TMP/missing"
outside=$(awk -v a="$T_FULL" -v b="$T_FREE" 'NR == FNR { t[$1 " " $2] = $3 / 1e6; next }
    { x = t[$1 " " $2] } x < a - 3 || x > b + 3 { n++ } END { print n + 0 }' "$VG_TMP/batch_t" "$VG_TMP/missing")
vg_log "full window $(awk -v a="$T_FULL" -v b="$T_FREE" 'BEGIN { printf "%.1f", b - a }') s:" \
    "$E2E_MISSING batches published meanwhile never committed (not acknowledged by vigild)," \
    "$outside of them outside the window"
vg_assert_eq 0 "$outside" "missing batches published outside the full-disk window"
vg_log "PASS: disk full for $(awk -v a="$T_FULL" -v b="$T_FREE" 'BEGIN { printf "%.0f", b - a }') s:" \
    "scoring and trip unaffected, spool recovered, every committed batch archived live;" \
    "$E2E_MISSING batches arrived while nothing could be committed"
