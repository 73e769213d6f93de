#!/usr/bin/env bash
# vigilctl bundle: a good bundle verifies under its key (exit 0) and its
# thresholds are printed per channel; a bundle with one flipped signature
# bit, or checked under another key, is rejected (exit 1); without a key it
# is decoded but reported as not verified; a file that is not a bundle and
# a bad key file exit 5.  No broker needed.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
source "$(dirname "$0")/../../scripts/lib/common.sh"
vg_need_packages jq
vg_watchdog 30
CTL=$VG_BUILD/ctl/vigilctl
[ -x "$CTL" ] || vg_fail "no vigilctl at $CTL"
"$VGD_TOOL" keygen "$VG_TMP/pk" "$VG_TMP/sk"
"$VGD_TOOL" keygen "$VG_TMP/pk2" "$VG_TMP/sk2"
"$VGD_TOOL" sign "$VG_TMP/sk" dev-b 12 "$VG_TMP/good.cose" temp:5:80 vib:0:2.5
"$VGD_TOOL" tamper "$VG_TMP/good.cose" "$VG_TMP/bad.cose"

"$CTL" bundle "$VG_TMP/good.cose" --trust-key "$VG_TMP/pk" >"$VG_TMP/good.txt" ||
    vg_fail "good bundle rejected: $(cat "$VG_TMP/good.txt")"
grep -q "^signature  valid" "$VG_TMP/good.txt" || vg_fail "verdict: $(cat "$VG_TMP/good.txt")"
grep -Eq '^temp +5 +80 ' "$VG_TMP/good.txt" || vg_fail "temp row: $(cat "$VG_TMP/good.txt")"
grep -Eq '^vib +0 +2.5 ' "$VG_TMP/good.txt" || vg_fail "vib row"
"$CTL" bundle --json --trust-key "$VG_TMP/pk" "$VG_TMP/good.cose" >"$VG_TMP/good.json"
vg_assert_eq "true 12 dev-b" "$(jq -r '"\(.valid) \(.version) \(.device)"' "$VG_TMP/good.json")" \
    "JSON verdict"
vg_assert_eq "vib 0 2.5" "$(jq -r '.channels[1] | "\(.name) \(.lo) \(.hi)"' "$VG_TMP/good.json")" \
    "JSON thresholds"

rc=0
"$CTL" bundle "$VG_TMP/bad.cose" --trust-key "$VG_TMP/pk" >"$VG_TMP/bad.txt" 2>&1 || rc=$?
vg_assert_eq 1 "$rc" "tampered bundle"
grep -q "INVALID" "$VG_TMP/bad.txt" || vg_fail "tampered verdict: $(cat "$VG_TMP/bad.txt")"
rc=0
"$CTL" bundle "$VG_TMP/good.cose" --trust-key "$VG_TMP/pk2" >/dev/null 2>&1 || rc=$?
vg_assert_eq 1 "$rc" "bundle under another key"
# a flipped byte inside the signed payload: still rejected
cp "$VG_TMP/good.cose" "$VG_TMP/payload.cose"
printf 'X' | dd of="$VG_TMP/payload.cose" bs=1 seek=40 conv=notrunc 2>/dev/null
rc=0
"$CTL" bundle "$VG_TMP/payload.cose" --trust-key "$VG_TMP/pk" >/dev/null 2>&1 || rc=$?
[ "$rc" = 1 ] || [ "$rc" = 5 ] || vg_fail "payload-tampered bundle: exit $rc"

"$CTL" bundle "$VG_TMP/good.cose" | grep -q "not verified" || vg_fail "no-key verdict"
rc=0
"$CTL" bundle "$VG_TMP/pk" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "not a bundle"
rc=0
"$CTL" bundle "$VG_TMP/good.cose" --trust-key "$VG_TMP/good.cose" >/dev/null 2>&1 || rc=$?
vg_assert_eq 5 "$rc" "bad key file"
rc=0
"$CTL" bundle >/dev/null 2>&1 || rc=$?
vg_assert_eq 2 "$rc" "missing argument"
rc=0
"$CTL" bundle --count 3 "$VG_TMP/good.cose" >/dev/null 2>&1 || rc=$?
vg_assert_eq 2 "$rc" "option of another command"
vg_log "PASS"
