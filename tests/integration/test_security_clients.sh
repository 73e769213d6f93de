#!/usr/bin/env bash
# vigil-sim and vigil-batch on the deploy broker config (TLS with client
# certificates, passwords, deploy/mosquitto/acl): vigil-sim logs in over
# TLS as its device (user name = device id by default) and its samples
# reach vigild (also over TLS), whose archive reaches vigil-batch ingest,
# logged in over TLS as "batch" (password from $VIGIL_PASSWORD) through the
# $share/vigil-ingest subscription: every batch lands in the warehouse.
# Refused, with a clear message and a non-zero exit: a wrong password (sim:
# status 1 "not authorised", at once; batch: status 4), a CA that did not
# sign the broker (batch: status 3 "certificate verify failed"), and plain
# TCP to the TLS port (batch: status 3 "unreachable"; sim: status 1).
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
VB=$VG_BUILD/batch/vigil-batch
[ -x "$VB" ] || vg_fail "no vigil-batch in $VG_BUILD/batch"
command -v sqlite3 >/dev/null || vg_fail "sqlite3 is not installed"
for u in dev-c batch; do vg_secure_user "$u"; done
vg_pki_ca rogue
vg_secure_broker_start
P=$VG_PKI
WH=$VG_TMP/wh.db
BATCH_TLS=(--ca-file "$P/ca.pem" --cert-file "$P/batch.pem" --key-file "$P/batch.key"
    --username batch)
SIM_TLS=(--ca-file "$P/ca.pem" --cert-file "$P/dev-c.pem" --key-file "$P/dev-c.key")

# expect_fail WHAT STATUS REGEX CMD... : CMD exits with STATUS within 15 s
# and says REGEX on stderr
expect_fail() {
    local what=$1 want=$2 re=$3 rc=0
    shift 3
    vg_timeout 15 "$@" >"$VG_TMP/probe.out" 2>"$VG_TMP/probe.err" || rc=$?
    [ "$rc" = "$want" ] || vg_fail "$what: exit $rc, expected $want: $(cat "$VG_TMP/probe.err")"
    grep -Eq "$re" "$VG_TMP/probe.err" || vg_fail "$what: no '$re' in: $(cat "$VG_TMP/probe.err")"
    vg_log "refused as expected, $what: $(grep -E "$re" "$VG_TMP/probe.err" | head -1)"
}

# 1. vigil-batch ingest over TLS as batch, the password from the environment
VIGIL_PASSWORD=$(cat "$P/batch.pass") vg_bg ingest "$VB" ingest --broker "$VG_BROKER_URI" \
    --warehouse "$WH" --client-id ingest-tls --ready-file "$VG_TMP/ready" "${BATCH_TLS[@]}"
INGEST_PID=$VG_LAST_PID
vg_wait_file "$VG_TMP/ready" 10 || vg_fail "ingest did not subscribe: $(cat "$VG_TMP/ingest.err")"

# 2. vigild over TLS as dev-c
cat >"$VG_TMP/d.conf" <<CONF
[mqtt]
ca_file = $P/ca.pem
cert_file = $P/dev-c.pem
key_file = $P/dev-c.key
username = dev-c
password = $(cat "$P/dev-c.pass")
CONF
vgd_start d dev-c --config "$VG_TMP/d.conf"

# 3. vigil-sim over TLS as dev-c (user name defaults to the device id):
#    8 batches of 10 ticks, every one acknowledged, archived, ingested
vg_sim 30 --broker "$VG_BROKER_URI" --devices 1 --device dev-c --rate 20 --duration 4 \
    --speed 1 --start "$(date +%s)" --quiet --password "$(cat "$P/dev-c.pass")" \
    "${SIM_TLS[@]}" >"$VG_TMP/sim.out" 2>"$VG_TMP/sim.err" ||
    vg_fail "vigil-sim over TLS failed: $(cat "$VG_TMP/sim.err" "$VG_TMP/sim.out")"
grep -q "result: all 8 batches acknowledged" "$VG_TMP/sim.out" ||
    vg_fail "sim: $(tail -3 "$VG_TMP/sim.out")"
batches() {
    sqlite3 "$WH" "SELECT count(*) FROM batches b JOIN devices d ON d.id = b.device
                   WHERE d.name = 'dev-c' AND b.kind = 0" 2>/dev/null || echo 0
}
all8() { [ "$(batches)" = 8 ]; }
vgd_wait_for 20 all8 || vg_fail "warehouse has $(batches) of 8 dev-c batches: $(tail -3 "$VG_TMP/ingest.err")"
vg_log "sim -> vigild -> archive -> ingest over TLS: $(batches) batches, $(sqlite3 "$WH" \
    "SELECT sum(n) FROM samples") samples"
vg_stop_pid "$INGEST_PID" 5
grep -q "records new=[1-9]" "$VG_TMP/ingest.err" || vg_fail "ingest summary: $(cat "$VG_TMP/ingest.err")"

# 4. refusals
mkdir -p "$VG_TMP/none"
expect_fail "sim, wrong password" 1 "dev-c.*refused the connection as user dev-c: not authorised" \
    "$VG_SIM" --broker "$VG_BROKER_URI" --devices 1 --device dev-c --rate 10 --duration 1 \
    --password wrong "${SIM_TLS[@]}"
expect_fail "ingest, wrong password" 4 "refused the connection as user batch: not authorised" \
    "$VB" ingest --broker "$VG_BROKER_URI" --warehouse "$VG_TMP/wh2.db" --password wrong \
    "${BATCH_TLS[@]}"
expect_fail "publish, wrong password" 4 "not authorised" \
    "$VB" publish --broker "$VG_BROKER_URI" --bundles "$VG_TMP/none" --password wrong "${BATCH_TLS[@]}"
expect_fail "ingest, CA that did not sign the broker" 3 "TLS handshake failed: certificate verify failed" \
    "$VB" ingest --broker "$VG_BROKER_URI" --warehouse "$VG_TMP/wh2.db" --password "$(cat "$P/batch.pass")" \
    "${BATCH_TLS[@]}" --ca-file "$P/rogue.pem"
expect_fail "ingest, plain tcp to the TLS port" 3 "unreachable" \
    "$VB" ingest --broker "tcp://127.0.0.1:$VG_BROKER_PORT" --warehouse "$VG_TMP/wh2.db" \
    --username batch --password "$(cat "$P/batch.pass")"
expect_fail "sim, plain tcp to the TLS port" 1 "cannot connect" \
    "$VG_SIM" --broker "tcp://127.0.0.1:$VG_BROKER_PORT" --devices 1 --device dev-c --rate 10 \
    --duration 1 --connect-timeout 2 --password "$(cat "$P/dev-c.pass")"
vg_assert_eq 8 "$(batches)" "dev-c batches after the refused clients"
vg_log "PASS"
