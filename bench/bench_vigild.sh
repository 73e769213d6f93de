#!/usr/bin/env bash
# bench_vigild.sh BUILD_DIR [RUNS] - vigild throughput over MQTT on loopback
# with archiving on, side by side with a plain subscriber on the same broker,
# plus vigild's idle RSS.  Load: vigil-sim --max-rate, 1 device, 4 channels,
# 100 rows per batch (400 samples, ~5 KB per message), 200 000 rows.
#
#   plain:  vigil-sim -> mosquitto -> mosquitto_sub (QoS 1), time until the
#           subscriber has every message
#   vigild: vigil-sim -> mosquitto -> vigild (scores, spools with
#           commit_every 1, forwards on archive at QoS 1), time until vigild
#           has accepted every batch
# Prints samples/s for each run and the median.  Loopback only.
set -euo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR [RUNS]}" && pwd)
RUNS=${2:-3}
T=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PORT=$((30000 + RANDOM % 20000))
ROWS=200000 BATCH=100
NB=$((ROWS / BATCH)) NS=$((ROWS * 4))
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$T"; }
PIDS=()
trap cleanup EXIT
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\n' \
    "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
URI=tcp://127.0.0.1:$PORT
sim() { "$B/firmware-sim/vigil-sim" --broker "$URI" --devices 1 --rate 1000 --duration $((ROWS / 1000)) \
    --batch $BATCH --max-rate --quiet >/dev/null; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

plain_run() {
    mosquitto_sub -p "$PORT" -h 127.0.0.1 -q 1 -t 'vigil/v1/sim-0/samples' -C $NB -F '%l' >/dev/null &
    local sub=$! t0
    sleep 0.3
    t0=$(now)
    sim
    wait $sub
    echo "$NS / ($(now) - $t0)" | bc -l
}

vigild_run() {
    local i=$1 t0 pid
    rm -rf "$T/d$i"
    "$B/agent/vigild" --broker "$URI" --device sim-0 --data-dir "$T/d$i" \
        --metrics-file "$T/m$i.prom" --config "$T/v.conf" 2>"$T/v$i.err" &
    pid=$!
    while ! grep -q connected "$T/v$i.err"; do sleep 0.05; done
    t0=$(now)
    sim
    while ! grep -q "vigild_batches_in_total{device=\"sim-0\"} $NB\$" "$T/m$i.prom" 2>/dev/null; do
        sleep 0.01
    done
    local t1
    t1=$(now)
    if [ "$i" = 1 ]; then
        sleep 2
        echo "idle_rss_kb $(awk '/VmRSS/ {print $2}' /proc/$pid/status)" >"$T/rss"
    fi
    kill $pid
    wait $pid || true
    echo "$NS / ($t1 - $t0)" | bc -l
}

printf '[agent]\nmetrics_ms = 10\n' >"$T/v.conf"
for i in $(seq 1 "$RUNS"); do
    p=$(plain_run)
    v=$(vigild_run "$i")
    printf 'run %d: plain %.0f samples/s, vigild %.0f samples/s\n' "$i" "$p" "$v"
    echo "$p" >>"$T/plain"
    echo "$v" >>"$T/vigild"
done
mp=$(median <"$T/plain")
mv=$(median <"$T/vigild")
printf 'median: plain %.0f samples/s, vigild %.0f samples/s (%.0f%% of plain)\n' "$mp" "$mv" \
    "$(echo "100 * $mv / $mp" | bc -l)"
cat "$T/rss"
