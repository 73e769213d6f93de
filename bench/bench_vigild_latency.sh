#!/usr/bin/env bash
# bench_vigild_latency.sh BUILD_DIR [ITERS] - the trip path's latency:
# sample publish -> cmd/shutdown arrival through vigild, beside the plain
# publish -> subscribe latency of the same mosquitto for the same payload,
# interleaved (vigil-bench-latency, see bench/bench_latency.c).  vigild
# runs with the default config plus one channel "temp": hi = 100,
# debounce 1-of-1, trip = true.  Prints p50/p99/max of both and the load.
# BROKER_NODELAY=1 adds `set_tcp_nodelay true` to the broker's listener:
# without it mosquitto's Nagle holds the violating batch for up to 40 ms
# behind its unacknowledged PUBACK of vigild's previous publish.
# LAT_TMP=DIR puts the broker config and vigild's data dir under DIR (e.g.
# /dev/shm, to see what the data dir's file system costs the trip path).
set -euo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR [ITERS]}" && pwd)
ITERS=${2:-1000}
VIGILD=${VIGILD:-$B/agent/vigild} # override to compare binaries
T=$(mktemp -d ${LAT_TMP:-/tmp}/vigil-lat.XXXXXX)
PORT=$((30000 + RANDOM % 20000))
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$T/m.conf"
[ "${BROKER_NODELAY:-0}" = 1 ] && echo 'set_tcp_nodelay true' >>"$T/m.conf"
mosquitto -c "$T/m.conf" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
URI=tcp://127.0.0.1:$PORT
printf '[channel.temp]\nhi = 100\ndebounce_n = 1\ndebounce_m = 1\ntrip = true\n' >"$T/v.conf"
"$VIGILD" --broker "$URI" --device lat-0 --data-dir "$T/d" --config "$T/v.conf" \
    --log-level warning 2>"$T/v.err" &
PIDS+=($!)
sleep 1
echo "broker set_tcp_nodelay: ${BROKER_NODELAY:-0}; load before: $(cut -d' ' -f1-3 /proc/loadavg); data dir on $(df -T "$T" | awk 'NR==2 {print $2}')"
"$B/bench/vigil-bench-latency" --broker "$URI" --device lat-0 --channel temp --hi 100 --iters "$ITERS"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -c TRIP "$T/v.err" | sed 's/^/trips logged: /' || true
