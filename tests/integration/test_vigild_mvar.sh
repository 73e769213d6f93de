#!/usr/bin/env bash
# vigild runs a model's multivariate part: a bundle signed with a trusted
# key whose only part is a T^2/Q model (vigil-test-tool mvsign: vg_mvar_fit
# of 600 rows of three correlated channels, b = 2 a and c = -a around their
# means plus noise) is applied; correlated batches raise no alert of
# channel "mvar"; batches where c decouples (it follows +a: same range, so
# only the correlation breaks) raise one, published on ROOT/DEV/alerts
# with detector "mvar" and the model's version, which clears once the rows
# are correlated again.  Raised again, it is cleared (score 0, model 2)
# when bundle 2, without a multivariate part, stops the detector, and
# decoupled rows then raise nothing.  Real mosquitto on a free loopback
# port.
. "$(dirname "$0")/lib.sh" "$@"
. "$(dirname "$0")/../tools/vigild_test_lib.sh"
vg_watchdog 90
vg_broker_start
T=vigil/v1/dev-mv
K=$VG_TMP
ROWS=20 # rows per batch
"$VGD_TOOL" keygen "$K/pk" "$K/sk"

# rows(FIRST, N, DECOUPLED): CSV rows of the latent sine (period 50 rows)
rows() {
    awk -v first="$1" -v n="$2" -v dec="$3" 'BEGIN {
        srand(7 + first); print "a,b,c"
        for (i = first; i < first + n; i++) {
            l = 3 * sin(6.283185307179586 * i / 50)
            printf "%.6f,%.6f,%.6f\n", 10 + l + (rand() - 0.5) * 0.2,
                20 + 2 * l + (rand() - 0.5) * 0.2, 30 + (dec ? l : -l) + (rand() - 0.5) * 0.2
        }
    }'
}
rows 0 600 0 >"$VG_TMP/train.csv"
"$VGD_TOOL" mvsign "$K/sk" dev-mv 1 "$VG_TMP/train.csv" "$K/mv1" >"$VG_TMP/fit.out"
vg_log "fitted: $(cat "$VG_TMP/fit.out")"
cat >"$VG_TMP/v.conf" <<CONF
[channel.a]
hi = 1000
[channel.b]
hi = 1000
[channel.c]
hi = 1000
CONF

vgd_sub all "$T/#" -v
vgd_start d dev-mv --config "$VG_TMP/v.conf" --trust-key "$K/pk"
vgd_pub "$T/model" "$K/mv1" -r
vgd_wait_decoded all "^ack 1 1 1 ok$" 5 || vg_fail "model not applied: $(vgd_decode all | grep ack)"

now=$(vgd_now_us)
seq=0
row=600
# feed N DECOUPLED: N batches of $ROWS rows (10 ms apart), then waits
# until the last one is archived (scored)
feed() {
    local i
    for ((i = 0; i < $1; i++)); do
        seq=$((seq + 1))
        rows "$row" "$ROWS" "$2" >"$VG_TMP/live.csv"
        row=$((row + ROWS))
        "$VGD_TOOL" rows dev-mv "$seq" $((now + seq * 500000)) 10000 "$VG_TMP/live.csv" 0 "$ROWS" \
            "$VG_TMP/b.cbor"
        vgd_pub "$T/samples" "$VG_TMP/b.cbor"
    done
    vgd_wait_decoded all "^archive 0 $seq " 15 || vg_fail "batch $seq not archived"
}
mvar_lines() { # decoded alert lines of channel mvar
    vgd_decode all | awk '$1 == "alert" && $3 == "mvar"'
}

feed 15 0 # 300 correlated rows
vg_assert_eq "" "$(mvar_lines)" "mvar alerts on correlated rows"
feed 5 1 # 100 decoupled rows
vgd_wait_decoded all "^alert raised mvar mvar [0-9.]+ 1$" 10 ||
    vg_fail "no mvar alert on decoupled rows: $(vgd_decode all | grep alert)"
feed 10 0 # correlated again
vgd_wait_decoded all "^alert cleared mvar mvar [0-9.]+ 1$" 10 ||
    vg_fail "mvar alert not cleared: $(mvar_lines)"
vg_assert_eq "raised cleared" "$(mvar_lines | awk '{print $2}' | paste -sd' ')" "mvar alert edges"
vgd_wait_for 5 grep -q "alert raised on mvar: mvar" "$VG_TMP/d.err" || vg_fail "not logged"
# raised again, then stopped by a model without a multivariate part
feed 5 1
vgd_wait_decoded all "^alert raised mvar mvar [0-9.]+ 1$" 10 || vg_fail "not raised again"
"$VGD_TOOL" sign "$K/sk" dev-mv 2 "$K/plain2"
vgd_pub "$T/model" "$K/plain2" -r
vgd_wait_decoded all "^ack 1 2 2 ok$" 5 || vg_fail "bundle 2 not applied"
feed 5 1
vgd_wait_decoded all "^alert cleared mvar mvar 0.000 2$" 10 ||
    vg_fail "mvar alert not cleared by the model change: $(mvar_lines)"
vg_assert_eq "raised cleared raised cleared" "$(mvar_lines | awk '{print $2}' | paste -sd' ')" \
    "mvar alert edges after the model change"
vg_log "mvar edges: $(mvar_lines | paste -sd';')"
vg_stop_pid "$VGD_PID" 5
vg_log "PASS"
