#!/usr/bin/env bash
# scripts/test.sh - build vigil and run its tests.  This is the README's test
# command, and CI (.ci/run) runs `scripts/test.sh --all`.
#
# Usage: scripts/test.sh [--quick | --all] [OPTIONS]
#
#   (no mode)          install the Debian packages that are missing, build
#                      build/ with gcc (RelWithDebInfo, VIGIL_TESTS=ON) and run
#                      every ctest test except the fuzz ones: unit tests (in
#                      parallel), then integration tests (one at a time)
#   --quick            the same build, unit tests only
#   --all              the full CI matrix of scripts/ci.sh: format check, gcc,
#                      clang, sanitizers, aarch64 cross build under qemu, fuzzing;
#                      options after --all that test.sh does not know go to ci.sh
#                      (see scripts/ci.sh --help: --only, --skip, --clean, ...)
# Options:
#   --fuzz-seconds N   seconds each fuzz target runs (--all only; default 20)
#   --build-dir DIR    build directory without --all (default: build)
#   -j, --jobs N       parallel build/test jobs (default: nproc)
#   --no-install       never run apt-get; fail if a package is missing
#   -h, --help         this text
#
# Exit status: 0 when everything built and every test passed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

usage() {
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

MODE=default
BUILD_DIR="$VG_ROOT/build"
CI_ARGS=()

parse_args() {
    while [[ $# -gt 0 ]]; do
        case $1 in
        --quick) MODE=quick ;;
        --all) MODE=all ;;
        --fuzz-seconds)
            [[ $# -ge 2 ]] || vg_die "--fuzz-seconds needs a value"
            CI_ARGS+=(--fuzz-seconds "$2")
            shift
            ;;
        --build-dir)
            [[ $# -ge 2 ]] || vg_die "--build-dir needs a value"
            BUILD_DIR=$2
            shift
            ;;
        -j | --jobs)
            [[ $# -ge 2 ]] || vg_die "$1 needs a value"
            VG_JOBS=$2
            export VG_JOBS
            shift
            ;;
        --no-install) export VG_NO_INSTALL=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            if [[ $MODE == all ]]; then
                CI_ARGS+=("$1")
            else
                vg_die "unknown option: $1 (see --help)"
            fi
            ;;
        esac
        shift
    done
}

# ctest over one label selection; extra arguments go to ctest.
run_ctest() {
    ctest --test-dir "$BUILD_DIR" --output-on-failure --no-tests=error "$@"
}

run_default() {
    vg_need_packages "${VG_PKGS_BUILD[@]}" "${VG_PKGS_TEST[@]}"
    vg_build "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_TESTS=ON \
        -DVIGIL_FUZZ=OFF || vg_die "build failed"
    local rc=0
    vg_info "unit tests"
    run_ctest -L unit -j "$(vg_jobs)" || rc=1
    if [[ $MODE == default ]]; then
        # Everything but unit and fuzz: the integration tests, serially, as
        # each starts its own mosquitto.
        if ctest --test-dir "$BUILD_DIR" -N -LE 'unit|fuzz' | grep -q 'Total Tests: [1-9]'; then
            vg_info "integration tests"
            run_ctest -LE 'unit|fuzz' || rc=1
        else
            vg_warn "no integration tests registered"
        fi
    fi
    if [[ $rc -eq 0 ]]; then
        vg_ok "all tests passed"
    else
        vg_err "tests failed (build dir: $BUILD_DIR)"
    fi
    return $rc
}

main() {
    parse_args "$@"
    cd "$VG_ROOT"
    if [[ $MODE == all ]]; then
        exec "$SCRIPT_DIR/ci.sh" "${CI_ARGS[@]}"
    fi
    [[ ${#CI_ARGS[@]} -eq 0 ]] || vg_die "--fuzz-seconds only goes with --all"
    run_default
}

main "$@"
