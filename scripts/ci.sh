#!/usr/bin/env bash
# scripts/ci.sh - vigil's full CI matrix.  Run it as `scripts/test.sh --all`
# (which is what .ci/run does); it can also be run directly.
#
# Usage: scripts/ci.sh [OPTIONS]
#
# Stages, in this order, each in its own build directory build-ci-<stage>/
# (all builds use the project's -Wall -Wextra -Werror):
#   format    clang-format --dry-run --Werror over every *.c/*.h known to git
#   gcc       gcc, RelWithDebInfo; unit tests, then integration tests
#   clang     clang, RelWithDebInfo; unit tests
#   sanitize  clang, -DVIGIL_SANITIZE=ON (ASan + UBSan, halt on the first
#             error, leaks checked); unit tests, then every integration test,
#             the whole-system e2e/fault tests included (tests/integration/
#             lib.sh fails a test on any sanitizer report its background
#             daemons print, e.g. a leak report at exit)
#   arm64     cross build with toolchains/aarch64-linux-gnu.cmake; unit tests
#             run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR)
#   fuzz      clang, -DVIGIL_FUZZ=ON -DVIGIL_TESTS=OFF (every library built
#             with coverage instrumentation and ASan/UBSan); every fuzz target
#             runs for --fuzz-seconds under ctest -L fuzz, two at a time
#   package   scripts/package.sh: amd64 and arm64 .deb packages, checked
# Every stage runs even when an earlier one failed; a summary table of the
# stages (result, duration, tests) ends the run.  Logs: build-ci-logs/<stage>.log
#
# Options:
#   --only LIST         comma-separated stages to run (default: all)
#   --skip LIST         comma-separated stages not to run
#   --fuzz-seconds N    seconds each fuzz target runs (default: 20)
#   --clean             delete the build-ci-* directories first
#   -j, --jobs N        parallel build/test jobs (default: nproc)
#   --no-install        never run apt-get; fail if a package is missing
#   --list              print the stage names and exit
#   -h, --help          this text
#
# Exit status: 0 when every stage that ran passed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

ALL_STAGES=(format gcc clang sanitize arm64 fuzz package)
STAGES=("${ALL_STAGES[@]}")
SKIP=()
FUZZ_SECONDS=20
CLEAN=0
LOG_DIR="$VG_ROOT/build-ci-logs"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

split_list() { # split_list "a,b" -> one per line
    tr ',' '\n' <<<"$1" | sed '/^$/d'
}

check_stage_names() {
    local s
    for s in "$@"; do
        [[ " ${ALL_STAGES[*]} " == *" $s "* ]] || vg_die "unknown stage '$s' (stages: ${ALL_STAGES[*]})"
    done
}

parse_args() {
    while [[ $# -gt 0 ]]; do
        case $1 in
        --only)
            [[ $# -ge 2 ]] || vg_die "--only needs a value"
            mapfile -t STAGES < <(split_list "$2")
            check_stage_names "${STAGES[@]}"
            shift
            ;;
        --skip)
            [[ $# -ge 2 ]] || vg_die "--skip needs a value"
            mapfile -t SKIP < <(split_list "$2")
            check_stage_names "${SKIP[@]}"
            shift
            ;;
        --fuzz-seconds)
            [[ $# -ge 2 && $2 =~ ^[0-9]+$ && $2 -gt 0 ]] || vg_die "--fuzz-seconds needs a positive number"
            FUZZ_SECONDS=$2
            shift
            ;;
        --clean) CLEAN=1 ;;
        -j | --jobs)
            [[ $# -ge 2 ]] || vg_die "$1 needs a value"
            VG_JOBS=$2
            export VG_JOBS
            shift
            ;;
        --no-install) export VG_NO_INSTALL=1 ;;
        --list)
            printf '%s\n' "${ALL_STAGES[@]}"
            exit 0
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) vg_die "unknown option: $1 (see --help)" ;;
        esac
        shift
    done
    local s keep=()
    for s in "${STAGES[@]}"; do
        [[ " ${SKIP[*]:-} " == *" $s "* ]] || keep+=("$s")
    done
    STAGES=("${keep[@]}")
    [[ ${#STAGES[@]} -gt 0 ]] || vg_die "no stage left to run"
}

# ------------------------------------------------------------------ steps --
# Within a stage, STAGE_LOG is the stage's log file.  Quiet steps (configure,
# build) write only to it and show its last lines when they fail; loud steps
# (tests) are shown as they run.

# step_quiet LABEL CMD... : run CMD with its output in the log only.
step_quiet() {
    local label=$1
    shift
    local out rc=0
    out=$(mktemp)
    vg_info "$label"
    "$@" >"$out" 2>&1 || rc=$?
    cat "$out" >>"$STAGE_LOG"
    if [[ $rc -ne 0 ]]; then
        # With -j the first error is often far from the end: show the
        # diagnostics themselves when there are any, else the last lines.
        local pat=': (fatal )?error:|undefined reference|CMake Error|No rule to make'
        if grep -qE "$pat" "$out"; then
            vg_err "$label failed (exit $rc); its errors:"
            grep -E -A3 "$pat" "$out" | head -n 80 | sed 's/^/    /' >&2
        else
            vg_err "$label failed (exit $rc); last lines:"
            tail -n 60 "$out" | sed 's/^/    /' >&2
        fi
    fi
    rm -f "$out"
    return $rc
}

# step_loud LABEL CMD... : run CMD showing its output, and log it.
step_loud() {
    local label=$1
    shift
    vg_info "$label"
    "$@" 2>&1 | tee -a "$STAGE_LOG"
}

# configure_and_build DIR CMAKE_ARGS... (jobs: vg_jobs)
configure_and_build() {
    step_quiet "configure + build $(basename "$1")" vg_build "$@"
}

# run_tests DIR LABEL_ARGS... : ctest with output on failure; counts tests.
run_tests() {
    local dir=$1
    shift
    local out rc=0
    out=$(mktemp)
    step_loud "ctest $*" ctest --test-dir "$dir" --output-on-failure --no-tests=error "$@" \
        | tee "$out" || rc=$?
    # "100% tests passed, 0 tests failed out of 12"
    sed -n 's/.*tests passed, \([0-9]*\) tests* failed out of \([0-9]*\).*/\1 \2/p' "$out" \
        | while read -r failed total; do
            echo "$STAGE_NAME $((total - failed)) $failed" >>"$COUNTS_FILE"
        done
    rm -f "$out"
    return $rc
}

# True when DIR has tests for this ctest label selection.
has_tests() {
    local dir=$1
    shift
    ctest --test-dir "$dir" -N "$@" 2>/dev/null | grep -q 'Total Tests: [1-9]'
}

# Unit tests in parallel, then the rest but fuzz (integration) one at a time.
unit_then_integration() {
    local dir=$1 exclude=${2:-'unit|fuzz'} rc=0
    run_tests "$dir" -L unit -j "$(vg_jobs)" || rc=1
    if has_tests "$dir" -LE "$exclude"; then
        run_tests "$dir" -LE "$exclude" || rc=1
    else
        vg_warn "no integration tests registered"
    fi
    return $rc
}

# ----------------------------------------------------------------- stages --
stage_format() {
    local files=() bad=() f
    if git -C "$VG_ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        mapfile -t files < <(git -C "$VG_ROOT" ls-files --cached --others --exclude-standard \
            -- '*.c' '*.h' '*.inc' | sort -u)
    else
        mapfile -t files < <(cd "$VG_ROOT" && find . -path './build*' -prune -o \
            -type f \( -name '*.c' -o -name '*.h' -o -name '*.inc' \) -print | sed 's|^\./||' | sort)
    fi
    vg_info "$(clang-format --version | head -n 1); ${#files[@]} files"
    [[ ${#files[@]} -gt 0 ]] || {
        vg_err "no C files found"
        return 1
    }
    for f in "${files[@]}"; do
        [[ -f "$VG_ROOT/$f" ]] || continue # deleted but not yet committed
        if ! (cd "$VG_ROOT" && clang-format --dry-run --Werror "$f") >>"$STAGE_LOG" 2>&1; then
            bad+=("$f")
        fi
    done
    echo "format $((${#files[@]} - ${#bad[@]})) ${#bad[@]}" >>"$COUNTS_FILE"
    if [[ ${#bad[@]} -gt 0 ]]; then
        vg_err "${#bad[@]} file(s) not formatted per .clang-format:"
        printf '    %s\n' "${bad[@]}" >&2
        (cd "$VG_ROOT" && clang-format --dry-run "${bad[0]}" 2>&1 | head -n 20 | sed 's/^/    /') >&2
        vg_err "fix with: clang-format -i ${bad[*]}"
        return 1
    fi
    vg_ok "all ${#files[@]} files formatted"
}

stage_gcc() {
    local dir="$VG_ROOT/build-ci-gcc"
    configure_and_build "$dir" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS=-Werror -DVIGIL_TESTS=ON -DVIGIL_FUZZ=OFF -DVIGIL_SANITIZE=OFF || return
    unit_then_integration "$dir"
}

stage_clang() {
    local dir="$VG_ROOT/build-ci-clang"
    configure_and_build "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_C_FLAGS=-Werror -DVIGIL_TESTS=ON -DVIGIL_FUZZ=OFF -DVIGIL_SANITIZE=OFF || return
    run_tests "$dir" -L unit -j "$(vg_jobs)"
}

stage_sanitize() {
    local dir="$VG_ROOT/build-ci-sanitize"
    configure_and_build "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_FLAGS=-Werror -DVIGIL_TESTS=ON -DVIGIL_FUZZ=OFF -DVIGIL_SANITIZE=ON || return
    # allocator_may_return_null: a request too big to satisfy returns NULL,
    # as glibc's does, instead of aborting, so the tests of the refusal
    # paths (e.g. an engine sized past the address space) can run.  The fuzz
    # stage keeps libFuzzer's own -malloc_limit_mb on such requests.
    export ASAN_OPTIONS=halt_on_error=1:abort_on_error=0:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:allocator_may_return_null=1:print_summary=1:suppressions=$VG_ROOT/tests/asan.supp
    # asan.supp: one upstream Paho race, reads inside libpaho only; see the file
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:print_summary=1
    # third-party (OpenSSL) allocations only; see the file
    export LSAN_OPTIONS=suppressions=$VG_ROOT/tests/lsan.supp:print_suppressions=0
    vg_info "ASAN_OPTIONS=$ASAN_OPTIONS"
    vg_info "UBSAN_OPTIONS=$UBSAN_OPTIONS"
    # Every integration test, the whole-system e2e/fault tests (label e2e,
    # about 7 minutes serial under ASan) included: a fleet of daemons under
    # load is where races and leaks show.
    unit_then_integration "$dir" 'unit|fuzz'
}

stage_arm64() {
    local dir="$VG_ROOT/build-ci-arm64"
    configure_and_build "$dir" -DCMAKE_TOOLCHAIN_FILE="$VG_ROOT/toolchains/aarch64-linux-gnu.cmake" \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS=-Werror -DVIGIL_TESTS=ON \
        -DVIGIL_FUZZ=OFF -DVIGIL_SANITIZE=OFF || return
    show_cross_evidence "$dir" || return
    run_tests "$dir" -L unit -j "$(vg_jobs)"
}

# Show that the unit tests are aarch64 binaries that ctest runs under qemu:
# the first unit test, verbosely, trimmed to its command and CUnit summary.
show_cross_evidence() {
    local dir=$1 bin="$1/tests/vigil-unit" out
    [[ -x "$bin" ]] || return 0
    vg_info "$(basename "$bin"): $(readelf -h "$bin" | sed -n 's/^ *Machine: *//p')"
    out=$(ctest --test-dir "$dir" -L unit -I 1,1 -V 2>&1) || true
    printf '%s\n' "$out" >>"$STAGE_LOG"
    printf '%s\n' "$out" | grep -E 'Test command:|Run Summary:|^[0-9]+: +(suites|tests|asserts) ' | sed 's/^[0-9]*: /    /' >&2
    grep -q 'Test command: .*qemu-aarch64' <<<"$out" || {
        vg_err "the unit tests are not run under qemu-aarch64"
        return 1
    }
}

stage_fuzz() {
    local dir="$VG_ROOT/build-ci-fuzz"
    # VIGIL_FUZZ=ON instruments every library for coverage (fuzzer-no-link)
    # and ASan/UBSan; UBSan findings are made fatal here so libFuzzer keeps
    # the input.  -O1 without -DNDEBUG: assertions stay on while fuzzing.
    configure_and_build "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g" -DCMAKE_C_FLAGS=-Werror -DVIGIL_SANITIZE=OFF -DVIGIL_TESTS=OFF -DVIGIL_FUZZ=ON \
        -DVIGIL_FUZZ_SECONDS="$FUZZ_SECONDS" || return
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    run_tests "$dir" -L fuzz -j "$(vg_jobs)"
}

# package: the amd64 and arm64 .deb packages built with CPack and checked
# (contents, architecture, dependencies, the unit) by scripts/package.sh.
stage_package() {
    "$VG_ROOT/scripts/package.sh" --build-root "$VG_ROOT/build-ci-package"
}

# ----------------------------------------------------------------- runner --
declare -A RESULT=() DURATION=()

packages_for_stages() {
    local s pkgs=("${VG_PKGS_BUILD[@]}" "${VG_PKGS_TEST[@]}")
    for s in "${STAGES[@]}"; do
        case $s in
        format | clang | sanitize | fuzz) pkgs+=("${VG_PKGS_CLANG[@]}") ;;
        arm64 | package) pkgs+=("${VG_PKGS_CROSS_ARM64[@]}") ;;
        esac
    done
    printf '%s\n' "${pkgs[@]}" | awk '!seen[$0]++'
}

run_stage() {
    local name=$1 start rc=0
    vg_section "stage $name"
    STAGE_NAME=$name
    STAGE_LOG="$LOG_DIR/$name.log"
    : >"$STAGE_LOG"
    start=$(vg_now)
    # A subshell: a stage's exports and failures stay inside it.
    ("stage_$name") || rc=$?
    DURATION[$name]=$(($(vg_now) - start))
    if [[ $rc -eq 0 ]]; then
        RESULT[$name]=pass
        vg_ok "stage $name passed in $(fmt_secs "${DURATION[$name]}")"
    else
        RESULT[$name]=FAIL
        vg_err "stage $name FAILED in $(fmt_secs "${DURATION[$name]}") (log: ${STAGE_LOG#"$VG_ROOT"/})"
    fi
}

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

# "12 passed, 0 failed" for one stage, from the counts file.
stage_counts() {
    local what=tests
    [[ $1 == format ]] && what=files
    awk -v s="$1" -v w="$what" '$1 == s { p += $2; f += $3; n++ }
        END { if (n) printf "%s: %d passed, %d failed", w, p, f; else printf "-" }' "$COUNTS_FILE"
}

print_summary() {
    local total=$1 s failed=0 passed=0
    vg_section "summary"
    printf '%-10s %-6s %9s  %s\n' stage result time checked
    printf '%-10s %-6s %9s  %s\n' ---------- ------ --------- ---------------------
    for s in "${STAGES[@]}"; do
        printf '%-10s %-6s %9s  %s\n' "$s" "${RESULT[$s]}" "$(fmt_secs "${DURATION[$s]}")" \
            "$(stage_counts "$s")"
        if [[ ${RESULT[$s]} == pass ]]; then
            passed=$((passed + 1))
        else
            failed=$((failed + 1))
        fi
    done
    printf '%-10s %-6s %9s\n' total "" "$(fmt_secs "$total")"
    echo
    echo "stages: $passed passed, $failed failed"
    # ctest tests of every stage (format counts files, so it is left out).
    awk '$1 != "format" { p += $2; f += $3 } END { printf "tests: %d passed, %d failed\n", p, f }' \
        "$COUNTS_FILE"
    return $((failed > 0))
}

main() {
    parse_args "$@"
    cd "$VG_ROOT"
    local start
    start=$(vg_now)
    vg_info "vigil CI: stages ${STAGES[*]}; fuzz ${FUZZ_SECONDS}s per target; -j$(vg_jobs)"
    local pkgs=()
    mapfile -t pkgs < <(packages_for_stages)
    vg_need_packages "${pkgs[@]}"
    if [[ $CLEAN -eq 1 ]]; then
        vg_info "removing build-ci-* directories"
        rm -rf "$VG_ROOT"/build-ci-*
    fi
    mkdir -p "$LOG_DIR"
    COUNTS_FILE="$LOG_DIR/counts"
    : >"$COUNTS_FILE"
    local s
    for s in "${STAGES[@]}"; do
        run_stage "$s"
    done
    print_summary $(($(vg_now) - start))
}

main "$@"
