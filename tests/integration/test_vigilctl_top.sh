#!/usr/bin/env bash
# vigilctl top through a pseudo-terminal: two vigild agents (one tripped),
# top runs in a detached tmux session (120x30); capture-pane must show a
# row per device, "online", the model version, a samples/s figure for the
# device being fed, the latched trip of the other; 'q' must end it and
# restore the terminal (the session's shell prompt marker comes back).
# Also the plain mode (stdout not a terminal): --iterations tables, exit 0.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
source "$(dirname "$0")/../../scripts/lib/common.sh"
vg_need_packages tmux
vg_watchdog 60
CTL=$VG_BUILD/ctl/vigilctl
[ -x "$CTL" ] || vg_fail "no vigilctl at $CTL"
vg_broker_start
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
trip = true
[agent]
status_ms = 300
CONF
vgd_start a dev-a --config "$VG_TMP/v.conf"
vgd_start b dev-b --config "$VG_TMP/v.conf"
now=$(vgd_now_us)
"$VGD_TOOL" samples dev-b 1 "$now" 100000 temp 99 "$VG_TMP/hot.cbor"
vgd_pub vigil/v1/dev-b/samples "$VG_TMP/hot.cbor"
# feed dev-a 10 samples every 0.1 s in the background
feed() {
    local i=1 t
    while :; do
        t=$(vgd_now_us)
        "$VGD_TOOL" samples dev-a "$i" "$t" 10000 temp 20,21,22,23,24,25,24,23,22,21 \
            "$VG_TMP/feed.cbor"
        vgd_pub vigil/v1/dev-a/samples "$VG_TMP/feed.cbor"
        i=$((i + 1))
        sleep 0.1
    done
}
vg_bg feed feed

TM=(tmux -L "vigilctl-test-$$" -f /dev/null)
cleanup_tmux() { "${TM[@]}" kill-server 2>/dev/null || true; }
trap 'rc=$?; cleanup_tmux; (exit $rc); vg_cleanup' EXIT
"${TM[@]}" new-session -d -s top -x 120 -y 30 \
    "$CTL top --broker $VG_BROKER_URI --interval 0.5; echo TOP-EXITED rc=\$?; sleep 30"
screen() { "${TM[@]}" capture-pane -p -t top; }
has_rows() {
    local s
    s=$(screen)
    grep -Eq '^dev-a +online +0 +[0-9]+\.[0-9] ' <<<"$s" &&
        grep -Eq '^dev-b +online .*#1 temp' <<<"$s"
}
vgd_wait_for 15 has_rows || vg_fail "device rows not shown:
$(screen)"
rate=$(screen | awk '$1 == "dev-a" {print $4}')
awk -v r="$rate" 'BEGIN {exit !(r > 10)}' || vg_fail "samples/s of dev-a: $rate"
screen | grep -q "q quits" || vg_fail "no full-screen footer"
"${TM[@]}" send-keys -t top q
vgd_wait_for 5 eval 'screen | grep -q "TOP-EXITED rc=0"' || vg_fail "top did not quit on q:
$(screen)"
screen | grep -q "DEVICE" && vg_fail "alternate screen not left"

# plain mode
"$CTL" top --broker "$VG_BROKER_URI" --interval 0.3 --iterations 2 >"$VG_TMP/plain.out" ||
    vg_fail "plain top failed"
vg_assert_eq 2 "$(grep -c '^DEVICE' "$VG_TMP/plain.out")" "plain tables"
grep -Eq '^dev-b +online' "$VG_TMP/plain.out" || vg_fail "plain rows: $(cat "$VG_TMP/plain.out")"
grep -q $'\033' "$VG_TMP/plain.out" && vg_fail "escape codes in plain output"
vg_log "PASS"
