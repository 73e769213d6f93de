#!/usr/bin/env bash
# bench/bench_batch.sh BUILD_DIR [DEVICES] [SAMPLES_PER_CHANNEL]
#
# vigil-batch throughput on this machine:
#   1. generate DEVICES spool files of 5 channels x SAMPLES_PER_CHANNEL
#      samples (256 samples per channel per batch) with vg-archive-tool;
#   2. import them into a fresh warehouse: the warehouse insert path
#      (decode + dedup claim + block insert), samples/s;
#   3. ingest through a real mosquitto: the first device's archive chunks
#      published at QoS 1, samples/s from first publish to last commit;
#   4. retrain over the whole warehouse, median of 3 runs.
# Defaults: 100 devices x 100000 samples (50 million samples).
set -euo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR [DEVICES] [SAMPLES]}" && pwd)
D=${2:-100}
S=${3:-100000}
VB=$B/batch/vigil-batch
TOOL=$B/batch/vg-archive-tool
W=$(mktemp -d /tmp/vigil-bench-batch.XXXXXX)
trap 'kill "${MP:-}" 2>/dev/null; rm -rf "$W"' EXIT
NB=$(((S + 255) / 256))
now() { date +%s.%N; }

echo "data: $D devices x 5 channels x $((NB * 256)) samples ($((D * 5 * NB * 256)) samples)"
t0=$(now)
for ((d = 0; d < D; d++)); do
    "$TOOL" spool --device "bench-$d" --out "$W/s$d.db" --batches "$NB" --samples 256 \
        --channels 5 --seed "$d" --period-ms 1000 &
    (( (d + 1) % 2 == 0 )) && wait
done
wait
echo "generate: $(echo "$(now) - $t0" | bc) s"

t0=$(now)
"$VB" import --warehouse "$W/wh.db" "$W"/s*.db 2>"$W/import.err"
t=$(echo "$(now) - $t0" | bc)
n=$(sqlite3 "$W/wh.db" "SELECT sum(n) FROM samples")
echo "import (warehouse insert path): $n samples in $t s = $(echo "$n / $t" | bc) samples/s"

port=$((20000 + RANDOM % 20000))
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\n' "$port" >"$W/m.conf"
mosquitto -c "$W/m.conf" >/dev/null 2>&1 &
MP=$!
sleep 0.5
"$TOOL" chunks --device bench-0 --out "$W/ch" --batches "$NB" --samples 256 --channels 5 --seed 0 --per-chunk 64
"$VB" ingest --broker "tcp://127.0.0.1:$port" --warehouse "$W/wi.db" --ready-file "$W/rdy" --idle-exit 2 \
    --client-id bench-ingest 2>"$W/ingest.err" &
IP=$!
while [ ! -e "$W/rdy" ]; do sleep 0.05; done
t0=$(now)
for f in "$W"/ch/*.cbor; do mosquitto_pub -p "$port" -q 1 -t vigil/v1/bench-0/archive -f "$f"; done
want=$((NB * 256 * 5))
while [ "$(sqlite3 "$W/wi.db" "SELECT coalesce(sum(n),0) FROM samples" 2>/dev/null || echo 0)" -lt "$want" ]; do sleep 0.02; done
t=$(echo "$(now) - $t0" | bc)
echo "ingest via mosquitto (1 worker): $want samples in $t s = $(echo "$want / $t" | bc) samples/s"
wait "$IP"

times=()
for r in 1 2 3; do
    rm -rf "$W/out"
    t0=$(now)
    "$VB" retrain --warehouse "$W/wh.db" --out "$W/out" 2>"$W/retrain.err"
    times+=("$(echo "$(now) - $t0" | bc)")
done
med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "retrain: runs ${times[*]} s; median $med s ($(tail -1 "$W/retrain.err"))"
