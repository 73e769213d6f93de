# shellcheck shell=bash
#
# vigild_test_lib.sh - helpers for tests/integration/test_vigild_*.sh, sourced
# after tests/integration/lib.sh (which gives the broker, watchdog, cleanup).
#
#   vgd_start NAME DEVICE [ARGS...]  vigild in the background, data in
#                                     $VG_TMP/NAME.data, log NAME.err; waits
#                                     for its connection; pid in $VGD_PID
#   vgd_sub NAME FILTER [ARGS...]    mosquitto_sub printing "topic hex" lines
#                                     into $VG_TMP/NAME-sub.out
#   vgd_decode NAME                  the NAME-sub.out lines decoded (vigil-test-tool)
#   vgd_wait_for SECS CMD...         polls CMD until it succeeds (1 on timeout)
#   vgd_pub TOPIC FILE [ARGS...]     publishes a file at QoS 1
#   vgd_metric NAME METRIC           a value from NAME's metrics file
VGD_BIN=$VG_BUILD/agent/vigild
VGD_TOOL=$VG_BUILD/tests/vigil-test-tool
[ -x "$VGD_BIN" ] || vg_fail "no vigild at $VGD_BIN (build first)"
[ -x "$VGD_TOOL" ] || vg_fail "no vigil-test-tool at $VGD_TOOL (build first)"

vgd_wait_for() {
    local secs=$1 i
    shift
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

vgd_start() {
    local name=$1 dev=$2
    shift 2
    vg_bg "$name" "$VGD_BIN" --broker "$VG_BROKER_URI" --device "$dev" \
        --data-dir "$VG_TMP/$name.data" --metrics-file "$VG_TMP/$name.prom" "$@"
    VGD_PID=$VG_LAST_PID
    vgd_wait_for 10 grep -qs "connected to" "$VG_TMP/$name.err" ||
        vg_fail "vigild $name did not connect: $(tail -5 "$VG_TMP/$name.err")"
}

vgd_sub() {
    local name=$1 filter=$2
    shift 2
    vg_bg "$name-sub" mosquitto_sub -p "$VG_BROKER_PORT" -h 127.0.0.1 -q 1 -t "$filter" \
        -F '%t %x' "$@"
    VGD_SUB_PID=$VG_LAST_PID
    sleep 0.3
}

vgd_decode() {
    "$VGD_TOOL" decode <"$VG_TMP/$1-sub.out"
}

vgd_pub() {
    local topic=$1 file=$2
    shift 2
    mosquitto_pub -p "$VG_BROKER_PORT" -h 127.0.0.1 -q 1 -t "$topic" -f "$file" "$@"
}

vgd_metric() {
    local v
    v=$(awk -v m="$2" '$1 ~ "^"m"[{]" || $1 == m {print $2; exit}' "$VG_TMP/$1.prom" 2>/dev/null)
    echo "${v:-0}"
}

# vgd_now_us : wall clock in epoch microseconds.
vgd_now_us() {
    echo $(($(date +%s%N) / 1000))
}

# vgd_wait_decoded NAME REGEX SECS : waits until a decoded line matches.
vgd__decoded_has() {
    vgd_decode "$1" | grep -E "$2" >/dev/null # not -q: no SIGPIPE under pipefail
}
vgd_wait_decoded() {
    vgd_wait_for "$3" vgd__decoded_has "$1" "$2"
}
