#!/usr/bin/env bash
# bench_vigild.sh BUILD_DIR [RUNS] [ROWS] - vigild throughput over MQTT on
# loopback with archiving on, side by side with two plain Paho clients on
# the same broker, interleaved, RUNS (default 5) runs each, medians.
#
# Load: vigil-sim --max-rate (a Paho MQTTAsync publisher, QoS 1), 1 device,
# 4 channels, 100 rows per batch (400 samples, ~5 KB per message), ROWS
# rows (default 400 000 = 1.6 M samples, 4 000 messages) per run.
#
#   pair:   vigil-sim -> mosquitto -> vigil-bench-paho-pair (a plain Paho
#           QoS 1 subscriber that only counts); time from the publisher's
#           start to the subscriber's last message
#   vigild: vigil-sim --device-ack -> mosquitto -> vigild (decode, score,
#           spool through the group-committing spool writer, publish the
#           committed mark on ROOT/DEV/samples/ack, forward on
#           ROOT/DEV/archive at QoS 1) -> mosquitto ->
#           vigil-bench-paho-pair --archive (decodes the
#           chunks, counts distinct sample batches).  Two times: "accepted"
#           (vigild's batches_in metric reaches the count; 10 ms polling)
#           and "archived" (the archive subscriber has every batch: the
#           data was carried end to end).  The ratio uses "archived".
#           The simulator counts a batch acknowledged only when vigild's
#           committed mark covers it (--device-ack) and ends with "all N
#           batches acknowledged" (checked).
# Both simulators use the same --inflight window (INFLIGHT, default 32).
# PERF=FILE records `perf record -g` of vigild in each vigild run (FILE.RUN).
# DEVICE_ACK=0 runs the vigild side without --device-ack (for a vigild
# binary from before the device-level acknowledgement, VIGILD=...).
# Prints each run, the medians and the ratios, vigild's own CPU time (user +
# system, /proc/PID/stat, from its start to the last archived batch) per
# million samples, and the load average.
set -euo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR [RUNS] [ROWS]}" && pwd)
RUNS=${2:-5}
ROWS=${3:-400000}
T=$(mktemp -d /tmp/vigil-bench.XXXXXX)
PORT=$((30000 + RANDOM % 20000))
BATCH=100
NB=$((ROWS / BATCH)) NS=$((ROWS * 4))
PAIR=$B/bench/vigil-bench-paho-pair
VIGILD=${VIGILD:-$B/agent/vigild} # override to compare binaries
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nset_tcp_nodelay true\n' \
    "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
URI=tcp://127.0.0.1:$PORT
INFLIGHT=${INFLIGHT:-32}
SIM=${SIM:-$B/firmware-sim/vigil-sim}
# sim PREFIX [ARGS]: one load run as device PREFIX-0; fails unless every
# batch was acknowledged.  Every run has its own device (and so its own
# topics and vigild session): a persistent session of an earlier run must
# not receive, queue or replay this run's batches.
sim() {
    local prefix=$1
    shift
    "$SIM" --broker "$URI" --prefix "$prefix" --devices 1 --rate 1000 --duration $((ROWS / 1000)) \
        --batch $BATCH --max-rate --quiet --inflight "$INFLIGHT" "$@" >"$T/sim.out"
    grep -q "all $NB batches acknowledged" "$T/sim.out"
}
ACK=()
[ "${DEVICE_ACK:-1}" = 1 ] && ACK=(--device-ack)
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# counter NAME TOPIC [ARGS]: starts the counting subscriber, waits for "ready"
counter() {
    local name=$1 topic=$2
    shift 2
    : >"$T/$name.out"
    "$PAIR" --broker "$URI" --topic "$topic" --count $NB --id "bench-$name" "$@" >"$T/$name.out" &
    CPID=$!
    while ! grep -q ready "$T/$name.out"; do sleep 0.02; done
}
t_last() { awk '/^msgs/ {print $10}' "$T/$1.out"; }

pair_run() {
    local i=$1 t0
    counter pair "vigil/v1/pair$i-0/samples"
    t0=$(now)
    sim "pair$i"
    wait $CPID
    echo "$NS / ($(t_last pair) - $t0)" | bc -l
}

vigild_run() {
    local i=$1 t0 t1 pid
    rm -rf "$T/d$i"
    counter arch "vigil/v1/vg$i-0/archive" --archive
    "$VIGILD" --broker "$URI" --device "vg$i-0" --data-dir "$T/d$i" \
        --metrics-file "$T/m$i.prom" --config "$T/v.conf" 2>"$T/v$i.err" &
    pid=$!
    while ! grep -q connected "$T/v$i.err" 2>/dev/null; do sleep 0.05; done
    local perf=
    if [ -n "${PERF:-}" ]; then # PERF=FILE: perf record -g on vigild, FILE.RUN
        perf record -q -g -o "$PERF.$i" -p $pid >/dev/null 2>&1 &
        perf=$!
        sleep 0.3
    fi
    t0=$(now)
    sim "vg$i" "${ACK[@]}"
    while ! grep -q "vigild_batches_in_total{device=\"vg$i-0\"} $NB\$" "$T/m$i.prom" 2>/dev/null; do
        sleep 0.01
    done
    t1=$(now)
    wait $CPID
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$pid/stat")
    if [ -n "$perf" ]; then
        kill -INT $perf
        wait $perf || true
    fi
    kill $pid
    wait $pid || true
    echo "$(echo "$NS / ($t1 - $t0)" | bc -l) $(echo "$NS / ($(t_last arch) - $t0)" | bc -l) $(echo "$cpu * 1000000 / $NS" | bc -l)"
}

printf '[agent]\nmetrics_ms = 10\n' >"$T/v.conf"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $NB messages x 400 samples per run"
for i in $(seq 1 "$RUNS"); do
    p=$(pair_run "$i")
    read -r va vr vc < <(vigild_run "$i")
    printf 'run %d: paho pair %.0f samples/s | vigild accepted %.0f, archived %.0f samples/s | vigild %.3f CPU-s per M samples\n' \
        "$i" "$p" "$va" "$vr" "$vc"
    echo "$p" >>"$T/pair"
    echo "$va" >>"$T/va"
    echo "$vr" >>"$T/vr"
    echo "$vc" >>"$T/vc"
done
mp=$(median <"$T/pair")
ma=$(median <"$T/va")
mr=$(median <"$T/vr")
mc=$(median <"$T/vc")
printf 'median: paho pair %.0f | vigild accepted %.0f (%.0f%%) | archived %.0f samples/s (%.0f%% of the pair)\n' \
    "$mp" "$ma" "$(echo "100 * $ma / $mp" | bc -l)" "$mr" "$(echo "100 * $mr / $mp" | bc -l)"
printf 'median: vigild %.3f CPU-s per million samples (user + system, from start to the last archived batch)\n' "$mc"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
