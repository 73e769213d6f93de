#!/usr/bin/env bash
# vigil-batch retrain + publish against a real mosquitto: bundles are
# published retained on vigil/v1/<dev>/model, verify with the core's
# verifier (vigil-replay --trust-key), a tampered bundle is refused, the
# registry records them, shards give the same bundles, and `run` is safe
# to re-run (second run: everything unchanged, nothing re-published).
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 90
VB=$VG_BUILD/batch/vigil-batch
TOOL=$VG_BUILD/batch/vg-archive-tool
REPLAY=$VG_BUILD/agent/vigil-replay
WH=$VG_TMP/wh.db
vg_broker_start
for d in a b c d; do
    "$TOOL" spool --device "dev-$d" --out "$VG_TMP/dev-$d.db" --batches 60 --samples 100 --channels 2 --seed "$RANDOM"
done
"$VB" import --warehouse "$WH" "$VG_TMP"/dev-?.db 2>/dev/null || vg_fail "import"
"$VB" keygen "$VG_TMP/k" 2>/dev/null || vg_fail "keygen"

# shards 0..2 of 3 give the bundles of one run
for i in 0 1 2; do
    "$VB" retrain --warehouse "$WH" --out "$VG_TMP/sh" --sign-key "$VG_TMP/k.key" --shard "$i/3" 2>/dev/null ||
        vg_fail "shard $i"
done
"$VB" retrain --warehouse "$WH" --out "$VG_TMP/one" --sign-key "$VG_TMP/k.key" 2>/dev/null || vg_fail "retrain"
for f in "$VG_TMP"/one/*.bundle "$VG_TMP"/one/*.meta; do
    cmp "$f" "$VG_TMP/sh/$(basename "$f")" || vg_fail "shard output differs: $(basename "$f")"
done

"$VB" run --warehouse "$WH" --out "$VG_TMP/out" --broker "$VG_BROKER_URI" --sign-key "$VG_TMP/k.key" \
    --report "$VG_TMP/r.html" 2>"$VG_TMP/run1.err" || vg_fail "run: $(cat "$VG_TMP/run1.err")"
vg_assert_eq 4 "$(sqlite3 "$WH" "SELECT count(*) FROM models")" "registry rows"
timeout 5 mosquitto_sub -h 127.0.0.1 -p "$VG_BROKER_PORT" -t vigil/v1/dev-b/model -C 1 -N \
    >"$VG_TMP/got.bundle" || vg_fail "no retained bundle"
cmp "$VG_TMP/got.bundle" "$VG_TMP/out/dev-b.bundle" || vg_fail "retained bundle differs"

# the core's verifier, through vigil-replay
printf 'timestamp,temp,vib\n1700000000,50,60\n1700000001,50.1,60.2\n' >"$VG_TMP/x.csv"
"$REPLAY" --model "$VG_TMP/got.bundle" --trust-key "$VG_TMP/k.pub" "$VG_TMP/x.csv" >/dev/null \
    2>"$VG_TMP/replay.err" || vg_fail "verified bundle refused: $(cat "$VG_TMP/replay.err")"
python3 -c "import sys; b=bytearray(open(sys.argv[1],'rb').read()); b[-5]^=1; open(sys.argv[2],'wb').write(b)" \
    "$VG_TMP/got.bundle" "$VG_TMP/bad.bundle"
if "$REPLAY" --model "$VG_TMP/bad.bundle" --trust-key "$VG_TMP/k.pub" "$VG_TMP/x.csv" >/dev/null 2>"$VG_TMP/bad.err"; then
    vg_fail "tampered bundle accepted"
fi
vg_log "tampered bundle refused: $(head -1 "$VG_TMP/bad.err")"
# publish refuses to send a tampered bundle
mkdir -p "$VG_TMP/t" && cp "$VG_TMP/out/dev-a.meta" "$VG_TMP/t/" && cp "$VG_TMP/bad.bundle" "$VG_TMP/t/dev-a.bundle"
if "$VB" publish --broker "$VG_BROKER_URI" --bundles "$VG_TMP/t" --verify-key "$VG_TMP/k.pub" 2>"$VG_TMP/pubbad.err"; then
    vg_fail "publish sent a tampered bundle"
fi
grep -q "signature" "$VG_TMP/pubbad.err" || vg_fail "unclear message: $(cat "$VG_TMP/pubbad.err")"

# re-run: unchanged, nothing re-published, exit 0
"$VB" run --warehouse "$WH" --out "$VG_TMP/out" --broker "$VG_BROKER_URI" --sign-key "$VG_TMP/k.key" \
    --report "$VG_TMP/r.html" 2>"$VG_TMP/run2.err" || vg_fail "re-run: $(cat "$VG_TMP/run2.err")"
grep -q "4 unchanged" "$VG_TMP/run2.err" || vg_fail "re-run not unchanged: $(cat "$VG_TMP/run2.err")"
vg_assert_eq 4 "$(sqlite3 "$WH" "SELECT count(*) FROM models")" "registry rows after re-run"
# a failing stage: unreachable broker -> non-zero with the stage named
"$VB" keygen "$VG_TMP/k2" 2>/dev/null
if "$VB" run --warehouse "$WH" --out "$VG_TMP/out2" --broker tcp://127.0.0.1:1 --sign-key "$VG_TMP/k2.key" \
    --report "$VG_TMP/r2.html" 2>"$VG_TMP/run3.err"; then
    vg_fail "run succeeded without a broker"
fi
grep -q "stage publish failed" "$VG_TMP/run3.err" || vg_fail "unclear: $(cat "$VG_TMP/run3.err")"
vg_log "PASS"
