#!/usr/bin/env bash
# Model bundles: a good bundle is applied (between batches: each archived
# batch is tagged with the version that scored it, never mixed); forged
# (other key), tampered, old, wrong-device and envelope-loosening bundles
# are rejected with the right reason while the previous model keeps
# running; the last good bundle is persisted and restored at restart.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
vg_broker_start
T=vigil/v1/dev-m
K=$VG_TMP
"$VGD_TOOL" keygen "$K/pk" "$K/sk"
"$VGD_TOOL" keygen "$K/pk2" "$K/sk2"
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
trip = true
CONF
"$VGD_TOOL" sign "$K/sk" dev-m 1 "$K/good1" temp:-10:90
"$VGD_TOOL" sign "$K/sk2" dev-m 2 "$K/forged" temp:-10:90
"$VGD_TOOL" tamper "$K/good1" "$K/tampered"
"$VGD_TOOL" sign "$K/sk" dev-m 1 "$K/old" temp:-10:80
"$VGD_TOOL" sign "$K/sk" dev-other 5 "$K/wrongdev" temp:-10:90
"$VGD_TOOL" sign "$K/sk" dev-m 6 "$K/loose" temp:-10:120
"$VGD_TOOL" sign "$K/sk" dev-m 7 "$K/good7" temp:-10:85

vgd_sub all "$T/#" -v
vgd_start d dev-m --config "$VG_TMP/v.conf" --trust-key "$K/pk"
now=$(vgd_now_us)
seq=0
feed() { # feed N batches of 5 samples
    local i
    for ((i = 0; i < $1; i++)); do
        seq=$((seq + 1))
        "$VGD_TOOL" samples dev-m "$seq" $((now + seq * 500000)) 100000 temp 20,21,22,21,20 \
            "$VG_TMP/b.cbor"
        vgd_pub "$T/samples" "$VG_TMP/b.cbor"
    done
}
ack() { # publish bundle, wait for the ack line matching REGEX
    vgd_pub "$T/model" "$K/$1" -r
    vgd_wait_decoded all "$2" 5 || vg_fail "$1: no ack matching '$2': $(vgd_decode all | grep ack)"
}
feed 3
ack good1 "^ack 1 1 1 ok$"
feed 3
ack forged "^ack 0 0 1 signature$"
ack tampered "^ack 0 0 1 signature$"
ack old "^ack 0 1 1 version$"
ack wrongdev "^ack 0 5 1 device$"
ack loose "^ack 0 6 1 envelope$"
feed 3
ack good7 "^ack 1 7 7 ok$"
feed 3
vgd_wait_for 5 grep -q "vigild_model_version{device=\"dev-m\"} 7" "$VG_TMP/d.prom" ||
    vg_fail "metrics do not show model 7"
# every batch archived once with the version that scored it, non-decreasing
vgd_wait_for 10 vgd__decoded_has all "^archive 0 12 " || vg_fail "batch 12 not archived"
vgd_decode all | awk '$1 == "archive" && $2 == 0 {print $3, $4}' | sort -n -u >"$VG_TMP/tags"
vg_assert_eq "0 0 0 1 1 1 1 1 1 7 7 7" "$(awk '{print $2}' "$VG_TMP/tags" | paste -sd' ')" \
    "model version of each archived batch"
vg_stop_pid "$VGD_PID" 5
[ -s "$VG_TMP/d.data/model.cose" ] || vg_fail "no persisted bundle"
cmp -s "$VG_TMP/d.data/model.cose" "$K/good7" || vg_fail "persisted bundle is not good7"
# restart: the persisted bundle is restored; the retained good7 is not re-acked
mv "$VG_TMP/d.err" "$VG_TMP/d1.err"
vgd_start d dev-m --config "$VG_TMP/v.conf" --trust-key "$K/pk"
vgd_wait_for 5 grep -q "restored model 7" "$VG_TMP/d.err" || vg_fail "model 7 not restored"
sleep 1
vg_assert_eq 1 "$(vgd_decode all | grep -c '^ack 1 7 ')" "acks of bundle 7"
vg_log "PASS"
