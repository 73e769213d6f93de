#!/usr/bin/env bash
# Fault: the spool's file system fills up.  Two vigild (sim-0 normal, sim-1
# overheat; 200 Hz) keep their data dirs on a 2 MiB tmpfs that a filler file
# packs to ~150 KiB free; the spools hit ENOSPC a few seconds in, the
# overheat happens while the disk is full, and the filler is removed 14 s
# later.  Checks:
#   - vigild never stops: it scores every acknowledged sample
#     (vigild_samples_in_total = vigil-sim's acked samples, per device);
#   - it still trips (the overheat stops before its damage limit, the local
#     action runs, vigild_trips_total = 1);
#   - it reports the condition: vigild_spool_errors_total > 0 and "disk or
#     database full" in its log;
#   - it recovers: after the space returns the spool takes batches again
#     (the last batch published is in the spool), the backlog drains, and
#     every batch the spool holds reaches the warehouse exactly once;
#   - what was lost is exactly what was counted: batches acked by the broker
#     but not in the spool = the spool errors counted for samples.
# Needs root to mount the tmpfs: without it the test is skipped (exit 77).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
. "$(dirname "$0")/../tools/e2e_lib.sh"
vg_watchdog 150
DISK=$VG_TMP/disk
mkdir -p "$DISK"
if ! mount -t tmpfs -o size=2m,mode=0755 vigil-e2e "$DISK" 2>"$VG_TMP/mount.err"; then
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
e2e_config "$VG_TMP/vigild.ini"
free_kb() { df -k --output=avail "$DISK" | tail -1 | tr -d ' '; }
e2e_fleet_start 2 --rate 200 --duration 45 --seed 4
sleep 1
dd if=/dev/zero of="$DISK/filler" bs=4k count=$((($(free_kb) - 150) / 4)) 2>/dev/null || true
vg_log "filler written: $(free_kb) KiB free on the spool file system"
full() { grep -qs "disk or database full" "$VG_TMP/a0.err" "$VG_TMP/a1.err"; }
vgd_wait_for 15 full || vg_fail "the spools never reported a full disk"
vg_log "spool reports a full disk"
sleep 14
rm -f "$DISK/filler"
vg_log "space returned: $(free_kb) KiB free"
e2e_sim_wait run 60
# Known defect (agent/spool.c, see tests/CMakeLists.txt): after one ENOSPC
# every later commit fails although the space is back.  With
# VG_E2E_KNOWN_SPOOL_NO_RECOVERY=1 the recovery checks are logged, not fatal.
KNOWN=${VG_E2E_KNOWN_SPOOL_NO_RECOVERY:-0}
recovery_fail() {
    [ "$KNOWN" = 1 ] || vg_fail "$*"
    vg_log "KNOWN DEFECT (not fatal): $*"
    RECOVERED=0
}
RECOVERED=1
e2e_wait_drained 2 20 || recovery_fail "agents did not drain their backlog after the disk came back"
e2e_wait_wh "$VG_TMP/wh.db" run 5 || true # the spool lost some: not all can arrive
for i in 0 1; do
    kill -0 "${E2E_AGENT[i]}" 2>/dev/null || vg_fail "vigild sim-$i died"
done
sleep 0.5
# scoring never stopped
lost_total=0
for i in 0 1; do
    acked=$(awk -v d="sim-$i" '$1 == d { split($3, s, "/"); print s[2] }' "$VG_TMP/run.out")
    scored=$(vgd_metric "a$i" vigild_samples_in_total)
    errs=$(vgd_metric "a$i" vigild_spool_errors_total)
    vg_log "sim-$i: acked $acked samples, scored $scored, spool errors $errs"
    vg_assert_eq "$acked" "$scored" "sim-$i samples scored while the disk was full"
    [ "$errs" -gt 0 ] || vg_fail "sim-$i: no spool error counted"
    last=$(grep -c "^sim-$i " "$VG_TMP/run.published")
    inspool=$(sqlite3 "$VG_TMP/a$i.data/spool.db" "SELECT count(*), max(seq) FROM record WHERE kind = 0")
    vg_log "sim-$i: published batches 0..$((last - 1)), spool holds count|max = $inspool"
    [ "${inspool#*|}" = $((last - 1)) ] || recovery_fail "sim-$i: the spool did not recover (max seq ${inspool#*|})"
    lost=$((last - ${inspool%|*}))
    lost_total=$((lost_total + lost))
    [ "$lost" -le "$errs" ] || vg_fail "sim-$i: $lost batches missing from the spool, only $errs errors counted"
done
vg_assert_eq 1 "$(vgd_metric a1 vigild_trips_total)" "sim-1 trips"
grep -q "^sim-1 " "$VG_TMP/actions.log" || vg_fail "no local action for sim-1's trip"
for i in 0 1; do
    vg_stop_pid "${E2E_AGENT[i]}" 5
done
vg_stop_pid "$E2E_INGEST" 5
# every batch in the spools is in the warehouse exactly once
e2e_import_spools "$VG_TMP/wh.db"
e2e_check_exactly_once "$VG_TMP/wh.db" run
[ "$E2E_DUP" = 0 ] || vg_fail "$E2E_DUP duplicates in the warehouse"
[ "$E2E_MISSING" = "$lost_total" ] || vg_fail "warehouse misses $E2E_MISSING batches, spools lost $lost_total"
e2e_check_trips run "$VG_TMP/wh.db"
vg_log "PASS: disk full for 14 s: scoring and trip unaffected, $lost_total batches not spooled" \
    "(all counted as spool errors), spool recovered: $RECOVERED"
