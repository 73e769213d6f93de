# shellcheck shell=bash
# scripts/lib/common.sh - helpers sourced by scripts/test.sh, scripts/ci.sh
# and scripts/demo.sh.  Not a program: `source "$(dirname "$0")/lib/common.sh"`.
#
#   vg_info / vg_ok / vg_warn / vg_err MSG   log to stderr ("==> ..."), coloured on a TTY
#   vg_die MSG                                log an error and exit 1
#   vg_section TITLE                          a visible heading between stages
#   vg_need_packages PKG...                   apt-get install the missing ones (PKG may be
#                                             name:arch; the foreign arch is added first)
#   VG_PKGS_BUILD, VG_PKGS_TEST, VG_PKGS_CLANG, VG_PKGS_CROSS_ARM64
#                                             the package lists, by purpose
#   vg_build DIR [CMAKE_ARGS...]              configure $VG_ROOT into DIR and build it
#   vg_jobs                                   parallel jobs: $VG_JOBS or nproc
#   vg_now                                    seconds since the epoch
#
# Variables: VG_ROOT (repository root), VG_JOBS (build parallelism),
# VG_NO_INSTALL=1 (only check packages, never install), VG_APT_UPDATED
# (set once apt-get update ran, so nested scripts do not repeat it).

if [[ -n "${VG_COMMON_SH_LOADED:-}" ]]; then
    return 0
fi
VG_COMMON_SH_LOADED=1

VG_ROOT="${VG_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
export VG_ROOT

# ---------------------------------------------------------------- logging --
if [[ -t 2 && -z "${NO_COLOR:-}" ]]; then
    VG_C_BOLD=$'\033[1m' VG_C_RED=$'\033[31m' VG_C_GREEN=$'\033[32m'
    VG_C_YELLOW=$'\033[33m' VG_C_BLUE=$'\033[34m' VG_C_OFF=$'\033[0m'
else
    VG_C_BOLD='' VG_C_RED='' VG_C_GREEN='' VG_C_YELLOW='' VG_C_BLUE='' VG_C_OFF=''
fi

vg_info() { printf '%s==>%s %s\n' "$VG_C_BLUE$VG_C_BOLD" "$VG_C_OFF" "$*" >&2; }
vg_ok() { printf '%s==>%s %s\n' "$VG_C_GREEN$VG_C_BOLD" "$VG_C_OFF" "$*" >&2; }
vg_warn() { printf '%swarning:%s %s\n' "$VG_C_YELLOW$VG_C_BOLD" "$VG_C_OFF" "$*" >&2; }
vg_err() { printf '%serror:%s %s\n' "$VG_C_RED$VG_C_BOLD" "$VG_C_OFF" "$*" >&2; }
vg_die() {
    vg_err "$*"
    exit 1
}
vg_section() {
    printf '\n%s======== %s ========%s\n' "$VG_C_BOLD" "$*" "$VG_C_OFF" >&2
}

vg_now() { date +%s; }

vg_jobs() {
    if [[ -n "${VG_JOBS:-}" ]]; then
        printf '%s\n' "$VG_JOBS"
    else
        nproc 2>/dev/null || echo 2
    fi
}

# --------------------------------------------------------------- packages --
# What the project needs from Debian, by purpose (Debian 12 names).
# shellcheck disable=SC2034 # used by the scripts that source this file
VG_PKGS_BUILD=(cmake make build-essential pkg-config git
    libcbor-dev libsodium-dev libsqlite3-dev libpaho-mqtt-dev libinih-dev
    libcunit1-dev mosquitto mosquitto-clients)
# Tools the integration tests call (sqlite3 and xxd to inspect spools and
# payloads, python3 for small checks, openssl for the test PKI, pkill).
# shellcheck disable=SC2034
VG_PKGS_TEST=(sqlite3 xxd python3 openssl procps)
# shellcheck disable=SC2034
VG_PKGS_CLANG=(clang libclang-rt-14-dev clang-format)
# shellcheck disable=SC2034
VG_PKGS_CROSS_ARM64=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
    libcbor-dev:arm64 libsodium-dev:arm64 libsqlite3-dev:arm64
    libpaho-mqtt-dev:arm64 libinih-dev:arm64 libcunit1-dev:arm64)

# Run a command as root: directly when we are root, else through sudo.
vg_as_root() {
    if [[ "$(id -u)" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        vg_die "need root to run '$*' (not root and no sudo)"
    fi
}

# True when PKG (name or name:arch) is installed.  A plain name means the
# native architecture or an Architecture: all package.
vg_pkg_installed() {
    local pkg=$1 status
    if [[ "$pkg" == *:* ]]; then
        status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null) || return 1
        [[ "$status" == ii* ]]
        return
    fi
    local native
    native=$(dpkg --print-architecture)
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg:$native" 2>/dev/null) || status=''
    [[ "$status" == ii* ]] && return 0
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg:all" 2>/dev/null) || status=''
    [[ "$status" == ii* ]]
}

# Make dpkg accept packages of a foreign architecture (e.g. arm64).
vg_need_arch() {
    local arch=$1
    [[ "$arch" == "$(dpkg --print-architecture)" || "$arch" == all ]] && return 0
    if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
        vg_info "dpkg --add-architecture $arch"
        vg_as_root dpkg --add-architecture "$arch"
        VG_APT_UPDATED=''    # the package lists lack the new architecture
    fi
}

vg_apt() {
    vg_as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
        -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0 "$@"
}

# Run apt-get update at most once per run (exported to nested scripts).  A
# mirror in the middle of a sync makes it fail now and then: it is retried,
# and if one index still fails the install is attempted with what was fetched.
vg_apt_update_once() {
    [[ -n "${VG_APT_UPDATED:-}" ]] && return 0
    local log try
    log=$(mktemp)
    vg_info "apt-get update"
    for try in 1 2 3; do
        if vg_apt update >"$log" 2>&1; then
            break
        fi
        if [[ $try -eq 3 ]]; then
            grep -E '^(E|W):' "$log" >&2 || tail -n 20 "$log" >&2
            vg_warn "apt-get update failed 3 times; installing from the lists it got"
        else
            sleep $((try * 10))
        fi
    done
    rm -f "$log"
    VG_APT_UPDATED=1
    export VG_APT_UPDATED
}

# vg_need_packages PKG... : install whichever of PKG is not installed yet.
vg_need_packages() {
    local pkg missing=()
    for pkg in "$@"; do
        vg_pkg_installed "$pkg" || missing+=("$pkg")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        return 0
    fi
    if [[ -n "${VG_NO_INSTALL:-}" ]]; then
        vg_die "missing packages (and VG_NO_INSTALL is set): ${missing[*]}"
    fi
    for pkg in "${missing[@]}"; do
        [[ "$pkg" == *:* ]] && vg_need_arch "${pkg##*:}"
    done
    vg_apt_update_once
    vg_info "apt-get install ${missing[*]}"
    local log
    log=$(mktemp)
    if ! vg_apt install --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        vg_die "apt-get install failed: ${missing[*]}"
    fi
    rm -f "$log"
    for pkg in "${missing[@]}"; do
        vg_pkg_installed "$pkg" || vg_die "package $pkg still not installed after apt-get install"
    done
}

# ------------------------------------------------------------------ build --
# vg_build DIR [CMAKE_ARGS...] : configure the repository into DIR, build it.
vg_build() {
    local dir=$1
    shift
    local jobs
    jobs=$(vg_jobs)
    vg_info "configure $dir: cmake $*"
    cmake -S "$VG_ROOT" -B "$dir" --log-level=WARNING "$@" || return
    vg_info "build $dir (-j$jobs)"
    cmake --build "$dir" -j "$jobs" || return
}
