#!/usr/bin/env bash
# Signed model bundles end to end on the deploy broker config (TLS, client
# certificates, passwords, deploy/mosquitto/acl): vigil-batch imports a
# spool, retrains and signs the device's bundle with key K1 (and, as an
# attacker would, with another key K2); vigil-batch publish itself sends
# them retained over TLS, logged in as user "batch" with its client
# certificate and password.  (An unverified bundle's version is not trusted: its
# ack reports version 0.)  vigild trusting K1 rejects the K2 bundle (ack reason
# "signature"), applies the K1 bundle (ack applied, model/ack read by
# batch), and still rejects K2 afterwards, keeping K1's model.  The device
# itself cannot publish a model (ACL): its K1 bundle is never delivered.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
VB=$VG_BUILD/batch/vigil-batch
ARCH=$VG_BUILD/batch/vg-archive-tool
[ -x "$VB" ] && [ -x "$ARCH" ] || vg_fail "no vigil-batch / vg-archive-tool in $VG_BUILD/batch"
for u in dev-s batch; do vg_secure_user "$u"; done
vg_secure_broker_start
T=vigil/v1/dev-s

# the batch side: warehouse from a device spool, bundles signed with K1, K2
"$ARCH" spool --device dev-s --out "$VG_TMP/s.db" --batches 60 --samples 100 --channels 2 \
    --seed 7 || vg_fail "vg-archive-tool spool"
"$VB" import --warehouse "$VG_TMP/wh.db" "$VG_TMP/s.db" 2>/dev/null || vg_fail "import"
for k in k1 k2; do
    "$VB" keygen "$VG_TMP/$k" 2>/dev/null || vg_fail "keygen $k"
    "$VB" retrain --warehouse "$VG_TMP/wh.db" --out "$VG_TMP/$k" --sign-key "$VG_TMP/$k.key" \
        2>"$VG_TMP/retrain-$k.err" || vg_fail "retrain $k: $(cat "$VG_TMP/retrain-$k.err")"
    [ -s "$VG_TMP/$k/dev-s.bundle" ] || vg_fail "retrain $k wrote no bundle for dev-s"
done
cmp -s "$VG_TMP/k1/dev-s.bundle" "$VG_TMP/k2/dev-s.bundle" && vg_fail "K1 and K2 bundles identical"
VER=$(awk '$1 == "version" {print $2}' "$VG_TMP/k1/dev-s.meta")

cat >"$VG_TMP/d.conf" <<CONF
[mqtt]
ca_file = $VG_PKI/ca.pem
cert_file = $VG_PKI/dev-s.pem
key_file = $VG_PKI/dev-s.key
username = dev-s
password = $(cat "$VG_PKI/dev-s.pass")
CONF
vg_tls_sub_bg acks-sub batch -q 1 -t 'vigil/v1/+/model/ack' -F '%t %x'
vgd_start d dev-s --config "$VG_TMP/d.conf" --trust-key "$VG_TMP/k1.pub"

# publish_as USER KEY : USER publishes KEY's bundle retained on dev-s/model:
# batch with vigil-batch publish (verifying it with KEY), others with
# mosquitto_pub
publish_as() {
    if [ "$1" = batch ]; then
        "$VB" publish --broker "$VG_BROKER_URI" --bundles "$VG_TMP/$2" \
            --sign-key "$VG_TMP/$2.key" --ca-file "$VG_PKI/ca.pem" --cert-file "$VG_PKI/batch.pem" \
            --key-file "$VG_PKI/batch.key" --username batch --password "$(cat "$VG_PKI/batch.pass")" \
            2>"$VG_TMP/publish.err" || vg_fail "vigil-batch publish $2 failed: $(cat "$VG_TMP/publish.err")"
        grep -q "1 published" "$VG_TMP/publish.err" || vg_fail "publish $2: $(cat "$VG_TMP/publish.err")"
        return
    fi
    vg_tls_pub "$1" -q 1 -r -t "$T/model" -f "$VG_TMP/$2/dev-s.bundle" || vg_fail "$1 cannot publish"
}
acks() {
    vgd_decode acks | grep -c '^ack' || true
}

# the device cannot publish a model, even a correctly signed one
publish_as dev-s k1
sleep 1.5
vg_assert_eq 0 "$(acks)" "acks after the device published its own model"

publish_as batch k2
vgd_wait_decoded acks "^ack 0 [0-9]+ 0 signature$" 5 || vg_fail "K2 bundle not rejected: $(vgd_decode acks)"
publish_as batch k1
vgd_wait_decoded acks "^ack 1 $VER $VER ok$" 5 || vg_fail "K1 bundle not applied: $(vgd_decode acks)"
publish_as batch k2
vgd_wait_decoded acks "^ack 0 [0-9]+ $VER signature$" 5 || vg_fail "K2 bundle not rejected after K1: $(vgd_decode acks)"
vg_assert_eq 3 "$(acks)" "acks"
vgd_wait_for 5 grep -q "vigild_model_version{device=\"dev-s\"} $VER" "$VG_TMP/d.prom" ||
    vg_fail "metrics do not show model $VER"
vg_log "acks seen by batch: $(vgd_decode acks | paste -sd';')"
vg_log "PASS"
