#!/usr/bin/env bash
# vigil-batch report rendered in headless Chromium: the page (inline SVG,
# no external resources) renders to a non-trivial PNG, logs no console
# errors and makes no network request; the JSON summary parses and
# names every device, the held-back candidate and its reason.
. "$(dirname "$0")/lib.sh" "$@"
vg_watchdog 120
# shellcheck source=/dev/null
source "$(dirname "$0")/../../scripts/lib/common.sh"
vg_need_packages chromium
VB=$VG_BUILD/batch/vigil-batch
TOOL=$VG_BUILD/batch/vg-archive-tool
WH=$VG_TMP/wh.db
# two quiet devices, one whose data turns noisy at batch 40 (the fault is
# in the training range, so the candidate alerts far more than version 1)
for d in a b; do
    "$TOOL" spool --device "dev-$d" --out "$VG_TMP/dev-$d.db" --batches 60 --samples 100 --channels 2 --seed 1$d
done
"$TOOL" spool --device dev-c --out "$VG_TMP/dev-c.db" --batches 40 --samples 100 --channels 2 --seed 5 --trip-at 30
"$VB" import --warehouse "$WH" "$VG_TMP"/dev-?.db 2>/dev/null || vg_fail import
"$VB" keygen "$VG_TMP/k" 2>/dev/null
"$VB" retrain --warehouse "$WH" --out "$VG_TMP/o1" --sign-key "$VG_TMP/k.key" 2>/dev/null || vg_fail retrain
vg_broker_start
"$VB" publish --broker "$VG_BROKER_URI" --bundles "$VG_TMP/o1" --sign-key "$VG_TMP/k.key" --warehouse "$WH" 2>/dev/null ||
    vg_fail publish
# more data for dev-c with a spike fault on temp: the new candidate is held
"$TOOL" spool --device dev-c --out "$VG_TMP/dev-c2.db" --batches 60 --samples 100 --channels 2 --seed 6 \
    --first-seq 40 --t0 1700004000 --fault 20:30:25
"$VB" import --warehouse "$WH" "$VG_TMP/dev-c2.db" 2>/dev/null || vg_fail import2
"$VB" run --warehouse "$WH" --out "$VG_TMP/o2" --broker "$VG_BROKER_URI" --sign-key "$VG_TMP/k.key" \
    --report "$VG_TMP/report.html" --max-alert-ratio 0 --min-alerts 0 2>"$VG_TMP/run.err" ||
    vg_fail "run: $(cat "$VG_TMP/run.err")"
cat "$VG_TMP/run.err" >&2

# JSON summary
python3 - "$VG_TMP/report.json" <<'PY' || vg_fail "JSON summary"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["device_count"] == 3, j
assert {d["device"] for d in j["devices"]} == {"dev-a", "dev-b", "dev-c"}
held = {h["device"]: h["reason"] for h in j["held"]}
assert "dev-c" in held and "alert rate" in held["dev-c"], j["held"]
print("json ok: held", j["held_count"], file=sys.stderr)
PY
grep -q '<svg' "$VG_TMP/report.html" || vg_fail "no chart"
grep -q 'Held-back candidates' "$VG_TMP/report.html" || vg_fail "no held table"
grep -q '<tr class="held"><td class="l">dev-c</td>' "$VG_TMP/report.html" || vg_fail "dev-c not shown as held"

# Chromium: screenshot, console, network
prof=$(mktemp -d "$VG_TMP/prof.XXXX")
vg_timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --enable-logging=stderr --v=0 --window-size=1000,1400 \
    --screenshot="$VG_TMP/shot.png" "file://$VG_TMP/report.html" >"$VG_TMP/chrome.out" 2>"$VG_TMP/chrome.err" ||
    vg_fail "chromium failed: $(tail -5 "$VG_TMP/chrome.err")"
[ -s "$VG_TMP/shot.png" ] || vg_fail "no screenshot"
size=$(stat -c %s "$VG_TMP/shot.png")
python3 - "$VG_TMP/shot.png" <<'PY' || vg_fail "screenshot is blank"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
pos, idat = 8, b""
while pos < len(data):
    n = struct.unpack(">I", data[pos:pos + 4])[0]
    if data[pos + 4:pos + 8] == b"IDAT":
        idat += data[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
colours = set(raw[i:i + 3] for i in range(0, len(raw), 997))
assert w >= 800 and h >= 1000 and len(colours) > 8, (w, h, len(colours))
print("png %dx%d, %d sampled colours" % (w, h, len(colours)), file=sys.stderr)
PY
if grep -E 'CONSOLE|Uncaught|ERR_' "$VG_TMP/chrome.err" | grep -v -E 'gpu|dbus|Fontconfig' >"$VG_TMP/console.txt"; then
    cat "$VG_TMP/console.txt" >&2
    vg_fail "console errors or failed requests"
fi
vg_log "screenshot $size bytes, no console errors; PASS"
