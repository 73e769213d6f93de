#!/usr/bin/env bash
# bench/bench_batch.sh BUILD_DIR [DEVICES] [SAMPLES_PER_CHANNEL] [--duckdb]
#                      [--duckdb-threads N]
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
#
# --duckdb adds the side-by-side baseline: the warehouse's training samples
# are exported as CSV (vigil-bench-export, BUILD_DIR/bench), @duckdb/node-api
# is installed into build/bench-node of this checkout (npm, once), the CSV
# is loaded into a DuckDB file, and bench/duckdb_quantiles.mjs computes the
# per-channel median, MAD and (1 - far) quantiles of |z| and |dx/dt| after
# each retrain run (interleaved, 3 runs each); prints both medians and
# their ratio.  An extra, untimed retrain with --prior-n0 0 (no shrinkage
# toward the fleet prior) gives models whose loc, scale, z_thr and rate_max
# must equal DuckDB's figures exactly; the default run's models differ by
# the shrinkage.  --duckdb-threads N caps DuckDB's threads (default: all
# cores); vigil-batch retrain is single-threaded.
set -euo pipefail
DK=0
DKT=()
POS=()
while [[ $# -gt 0 ]]; do
    case "$1" in
    --duckdb) DK=1; shift ;;
    --duckdb-threads) DKT=(--threads "${2:?--duckdb-threads N}"); shift 2 ;;
    *) POS+=("$1"); shift ;;
    esac
done
B=$(cd "${POS[0]:?usage: $0 BUILD_DIR [DEVICES] [SAMPLES] [--duckdb] [--duckdb-threads N]}" && pwd)
D=${POS[1]:-100}
S=${POS[2]:-100000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
NODE_DIR=$REPO/build/bench-node
VB=$B/batch/vigil-batch
TOOL=$B/batch/vg-archive-tool
W=$(mktemp -d /tmp/vigil-bench-batch.XXXXXX)
trap 'kill "${MP:-}" 2>/dev/null; rm -rf "$W"' EXIT
NB=$(((S + 255) / 256))
now() { date +%s.%N; }

echo "load at start: $(cat /proc/loadavg)"
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

if ((DK)); then
    command -v node >/dev/null || { echo "--duckdb needs node (v20)" >&2; exit 1; }
    if [ ! -e "$NODE_DIR/node_modules/@duckdb/node-api/package.json" ]; then
        mkdir -p "$NODE_DIR"
        npm install --prefix "$NODE_DIR" --no-audit --no-fund --loglevel=error @duckdb/node-api >&2
    fi
    echo "duckdb: @duckdb/node-api $(node -p "require('$NODE_DIR/node_modules/@duckdb/node-api/package.json').version")"
    DQ=(node "$REPO/bench/duckdb_quantiles.mjs")
    t0=$(now)
    "$B/bench/vigil-bench-export" samples --warehouse "$W/wh.db" --out "$W/samples.csv"
    echo "export (CSV, $(du -m "$W/samples.csv" | cut -f1) MB): $(echo "$(now) - $t0" | bc) s"
    "${DQ[@]}" load --csv "$W/samples.csv" --db "$W/dk.duckdb" "${DKT[@]}"
    rm -f "$W/samples.csv"
    # Untimed: the unshrunk fit that DuckDB's figures must equal exactly.
    "$VB" retrain --warehouse "$W/wh.db" --out "$W/out0" --prior-n0 0 2>"$W/retrain0.err"
    models() { # prints every model (published and held) retrain wrote in $1
        local f=()
        shopt -s nullglob
        f=("$1"/*.model "$1"/held/*.model)
        shopt -u nullglob
        "$B/bench/vigil-bench-export" model "${f[@]}"
    }
    models "$W/out0" >"$W/models0.txt"
fi

echo "load before retrain: $(cat /proc/loadavg)"
times=()
dtimes=()
for r in 1 2 3; do
    rm -rf "$W/out"
    t0=$(now)
    "$VB" retrain --warehouse "$W/wh.db" --out "$W/out" 2>"$W/retrain.err"
    times+=("$(echo "$(now) - $t0" | bc)")
    echo "retrain run $r: ${times[-1]} s"
    if ((DK)); then
        chk=()
        if ((r == 3)); then
            models "$W/out" >"$W/models.txt"
            chk=(--check "$W/models0.txt,$W/models.txt")
        fi
        "${DQ[@]}" query --db "$W/dk.duckdb" "${DKT[@]}" "${chk[@]}" | tee "$W/dq.out"
        dtimes+=("$(sed -n 's/^duckdb query: \([0-9.]*\) s.*/\1/p' "$W/dq.out")")
    fi
done
med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "retrain: runs ${times[*]} s; median $med s ($(tail -1 "$W/retrain.err"))"
if ((DK)); then
    dmed=$(printf '%s\n' "${dtimes[@]}" | sort -n | sed -n 2p)
    echo "duckdb quantiles: runs ${dtimes[*]} s; median $dmed s"
    echo "ratio retrain / duckdb (medians): $(echo "scale=2; $med / $dmed" | bc)"
fi
echo "load at end: $(cat /proc/loadavg)"
