#!/usr/bin/env bash
# bench_vigild_mem.sh BUILD_DIR - vigild's memory: idle VmRSS and PSS
# (smaps_rollup) after 2 s connected to a local broker with the default
# config, the file-backed share by library, the CPU time and context
# switches of the next IDLE_S (default 10) idle seconds, then VmRSS/PSS with 100
# channels x 4096-sample windows after every window is full (one
# 4096-sample batch per channel, made by vigil-test-tool).
# VIGILD=path compares another binary.
set -euo pipefail
B=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
VIGILD=${VIGILD:-$B/agent/vigild}
T=$(mktemp -d /tmp/vigil-mem.XXXXXX)
PORT=$((30000 + RANDOM % 20000))
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$T/m.conf"
mosquitto -c "$T/m.conf" >/dev/null 2>&1 &
PIDS+=($!)
sleep 0.5
mem() { # PID LABEL
    local rss pss anon
    rss=$(awk '/^VmRSS/ {print $2}' /proc/$1/status)
    anon=$(awk '/^RssAnon/ {print $2}' /proc/$1/status)
    pss=$(awk '/^Pss:/ {print $2}' /proc/$1/smaps_rollup)
    echo "$2: VmRSS $rss kB, RssAnon $anon kB, PSS $pss kB"
}
libs() { # PID: resident kB per mapped file
    awk '/^[0-9a-f]+-/ {f=$6} /^Rss:/ {if (f != "") r[f] += $2} END {for (k in r) if (r[k] > 0) printf "  %6d kB %s\n", r[k], k}' \
        /proc/$1/smaps | sort -rn | head -12
}
start() { # NAME DEVICE [ARGS]
    "$VIGILD" --broker tcp://127.0.0.1:$PORT --device "$2" --data-dir "$T/$1" "${@:3}" 2>"$T/$1.err" &
    PID=$!
    PIDS+=($PID)
    while ! grep -q connected "$T/$1.err"; do sleep 0.05; done
}
# idle PID SECONDS: CPU time and context switches (all threads) while idle
idle() {
    local a b c1 c2
    a=$(awk '{print $14 + $15}' /proc/$1/stat)
    c1=$(cat /proc/$1/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}')
    sleep "$2"
    b=$(awk '{print $14 + $15}' /proc/$1/stat)
    c2=$(cat /proc/$1/task/*/status | awk '/ctxt_switches/ {s += $2} END {print s}')
    echo "idle for $2 s: CPU $(((b - a) * 1000 / $(getconf CLK_TCK))) ms, $((c2 - c1)) context switches"
}
start idle d1
sleep 2
mem $PID "idle, default config"
libs $PID
idle $PID "${IDLE_S:-10}"
{
    printf '[detect]\nwindow = 4096\nmax_channels = 100\n'
    for c in $(seq 0 99); do printf '[channel.c%d]\n' "$c"; done
} >"$T/big.conf"
start big d2 --config "$T/big.conf"
vals=$(awk 'BEGIN {for (i = 0; i < 4096; i++) printf "%s%.3f", (i ? "," : ""), sin(i / 50.0)}')
t0=$(($(date +%s) * 1000000 - 5000000000))
for c in $(seq 0 99); do
    "$B/tests/vigil-test-tool" samples d2 $((c + 1)) $t0 1000 "c$c" "$vals" "$T/b$c.cbor"
    mosquitto_pub -p "$PORT" -h 127.0.0.1 -q 1 -t vigil/v1/d2/samples -f "$T/b$c.cbor"
done
sleep 2
grep -q . "$T/big.err" && tail -2 "$T/big.err" >&2 || true
mem $PID "100 channels x 4096-sample windows, full"
