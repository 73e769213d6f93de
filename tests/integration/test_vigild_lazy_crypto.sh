#!/usr/bin/env bash
# libsodium is mapped by the first model bundle, not at start
# (agent/sodium_dl.h): vigild's ELF does not list it, a vigild with a trust
# key but no bundle yet has not mapped it, a good bundle is verified and
# applied through the loaded library (and a forged one still refused), and
# a restart with the persisted bundle maps it at start to restore it.  A
# libsodium that cannot be loaded refuses the bundle with reason "crypto"
# and says why in the log; the daemon keeps running.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
mapped() { grep -q 'libsodium' "/proc/$1/maps"; }
if command -v readelf >/dev/null; then
    readelf -d "$VGD_BIN" | grep -q 'NEEDED.*libsodium' && vg_fail "vigild lists libsodium as NEEDED"
fi
vg_broker_start
T=vigil/v1/dev-l
K=$VG_TMP
"$VGD_TOOL" keygen "$K/pk" "$K/sk"
"$VGD_TOOL" keygen "$K/pk2" "$K/sk2"
printf '[channel.temp]\nhi = 95\n' >"$VG_TMP/v.conf"
"$VGD_TOOL" sign "$K/sk2" dev-l 1 "$K/forged" temp:-10:90
"$VGD_TOOL" sign "$K/sk" dev-l 2 "$K/good" temp:-10:90
vgd_sub all "$T/model/ack" -v
vgd_start d dev-l --config "$VG_TMP/v.conf" --trust-key "$K/pk"
sleep 0.5
mapped "$VGD_PID" && vg_fail "libsodium mapped before any bundle"
vgd_pub "$T/model" "$K/forged"
vgd_wait_decoded all "^ack 0 0 0 signature$" 5 || vg_fail "forged bundle: $(vgd_decode all)"
mapped "$VGD_PID" || vg_fail "libsodium not mapped after the first bundle"
vgd_pub "$T/model" "$K/good" -r
vgd_wait_decoded all "^ack 1 2 2 ok$" 5 || vg_fail "good bundle: $(vgd_decode all)"
vg_stop_pid "$VGD_PID" 5
cmp -s "$VG_TMP/d.data/model.cose" "$K/good" || vg_fail "persisted bundle is not the good one"
mv "$VG_TMP/d.err" "$VG_TMP/d1.err"
vgd_start d dev-l --config "$VG_TMP/v.conf" --trust-key "$K/pk"
vgd_wait_for 5 grep -q "restored model 2" "$VG_TMP/d.err" || vg_fail "model 2 not restored"
mapped "$VGD_PID" || vg_fail "libsodium not mapped after restoring the bundle"
# an unloadable libsodium.so.23 (not an ELF file) found first on the path
mkdir -p "$VG_TMP/badlib"
echo "not a library" >"$VG_TMP/badlib/libsodium.so.23"
"$VGD_TOOL" sign "$K/sk" dev-x 3 "$K/goodx" temp:-10:90
vgd_sub x "vigil/v1/dev-x/model/ack" -v
LD_LIBRARY_PATH="$VG_TMP/badlib" vgd_start x dev-x --config "$VG_TMP/v.conf" --trust-key "$K/pk"
vgd_pub vigil/v1/dev-x/model "$K/goodx"
vgd_wait_decoded x "^ack 0 0 0 crypto$" 5 || vg_fail "unloadable libsodium: $(vgd_decode x)"
grep -q "cannot load the crypto library libsodium.so.23" "$VG_TMP/x.err" ||
    vg_fail "no reason logged: $(tail -3 "$VG_TMP/x.err")"
kill -0 "$VGD_PID" || vg_fail "vigild died"
vg_log "PASS"
