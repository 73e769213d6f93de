#!/usr/bin/env bash
# The edge -> cloud bridge of deploy/mosquitto/bridge.conf over TLS: the
# cloud broker runs the deploy config and ACL; an edge mosquitto (plain
# loopback listener, test only) carries deploy/mosquitto/bridge.conf with
# DEVICE, address, password and certificate paths filled in.  vigild talks
# to the edge broker only.  Out through the bridge: its trip (shutdown,
# retained), alerts, archive and model ack reach operator and batch on the
# cloud (batch through a $share subscription, as ingest does); in: a signed
# model from batch is applied, and the operator's reset on the cloud clears
# the trip.  The bridge logs in as the device.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 60
for u in dev-e batch operator; do vg_secure_user "$u"; done
vg_secure_broker_start
CLOUD_PORT=$VG_BROKER_PORT
T=vigil/v1/dev-e

# edge_conf PORT : the edge broker's config with the deploy bridge appended
edge_conf() {
    local port=$1 src=$VG_DEPLOY_MQ/bridge.conf
    {
        echo "listener $port 127.0.0.1"
        echo "allow_anonymous true"
        echo "persistence false"
        echo "log_dest stderr"
        echo "log_type error"
        echo "log_type warning"
        echo "log_type notice"
        echo "log_type information"
        echo "user $(id -un)"
        awk -v cloud="127.0.0.1:$CLOUD_PORT" -v pki="$VG_PKI" -v pass="$(cat "$VG_PKI/dev-e.pass")" '
            BEGIN { want["address"]; want["remote_password"]; want["bridge_cafile"]
                    want["bridge_certfile"]; want["bridge_keyfile"] }
            { gsub(/DEVICE/, "dev-e") }
            $1 == "address"         { seen[$1]++; print $1 " " cloud; next }
            $1 == "remote_password" { seen[$1]++; print $1 " " pass; next }
            $1 == "bridge_cafile"   { seen[$1]++; print $1 " " pki "/ca.pem"; next }
            $1 == "bridge_certfile" { seen[$1]++; print $1 " " pki "/dev-e.pem"; next }
            $1 == "bridge_keyfile"  { seen[$1]++; print $1 " " pki "/dev-e.key"; next }
            { print }
            END { for (k in want) if (seen[k] != 1) { print "bridge.conf: " k " seen " seen[k]+0 " times" > "/dev/stderr"; bad = 1 }
                  exit bad }' "$src"
    } >"$VG_TMP/edge.conf" || vg_fail "cannot derive the edge config from $src"
}

EDGE_PORT=
for ((try = 0; try < 20; try++)); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    vg_port_open "$p" && continue
    edge_conf "$p"
    vg_bg edge mosquitto -c "$VG_TMP/edge.conf"
    if vg_wait_port "$p" 5; then
        EDGE_PORT=$p
        break
    fi
done
[ -n "$EDGE_PORT" ] || vg_fail "edge broker did not start: $(tail -5 "$VG_TMP/edge.err")"
vgd_wait_for 10 grep -q "as bridge-dev-e .*u'dev-e'" "$VG_TMP/broker.log" ||
    vg_fail "bridge did not log in to the cloud as dev-e: $(tail -5 "$VG_TMP/edge.err")"
vg_log "edge 127.0.0.1:$EDGE_PORT bridged to cloud 127.0.0.1:$CLOUD_PORT as dev-e"

edge_pub() {
    mosquitto_pub -h 127.0.0.1 -p "$EDGE_PORT" -q 1 "$@"
}

# cloud subscribers (TLS) and vigild on the edge
vg_tls_sub_bg op-sub operator -q 1 -t 'vigil/v1/+/cmd/shutdown' -t 'vigil/v1/+/alerts' -F '%t %x'
# batch subscribes as vigil-batch ingest does: MQTT 5 shared subscription
vg_tls_sub_bg batch-sub batch -V mqttv5 -q 1 -t '$share/vigil-ingest/vigil/v1/+/archive' \
    -t '$share/vigil-ingest/vigil/v1/+/model/ack' -F '%t %x'
"$VGD_TOOL" keygen "$VG_TMP/pk" "$VG_TMP/sk"
cat >"$VG_TMP/v.conf" <<CONF
[channel.temp]
hi = 95
trip = true
CONF
vg_bg d "$VGD_BIN" --broker "tcp://127.0.0.1:$EDGE_PORT" --device dev-e --data-dir "$VG_TMP/d.data" \
    --config "$VG_TMP/v.conf" --trust-key "$VG_TMP/pk"
vgd_wait_for 10 grep -qs "connected to" "$VG_TMP/d.err" || vg_fail "vigild did not connect to the edge"
sleep 0.5

now=$(vgd_now_us)
feed() { # feed SEQ VALUES
    "$VGD_TOOL" samples dev-e "$1" $((now + $1 * 500000)) 100000 temp "$2" "$VG_TMP/s.cbor"
    edge_pub -t "$T/samples" -f "$VG_TMP/s.cbor"
}

# out: trip, alert, archive reach the cloud
feed 1 20,21,22,21,20
feed 2 99,99,99,99,99
vgd_wait_decoded op "^shutdown [0-9]+ temp " 10 || vg_fail "trip did not cross the bridge: $(vgd_decode op)"
vgd_wait_decoded op "^alert raised temp " 5 || vg_fail "alert did not cross the bridge"
vgd_wait_decoded batch "^archive 0 2 " 10 || vg_fail "archive did not cross the bridge: $(vgd_decode batch)"

# in: a signed model from batch on the cloud is applied; the ack comes back
"$VGD_TOOL" sign "$VG_TMP/sk" dev-e 3 "$VG_TMP/m.cose" temp:-10:90
vg_tls_pub batch -q 1 -r -t "$T/model" -f "$VG_TMP/m.cose" || vg_fail "batch cannot publish on the cloud"
vgd_wait_decoded batch "^ack 1 3 3 ok$" 10 || vg_fail "model did not cross the bridge: $(vgd_decode batch)"

# in: the operator's reset on the cloud clears the trip once the value is back
feed 3 20,20,20,20,20
python3 -c '
import struct, sys, time
def tstr(s):
    b = s.encode(); return bytes([0x60 + len(b)]) + b
m = b"\xa5\x00\x01\x01" + tstr("dev-e") + b"\x02" + tstr("operator") \
    + b"\x03\x1b" + struct.pack(">Q", int(time.time() * 1e6)) + b"\x04\x00"
open(sys.argv[1], "wb").write(m)' "$VG_TMP/reset.cbor"
vg_tls_pub operator -q 1 -t "$T/cmd/reset" -f "$VG_TMP/reset.cbor" || vg_fail "operator cannot reset on the cloud"
vgd_wait_for 10 grep -q "reset by 'operator'" "$VG_TMP/d.err" || vg_fail "reset did not cross the bridge"
vgd_wait_decoded op "^shutdown clear$" 10 || vg_fail "cleared shutdown did not cross the bridge"
vg_log "cloud saw: $(vgd_decode op | paste -sd';')"
vg_log "PASS"
