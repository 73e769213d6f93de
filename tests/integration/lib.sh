# shellcheck shell=bash
#
# lib.sh - shared helpers for the integration tests (source it first):
#
#     . "$(dirname "$0")/lib.sh" "$@"      # $1 = the CMake build directory
#
# It gives every test
#   - strict mode, a private scratch directory $VG_TMP (removed at exit,
#     kept when VG_KEEP_TMP=1 or the test failed),
#   - a cleanup trap that stops everything the test started in the
#     background (vg_bg, vg_broker_start) and the watchdog,
#   - vg_watchdog SECS: the test kills itself and its children after SECS,
#   - vg_timeout SECS CMD...: run a foreground command with a time limit,
#   - a real mosquitto on a free 127.0.0.1 port with a generated minimal
#     config (vg_broker_start [--persist]; vg_broker_stop; vg_broker_restart
#     on the same port), exported as $VG_BROKER_URI / $VG_BROKER_PORT,
#   - small assertions: vg_fail, vg_assert_eq, vg_assert,
#   - in the cleanup, a scan of $VG_TMP/*.{err,out,log} for sanitizer
#     reports (ASan, LSan, UBSan) of the processes the test ran in the
#     background: a daemon stopped at the end prints its leak report on its
#     way out, where no check would read it; any report fails the test.
#
# Only 127.0.0.1 is ever used.  Nothing here needs root or network access.

set -euo pipefail

VG_BUILD=${1:?usage: $0 BUILD_DIR}
VG_BUILD=$(cd "$VG_BUILD" && pwd)
VG_SIM=$VG_BUILD/firmware-sim/vigil-sim
VG_TEST=$(basename "$0" .sh)
VG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/vigil-$VG_TEST.XXXXXX")
VG_PIDS=()
VG_WATCHDOG_PID=
VG_BROKER_PID=
VG_BROKER_PORT=
VG_BROKER_URI=
VG_BROKER_CONF=
VG_FAILED=0

# Prints a time-stamped line on stderr.
vg_log() {
    echo "[$VG_TEST $(date +%H:%M:%S)] $*" >&2
}

# Fails the test with a message.
vg_fail() {
    VG_FAILED=1
    vg_log "FAIL: $*"
    exit 1
}

# vg_assert_eq EXPECTED ACTUAL WHAT
vg_assert_eq() {
    [ "$1" = "$2" ] || vg_fail "$3: expected '$1', got '$2'"
}

# vg_assert WHAT CMD... : fails unless CMD succeeds.
vg_assert() {
    local what=$1
    shift
    "$@" || vg_fail "$what"
}

# vg_signal_wait PID SIGNAL GRACE : sends SIGNAL to our child PID and reaps
# it, sending KILL if it is still there after GRACE seconds.
vg_signal_wait() {
    local pid=$1 sig=$2 grace=$3 killer
    kill "-$sig" "$pid" 2>/dev/null || return 0
    ({ sleep "$grace"; } 2>/dev/null && kill -KILL "$pid" 2>/dev/null) &
    killer=$!
    wait "$pid" 2>/dev/null || true
    pkill -TERM -P "$killer" 2>/dev/null || true
    wait "$killer" 2>/dev/null || true
    return 0
}

# Stops our child pid $1: TERM, then KILL after $2 seconds (default 5).
vg_stop_pid() {
    vg_signal_wait "$1" TERM "${2:-5}"
}

# The EXIT trap: stop everything we started, remove the scratch dir.
vg_cleanup() {
    local rc=$? pid
    set +e
    if [ -n "$VG_WATCHDOG_PID" ]; then
        pkill -TERM -P "$VG_WATCHDOG_PID" 2>/dev/null # its sleep: it then exits
        wait "$VG_WATCHDOG_PID" 2>/dev/null || true
    fi
    for pid in "${VG_PIDS[@]}"; do
        vg_stop_pid "$pid" 3
    done
    [ -n "$VG_BROKER_PID" ] && vg_stop_pid "$VG_BROKER_PID" 3
    local sanitized=0
    vg__sanitizer_scan || sanitized=1
    [ "$sanitized" = 0 ] || rc=1
    if [ "$rc" -ne 0 ] || [ "$VG_FAILED" -ne 0 ] || [ "${VG_KEEP_TMP:-0}" = 1 ]; then
        vg_log "kept $VG_TMP for inspection (exit $rc)"
    else
        rm -rf "$VG_TMP"
    fi
    [ "$sanitized" = 0 ] || exit 1 # an EXIT trap keeps the status unless it exits
    return "$rc"
}
trap vg_cleanup EXIT

# Sanitizer reports in the scratch files of background processes; prints
# the first lines of each and returns 1 when there is any.
vg__sanitizer_scan() {
    local pat='ERROR: (AddressSanitizer|LeakSanitizer)|\.[ch]:[0-9]+:[0-9]+: runtime error: ' f hits
    hits=$(grep -rlE "$pat" "$VG_TMP" --include='*.err' --include='*.out' --include='*.log' 2>/dev/null) ||
        return 0
    for f in $hits; do
        vg_log "FAIL: sanitizer report in ${f#"$VG_TMP"/}:"
        grep -E -A12 "$pat" "$f" | head -n 30 >&2
    done
    VG_FAILED=1
    return 1
}
trap 'vg_log "interrupted or timed out"; VG_FAILED=1; exit 124' INT TERM

# vg_watchdog SECS: the whole test stops by itself after SECS seconds.
vg_watchdog() {
    local secs=$1 me=$$
    (
        # only a sleep that ran to its end fires (cleanup kills the sleep)
        { sleep "$secs"; } 2>/dev/null || exit 0
        echo "[$VG_TEST] watchdog: $secs s elapsed, stopping" >&2
        pkill -TERM -P "$me" 2>/dev/null
        kill -TERM "$me" 2>/dev/null
    ) &
    VG_WATCHDOG_PID=$!
}

# vg_timeout SECS CMD... : runs CMD in the foreground, killed after SECS.
vg_timeout() {
    local secs=$1
    shift
    timeout -k 5 "$secs" "$@"
}

# vg_bg NAME CMD... : starts CMD in the background with stdout/stderr in
# $VG_TMP/NAME.out / NAME.err; its pid is in $VG_LAST_PID and is stopped
# by the cleanup trap.
vg_bg() {
    local name=$1
    shift
    "$@" >"$VG_TMP/$name.out" 2>"$VG_TMP/$name.err" &
    VG_LAST_PID=$!
    VG_PIDS+=("$VG_LAST_PID")
}

# vg_wait_exit PID SECS : waits for a background job; returns its status
# (124 when it was still running after SECS and had to be stopped).
vg_wait_exit() {
    local pid=$1 secs=$2 i
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        vg_stop_pid "$pid" 3
        return 124
    fi
    local rc=0
    wait "$pid" || rc=$?
    return "$rc"
}

# vg_port_open PORT : true when something accepts TCP connections there.
vg_port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# vg_wait_port PORT SECS : waits until the port accepts connections.
vg_wait_port() {
    local port=$1 secs=$2 i
    for ((i = 0; i < secs * 20; i++)); do
        vg_port_open "$port" && return 0
        sleep 0.05
    done
    return 1
}

# vg_wait_file FILE SECS : waits until FILE exists.
vg_wait_file() {
    local file=$1 secs=$2 i
    for ((i = 0; i < secs * 20; i++)); do
        [ -e "$file" ] && return 0
        sleep 0.05
    done
    return 1
}

# Writes the broker config for port $1 (persistence when $2 = 1).
vg__broker_conf() {
    local port=$1 persist=$2
    mkdir -p "$VG_TMP/broker"
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        if [ "$persist" = 1 ]; then
            echo "persistence true"
            echo "persistence_location $VG_TMP/broker/"
            echo "autosave_interval 1"
        else
            echo "persistence false"
        fi
        echo "max_queued_messages 1000000"
        echo "max_inflight_messages 0"
        echo "set_tcp_nodelay true"
        echo "log_dest stderr"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type information"
        # as root mosquitto would switch to user "mosquitto", who cannot
        # write into our scratch dir
        echo "user $(id -un)"
    } >"$VG_BROKER_CONF"
}

# Starts mosquitto with $VG_BROKER_CONF; true when it accepts connections.
vg__broker_launch() {
    mosquitto -c "$VG_BROKER_CONF" >>"$VG_TMP/broker.log" 2>&1 &
    VG_BROKER_PID=$!
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$VG_BROKER_PID" 2>/dev/null || break
        vg_port_open "$VG_BROKER_PORT" && return 0
        sleep 0.05
    done
    vg_stop_pid "$VG_BROKER_PID" 2
    VG_BROKER_PID=
    return 1
}

# vg_broker_start [--persist] : mosquitto on a free loopback port.
vg_broker_start() {
    local persist=0 try port
    [ "${1:-}" = --persist ] && persist=1
    command -v mosquitto >/dev/null || vg_fail "mosquitto is not installed"
    VG_BROKER_CONF=$VG_TMP/mosquitto.conf
    for ((try = 0; try < 20; try++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        vg_port_open "$port" && continue
        VG_BROKER_PORT=$port
        vg__broker_conf "$port" "$persist"
        if vg__broker_launch; then
            VG_BROKER_URI=tcp://127.0.0.1:$port
            export VG_BROKER_URI VG_BROKER_PORT
            vg_log "mosquitto pid $VG_BROKER_PID on 127.0.0.1:$port (persistence $persist)"
            return 0
        fi
    done
    vg_fail "could not start mosquitto (see $VG_TMP/broker.log)"
}

# vg_broker_stop [SIGNAL] : stops the broker (TERM by default: it saves its
# persistence database on the way out) and waits for it.
vg_broker_stop() {
    local sig=${1:-TERM}
    [ -n "$VG_BROKER_PID" ] || return 0
    vg_signal_wait "$VG_BROKER_PID" "$sig" 10
    VG_BROKER_PID=
    vg_log "mosquitto stopped ($sig)"
}

# vg_broker_restart : starts the broker again on the same port and config.
vg_broker_restart() {
    local i
    for ((i = 0; i < 50; i++)); do
        vg__broker_launch && {
            vg_log "mosquitto restarted, pid $VG_BROKER_PID"
            return 0
        }
        sleep 0.2
    done
    vg_fail "could not restart mosquitto on port $VG_BROKER_PORT"
}

# vg_sim SECS ARGS... : runs vigil-sim in the foreground with a time limit.
vg_sim() {
    local secs=$1
    shift
    vg_timeout "$secs" "$VG_SIM" "$@"
}

# vg_listen NAME ARGS... : starts a vigil-sim --listen subscriber in the
# background writing CSV to $VG_TMP/NAME.csv; returns once subscribed.
vg_listen() {
    local name=$1
    shift
    vg_bg "$name" "$VG_SIM" --broker "$VG_BROKER_URI" --listen --out "$VG_TMP/$name.csv" \
        --ready-file "$VG_TMP/$name.ready" "$@"
    VG_LISTEN_PID=$VG_LAST_PID
    vg_wait_file "$VG_TMP/$name.ready" 10 || vg_fail "listener $name did not subscribe"
}

[ -x "$VG_SIM" ] || vg_fail "no vigil-sim at $VG_SIM (build first)"

# ------------------------------------------------ secure broker (TLS, ACL) --
# For tests/integration/test_security_*.sh.  A private PKI made with openssl
# in $VG_TMP/pki, users with passwords and client certificates, and a
# mosquitto started from deploy/mosquitto/mosquitto.conf itself with only
# its "[test rewrites]" lines (port, paths, log destination) changed; the
# ACL is deploy/mosquitto/acl, unchanged.
#
#   vg_pki_ca NAME                 CA $VG_PKI/NAME.pem / NAME.key
#   vg_pki_cert CA NAME CN [SAN]   leaf certificate NAME.pem / NAME.key
#                                  signed by CA (SAN: server certificate)
#   vg_secure_user NAME            user NAME: password $VG_PKI/NAME.pass and
#                                  a client certificate (CN=NAME) from "ca"
#   vg_secure_broker_start         mosquitto with the deploy config on a free
#                                  port; $VG_BROKER_URI=ssl://127.0.0.1:PORT
#   vg_tls_pub USER ARGS...        mosquitto_pub as USER (TLS, cert, password)
#   vg_tls_sub USER ARGS...        mosquitto_sub likewise (foreground)
#   vg_tls_sub_bg NAME USER ARGS...  mosquitto_sub in the background (vg_bg)
VG_PKI=$VG_TMP/pki
VG_DEPLOY_MQ=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../deploy/mosquitto" 2>/dev/null && pwd || true)

vg_pki_ca() {
    mkdir -p "$VG_PKI"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$VG_PKI/$1.key" -out "$VG_PKI/$1.pem" -days 2 -subj "/CN=vigil test $1" \
        2>>"$VG_PKI/openssl.log" || vg_fail "openssl: cannot make CA $1"
}

vg_pki_cert() {
    local ca=$1 name=$2 cn=$3 san=${4:-}
    printf 'basicConstraints=CA:FALSE\n' >"$VG_PKI/$name.ext"
    if [ -n "$san" ]; then
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >>"$VG_PKI/$name.ext"
    else
        printf 'extendedKeyUsage=clientAuth\n' >>"$VG_PKI/$name.ext"
    fi
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$VG_PKI/$name.key" -out "$VG_PKI/$name.csr" -subj "/CN=$cn" \
        2>>"$VG_PKI/openssl.log" &&
        openssl x509 -req -in "$VG_PKI/$name.csr" -CA "$VG_PKI/$ca.pem" -CAkey "$VG_PKI/$ca.key" \
            -CAcreateserial -out "$VG_PKI/$name.pem" -days 2 -extfile "$VG_PKI/$name.ext" \
            2>>"$VG_PKI/openssl.log" || vg_fail "openssl: cannot make certificate $name"
}

vg_secure_user() {
    local name=$1
    [ -f "$VG_PKI/ca.pem" ] || vg_pki_ca ca
    head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$VG_PKI/$name.pass"
    if [ -f "$VG_PKI/passwd" ]; then
        mosquitto_passwd -b "$VG_PKI/passwd" "$name" "$(cat "$VG_PKI/$name.pass")"
    else
        mosquitto_passwd -c -b "$VG_PKI/passwd" "$name" "$(cat "$VG_PKI/$name.pass")"
    fi || vg_fail "mosquitto_passwd failed for $name"
    vg_pki_cert ca "$name" "$name"
}

# Writes the test config for port $1 from the deploy config: every
# "[test rewrites]" key must be found exactly once, so a changed deploy file
# fails the test loudly instead of testing something else.
vg__secure_conf() {
    local port=$1 src=$VG_DEPLOY_MQ/mosquitto.conf
    [ -f "$src" ] && [ -f "$VG_DEPLOY_MQ/acl" ] || vg_fail "no deploy/mosquitto/{mosquitto.conf,acl}"
    mkdir -p "$VG_TMP/broker"
    chmod 600 "$VG_PKI/passwd"
    awk -v port="$port" -v pki="$VG_PKI" -v acl="$VG_DEPLOY_MQ/acl" -v state="$VG_TMP/broker/" '
        BEGIN { want["listener"]; want["persistence_location"]; want["log_dest"]
                want["cafile"]; want["certfile"]; want["keyfile"]
                want["password_file"]; want["acl_file"] }
        $1 == "listener"             { seen[$1]++; print "listener " port " 127.0.0.1"; next }
        $1 == "persistence_location" { seen[$1]++; print $1 " " state; next }
        $1 == "log_dest"             { seen[$1]++; print "log_dest stderr"; next }
        $1 == "cafile"               { seen[$1]++; print $1 " " pki "/ca.pem"; next }
        $1 == "certfile"             { seen[$1]++; print $1 " " pki "/server.pem"; next }
        $1 == "keyfile"              { seen[$1]++; print $1 " " pki "/server.key"; next }
        $1 == "password_file"        { seen[$1]++; print $1 " " pki "/passwd"; next }
        $1 == "acl_file"             { seen[$1]++; print $1 " " acl; next }
        { print }
        END { for (k in want) if (seen[k] != 1) { print "deploy config: " k " seen " seen[k]+0 " times" > "/dev/stderr"; bad = 1 }
              exit bad }
    ' "$src" >"$VG_BROKER_CONF" || vg_fail "cannot derive the test config from $src"
    {
        echo "log_type information"
        echo "user $(id -un)"
    } >>"$VG_BROKER_CONF"
}

vg_secure_broker_start() {
    local try port
    command -v mosquitto >/dev/null || vg_fail "mosquitto is not installed"
    [ -f "$VG_PKI/passwd" ] || vg_fail "vg_secure_user first"
    [ -f "$VG_PKI/server.pem" ] || vg_pki_cert ca server localhost "IP:127.0.0.1,DNS:localhost"
    VG_BROKER_CONF=$VG_TMP/mosquitto.conf
    for ((try = 0; try < 20; try++)); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        vg_port_open "$port" && continue
        VG_BROKER_PORT=$port
        vg__secure_conf "$port"
        if vg__broker_launch; then
            VG_BROKER_URI=ssl://127.0.0.1:$port
            export VG_BROKER_URI VG_BROKER_PORT
            vg_log "secure mosquitto pid $VG_BROKER_PID on 127.0.0.1:$port (deploy config)"
            return 0
        fi
    done
    vg_fail "could not start the secure mosquitto (see $VG_TMP/broker.log)"
}

# vg_tls_args USER : the TLS and login arguments of USER in VG_TLS_ARGS
vg_tls_args() {
    VG_TLS_ARGS=(-h 127.0.0.1 -p "$VG_BROKER_PORT" --cafile "$VG_PKI/ca.pem"
        --cert "$VG_PKI/$1.pem" --key "$VG_PKI/$1.key" -u "$1" -P "$(cat "$VG_PKI/$1.pass")")
}
vg_tls_pub() {
    vg_tls_args "$1"
    shift
    mosquitto_pub "${VG_TLS_ARGS[@]}" "$@"
}
vg_tls_sub() {
    vg_tls_args "$1"
    shift
    mosquitto_sub "${VG_TLS_ARGS[@]}" "$@"
}
# vg_tls_sub_bg NAME USER ARGS... : mosquitto_sub in the background (vg_bg:
# the process itself, so the cleanup trap stops it), output in NAME.out
vg_tls_sub_bg() {
    local name=$1
    vg_tls_args "$2"
    shift 2
    vg_bg "$name" mosquitto_sub "${VG_TLS_ARGS[@]}" "$@"
}
