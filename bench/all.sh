#!/usr/bin/env bash
# bench/all.sh - every benchmark of the project in one command, and
# docs/BENCHMARKS.md rewritten with the figures.
#
#   bench/all.sh [--quick] [--no-duckdb] [--doc FILE] [--out DIR] [--build DIR]
#
# Runs, one after the other (never in parallel: they time each other's CPU):
#   1. bench/run.sh                  core detector set vs a bare windowed
#                                    z-score; vigil-replay rows/s and RSS
#   2. bench/bench_vigild.sh         vigild over MQTT (archiving on) beside a
#                                    plain Paho publisher/subscriber pair
#   3. bench/bench_vigild_latency.sh trip path latency beside the broker's own
#                                    publish -> subscribe latency (broker with
#                                    set_tcp_nodelay, as deployed)
#   4. bench/bench_vigild_mem.sh     vigild's idle memory and with 100 full
#                                    4096-sample windows
#   5. bench/bench_batch.sh --duckdb import, ingest, retrain; DuckDB beside it
#                                    (--no-duckdb, or no node: without it)
#   6. bench/nab/run.sh              detection quality by the NAB rules, with
#                                    its windowed-Gaussian and fixed baselines
#   7. bench/mvar/run.sh             multivariate detection quality, with its
#                                    z-score and Hotelling baselines
# (a missing script is reported and skipped).  Everything is built in and
# run from --build DIR (default build/; bench/run.sh gets it as
# VIGIL_BUILD).  Raw outputs go to DIR/<name>.txt (default
# <build>/bench-all).
#
# The doc: the first part of docs/BENCHMARKS.md, between the two
# "bench/all.sh" markers, is generated - the machine (CPU, cores, load, date,
# commit), one table with each headline figure beside its baseline, and every
# raw output.  Everything after the end marker (or, the first time, the whole
# hand-written file) is kept byte for byte: the explanations of each section,
# written by hand, stay as they are.  --doc FILE writes elsewhere; --quick
# (small sizes, about 3 minutes) writes DIR/BENCHMARKS.quick.md unless --doc
# is given, so a quick run never replaces the full figures.  A full run took
# 6m47s on the 2-core development machine (2026-11-22, load 0.6-2.9).
set -euo pipefail
# shellcheck source=../scripts/lib/common.sh
source "$(dirname "$0")/../scripts/lib/common.sh"

QUICK=0
DUCKDB=1
DOC=
OUT=
OUT_SET=0
B=$VG_ROOT/build
BEGIN_MARK='<!-- bench/all.sh: generated section begins (rewritten by every run) -->'
END_MARK='<!-- bench/all.sh: generated section ends; the hand-written sections below are kept -->'

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; }

parse_args() {
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --quick) QUICK=1; shift ;;
        --no-duckdb) DUCKDB=0; shift ;;
        --doc) DOC="$2"; shift 2 ;;
        --out) OUT="$2"; OUT_SET=1; shift 2 ;;
        --build) B="$2"; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; exit 2 ;;
        esac
    done
    mkdir -p "$B"
    B=$(cd "$B" && pwd)
    ((OUT_SET)) || OUT=$B/bench-all
    if [[ -z "$DOC" ]]; then
        if ((QUICK)); then DOC=$OUT/BENCHMARKS.quick.md; else DOC=$VG_ROOT/docs/BENCHMARKS.md; fi
    fi
    command -v node >/dev/null || DUCKDB=0
}

# run NAME CMD... : runs one benchmark, output in $OUT/NAME.txt (and on the
# terminal); a failure is recorded, the other benchmarks still run.
run() {
    local name=$1
    shift
    vg_section "$name: $*"
    local t0 rc=0
    t0=$(date +%s)
    "$@" 2>&1 | tee "$OUT/$name.txt" || rc=$?
    echo "$name: exit $rc, $(($(date +%s) - t0)) s" >>"$OUT/status.txt"
    ((rc == 0)) || vg_warn "$name failed (exit $rc): its figures are marked as missing"
}

machine() {
    CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
    CORES=$(nproc)
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
    DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
    COMMIT=$(git -C "$VG_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    DIRTY=$(git -C "$VG_ROOT" status --porcelain --untracked-files=no 2>/dev/null | grep -q . &&
        echo " (with uncommitted changes)" || true)
    OS=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME" || uname -sr)
    CC=$(gcc --version 2>/dev/null | head -1 || echo unknown)
}

run_all() {
    rm -rf "$OUT"
    mkdir -p "$OUT"
    : >"$OUT/status.txt"
    local rows=() vruns=5 vrows=400000 lat=1000 dev=100 smp=100000 series=60 dk=()
    if ((QUICK)); then
        rows=(--quick)
        vruns=1 vrows=100000 lat=200 dev=8 smp=20000 series=12
    fi
    ((DUCKDB)) && dk=(--duckdb)
    vg_need_packages "${VG_PKGS_BUILD[@]}" "${VG_PKGS_TEST[@]}" bc time >/dev/null
    vg_build "$B" >/dev/null
    VIGIL_BUILD=$B run core_replay "$VG_ROOT/bench/run.sh" "${rows[@]}"
    run vigild "$VG_ROOT/bench/bench_vigild.sh" "$B" "$vruns" "$vrows"
    if [[ -x "$VG_ROOT/bench/bench_vigild_latency.sh" ]]; then
        # the broker as deployed (deploy/mosquitto: set_tcp_nodelay true);
        # without it a shutdown waits ~40 ms for a delayed ACK
        BROKER_NODELAY=1 run vigild_latency "$VG_ROOT/bench/bench_vigild_latency.sh" "$B" "$lat"
    fi
    if [[ -x "$VG_ROOT/bench/bench_vigild_mem.sh" ]]; then
        run vigild_mem "$VG_ROOT/bench/bench_vigild_mem.sh" "$B"
    fi
    run batch "$VG_ROOT/bench/bench_batch.sh" "$B" "$dev" "$smp" "${dk[@]}"
    if [[ -x "$VG_ROOT/bench/nab/run.sh" ]]; then
        run nab "$VG_ROOT/bench/nab/run.sh" --build "$B" --out "$OUT/nab" --series "$series"
    else
        echo "nab: bench/nab/run.sh not present" >>"$OUT/status.txt"
    fi
    if [[ -x "$VG_ROOT/bench/mvar/run.sh" ]]; then
        run mvar "$VG_ROOT/bench/mvar/run.sh" --build "$B" --out "$OUT/mvar"
    fi
    LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
}

# pick NAME SED-SCRIPT : the first line of NAME's output the sed -n script
# prints, or "missing".
pick() {
    local v
    v=$(sed -n "$2" "$OUT/$1.txt" 2>/dev/null | sed -n 1p | sed 's/\(^\|[ (=]\)\.\([0-9]\)/\10.\2/g')
    echo "${v:-missing}"
}

# The headline figures, each beside the baseline its benchmark times in the
# same run.
summary_table() {
    local core base cratio replay pair arch aratio lp50 lb50 mem big imp ing rt dkq dkr
    core=$(pick core_replay 's/^full+adapt *[0-9.]* *\([0-9.]*\) .*/\1 M samples\/s/p')
    base=$(pick core_replay 's/^baseline *[0-9.]* *\([0-9.]*\) .*/\1 M samples\/s/p')
    cratio=$(pick core_replay 's/^full+adapt *[0-9.]* *[0-9.]* *\([0-9.]*x\).*/\1 the baseline time/p')
    replay=$(pick core_replay 's/^median \([0-9.]* s = .*\)/\1/p')
    pair=$(pick vigild 's/^median: paho pair \([0-9]*\) .*/\1 samples\/s/p')
    arch=$(pick vigild 's/^median: .* archived \([0-9]*\) samples\/s.*/\1 samples\/s/p')
    aratio=$(pick vigild 's/^median: .*samples\/s (\([0-9]*%\) of the pair).*/\1 of the pair/p')
    lp50=$(pick vigild_latency 's/^vigild *n [0-9]* \(p50.*\)/\1/p')
    lb50=$(pick vigild_latency 's/^plain *n [0-9]* \(p50.*\)/\1/p')
    mem=$(pick vigild_mem 's/^idle, default config: \(.*\)/\1/p')
    big=$(pick vigild_mem 's/^100 channels x 4096-sample windows, full: VmRSS \([0-9]* kB\).*/\1/p')
    imp=$(pick batch 's/^import (warehouse insert path): \(.*\)/\1/p')
    ing=$(pick batch 's/^ingest via mosquitto (1 worker): \(.*\)/\1/p')
    rt=$(pick batch 's/^retrain: runs .*; \(median [0-9.]* s\).*/\1/p')
    dkq=$(pick batch 's/^duckdb quantiles: .*; \(median [0-9.]* s\)/\1/p')
    dkr=$(pick batch 's/^ratio retrain \/ duckdb (medians): \(.*\)/\1 (time, retrain \/ DuckDB)/p')
    cat <<EOF
| benchmark | measured | baseline in the same run | ratio |
|---|---|---|---|
| core, full detector set (adaptive), 1,000 channels | $core | bare windowed z-score: $base | $cratio |
| vigil-replay, CSV in -> scores out | $replay | - | - |
| vigild over MQTT, archived end to end | $arch | plain Paho pair: $pair | $aratio |
| trip path latency (publish -> cmd/shutdown, broker set_tcp_nodelay) | $lp50 | broker publish -> subscribe: $lb50 | - |
| vigild memory, idle (default config) | $mem | with 100 channels x 4096-sample windows full: VmRSS $big | - |
| vigil-batch import (warehouse insert path) | $imp | - | - |
| vigil-batch ingest through mosquitto | $ing | - | - |
| vigil-batch retrain (fit, shrink, backtest, sign) | $rt | DuckDB per-channel quantiles: $dkq | $dkr |
EOF
    if [[ -s "$OUT/nab.txt" ]]; then
        echo
        echo "Detection quality (NAB rules, standard profile, held-out part, alert column as deployed):"
        echo
        echo '```'
        awk '$1 == "det" || ($2 == "held" && $4 == "standard") || ($2 == "held-out" && $4 == "standard")' \
            "$OUT/nab.txt" | sed -n 1,12p
        echo '```'
    fi
    if [[ -s "$OUT/mvar.txt" ]]; then
        echo
        echo "Multivariate detection (bench/mvar, held-out part, per-row F1 of the alert column as deployed):"
        echo
        echo '```'
        awk '/^per-row F1/ { on = 1; next } on && /^$/ { on = 0 }
             on && ($1 == "det" || ($2 == "held" && $3 == "alert"))' "$OUT/mvar.txt"
        echo '```'
    fi
}

# The previous doc's hand-written part: after the end marker, or the whole
# file minus its title the first time.
old_body() {
    if [[ ! -f "$1" ]]; then
        return 0
    elif grep -qF "$END_MARK" "$1"; then
        awk -v m="$END_MARK" 'found { print } $0 == m { found = 1 }' "$1"
    else
        awk 'NR == 1 && /^# / { next } { print }' "$1"
    fi
}

write_doc() {
    local src=$VG_ROOT/docs/BENCHMARKS.md tmp
    [[ -f "$DOC" ]] && src=$DOC
    tmp=$(mktemp "$OUT/doc.XXXXXX")
    {
        echo "# Benchmarks"
        echo
        echo "$BEGIN_MARK"
        echo
        echo "## Latest run of every benchmark (bench/all.sh$( ((QUICK)) && echo " --quick"))"
        echo
        echo "Generated by \`bench/all.sh\` on $DATE: $CPU, $CORES cores, $OS, $CC;"
        echo "load average $LOAD0 at start, $LOAD1 at the end; commit $COMMIT$DIRTY."
        echo "Each row's baseline was timed by the same script in the same run; the"
        echo "sections further down explain each benchmark and keep the figures measured"
        echo "by hand when it was written (their own machine and commit are named there)."
        echo
        summary_table
        echo
        echo "Exit status and duration of each script:"
        echo
        echo '```'
        cat "$OUT/status.txt"
        echo '```'
        echo
        echo "<details><summary>Raw output of each script</summary>"
        local f
        for f in core_replay vigild vigild_latency vigild_mem batch nab mvar; do
            [[ -s "$OUT/$f.txt" ]] || continue
            echo
            echo "\`$f\`:"
            echo
            echo '```'
            # the NAB output is long: its table and throughput lines only
            if [[ $f == nab ]]; then grep -E '^(det|vigil|wgauss|fixed|throughput)' "$OUT/$f.txt"; else cat "$OUT/$f.txt"; fi
            echo '```'
        done
        echo
        echo "</details>"
        echo
        echo "$END_MARK"
        old_body "$src"
    } >"$tmp"
    mkdir -p "$(dirname "$DOC")"
    mv "$tmp" "$DOC"
    vg_ok "wrote $DOC (raw outputs in $OUT)"
}

main() {
    parse_args "$@"
    machine
    run_all
    write_doc
}

main "$@"
