#!/usr/bin/env bash
# scripts/package.sh - build vigil's Debian packages and check their contents.
#
# Usage: scripts/package.sh [OPTIONS]
#
# For each architecture: configure with -DCMAKE_INSTALL_PREFIX=/usr (Release,
# no tests), build, `cpack -G DEB`, then check the .deb without installing
# it: Architecture and Depends in `dpkg-deb -I`, the expected files in
# `dpkg-deb -c` (programs, systemd unit, conffile, example configs, mosquitto
# configs, man pages), the programs' ELF machine, and - extracted into a
# scratch directory - `vigild --help` runs (arm64: under qemu-aarch64) and
# `systemd-analyze verify` accepts the unit (when systemd-analyze exists).
#   amd64   native build                  -> BUILD_ROOT/amd64/vigil_<v>_amd64.deb
#   arm64   toolchains/aarch64-linux-gnu  -> BUILD_ROOT/arm64/vigil_<v>_arm64.deb
#
# Options:
#   --arch LIST         comma-separated architectures (default: amd64,arm64)
#   --build-root DIR    build directories DIR/<arch> (default: build-pkg)
#   --clean             delete the build directories first
#   -j, --jobs N        parallel build jobs (default: nproc)
#   --no-install        never run apt-get; fail if a package is missing
#   -h, --help          this text
#
# Exit status: 0 when every package was built and passed its checks.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
# shellcheck source=lib/common.sh
source "$SCRIPT_DIR/lib/common.sh"

ARCHES=(amd64 arm64)
BUILD_ROOT=$VG_ROOT/build-pkg
CLEAN=0

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

parse_args() {
    while [[ $# -gt 0 ]]; do
        case $1 in
            --arch) IFS=, read -r -a ARCHES <<<"${2:?--arch needs a list}"; shift ;;
            --build-root) BUILD_ROOT=${2:?--build-root needs a directory}; shift ;;
            --clean) CLEAN=1 ;;
            -j | --jobs) VG_JOBS=${2:?--jobs needs a number}; export VG_JOBS; shift ;;
            --no-install) VG_NO_INSTALL=1; export VG_NO_INSTALL ;;
            -h | --help) usage; exit 0 ;;
            *) vg_die "unknown option '$1' (see --help)" ;;
        esac
        shift
    done
    local a
    for a in "${ARCHES[@]}"; do
        [[ $a == amd64 || $a == arm64 ]] || vg_die "unsupported architecture '$a' (amd64, arm64)"
    done
    [[ "$BUILD_ROOT" = /* ]] || BUILD_ROOT=$PWD/$BUILD_ROOT
}

# The files every vigil package must contain (paths as dpkg-deb -c prints them).
expected_files() {
    printf '%s\n' ./usr/bin/vigild ./usr/bin/vigil-replay ./usr/bin/vigil-batch ./usr/bin/vigil-sim \
        ./lib/systemd/system/vigild@.service ./etc/vigil/vigild.conf \
        ./usr/share/doc/vigil/examples/vigild.conf \
        ./usr/share/doc/vigil/examples/mosquitto/mosquitto.conf \
        ./usr/share/doc/vigil/examples/mosquitto/acl \
        ./usr/share/doc/vigil/examples/mosquitto/bridge.conf \
        ./usr/share/doc/vigil/examples/mosquitto/README.md \
        ./usr/share/doc/vigil/OPERATIONS.md \
        ./usr/share/man/man8/vigild.8 ./usr/share/man/man1/vigil-replay.1 \
        ./usr/share/man/man1/vigil-batch.1 ./usr/share/man/man1/vigil-sim.1
    [[ -f "$VG_ROOT/ctl/CMakeLists.txt" ]] && printf '%s\n' ./usr/bin/vigilctl
    return 0
}

# need_packages ARCH : build, packaging and (arm64) cross packages
need_packages() {
    vg_need_packages "${VG_PKGS_BUILD[@]}" dpkg-dev binutils
    if [[ $1 == arm64 ]]; then
        vg_need_packages "${VG_PKGS_CROSS_ARM64[@]}"
    fi
}

# build_deb ARCH DIR : configure, build and cpack; prints the .deb path
build_deb() {
    local arch=$1 dir=$2 args=(-DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release -DVIGIL_TESTS=OFF)
    [[ $arch == arm64 ]] && args+=(-DCMAKE_TOOLCHAIN_FILE="$VG_ROOT/toolchains/aarch64-linux-gnu.cmake")
    [[ $CLEAN == 1 ]] && rm -rf "$dir"
    rm -f "$dir"/vigil_*.deb
    vg_build "$dir" "${args[@]}" >&2 || vg_die "$arch: build failed"
    (cd "$dir" && cpack -G DEB >&2) || vg_die "$arch: cpack failed"
    local debs=("$dir"/vigil_*_"$arch".deb)
    [[ -f "${debs[0]}" ]] || vg_die "$arch: no vigil_*_$arch.deb in $dir"
    printf '%s\n' "${debs[0]}"
}

# check_control ARCH DEB : Architecture, Depends, conffiles, maintainer scripts
check_control() {
    local arch=$1 deb=$2 got
    got=$(dpkg-deb -f "$deb" Architecture)
    [[ $got == "$arch" ]] || vg_die "$deb: Architecture '$got', expected $arch"
    got=$(dpkg-deb -f "$deb" Depends)
    # libpaho-mqtt1.3: vigild dlopen()s it, so it must be declared even
    # when no linked program needs it
    [[ $got == *libc6* && $got == *"libpaho-mqtt1.3 (>= 1.3.0)"* && $got == *libsodium* ]] ||
        vg_die "$deb: incomplete Depends '$got'"
    dpkg-deb -I "$deb" conffiles | grep -qx /etc/vigil/vigild.conf ||
        vg_die "$deb: /etc/vigil/vigild.conf is not a conffile"
    dpkg-deb -I "$deb" postinst | grep -q 'vigil' || vg_die "$deb: no postinst"
    vg_ok "$arch: Architecture $arch; Depends: $got"
}

# check_files DEB : every expected file is in dpkg-deb -c
check_files() {
    local deb=$1 list missing=0 f
    list=$(dpkg-deb -c "$deb" | awk '{print $6}')
    while read -r f; do
        grep -qxF "$f" <<<"$list" || {
            vg_err "$deb: missing $f"
            missing=1
        }
    done < <(expected_files)
    [[ $missing == 0 ]] || vg_die "$deb: files missing"
    vg_ok "$(basename "$deb"): $(wc -l <<<"$list") entries, all $(expected_files | wc -l) expected files present"
}

# check_run ARCH DEB SCRATCH : extracted programs have the right ELF machine
# and run; the unit passes systemd-analyze verify
check_run() {
    local arch=$1 deb=$2 root=$3 machine want run=()
    rm -rf "$root" && mkdir -p "$root"
    dpkg-deb -x "$deb" "$root"
    want=$([[ $arch == arm64 ]] && echo AArch64 || echo X86-64)
    machine=$(readelf -h "$root/usr/bin/vigild" | awk -F: '/Machine:/ {print $2}')
    [[ $machine == *"$want"* ]] || vg_die "$deb: vigild is '$machine', expected $want"
    if [[ $arch == arm64 ]]; then
        command -v qemu-aarch64 >/dev/null || vg_die "qemu-aarch64 missing (qemu-user)"
        run=(qemu-aarch64 -L /)
    fi
    "${run[@]}" "$root/usr/bin/vigild" --help | grep -q '^usage: vigild' ||
        vg_die "$deb: vigild --help failed"
    if command -v systemd-analyze >/dev/null; then
        local out
        out=$(systemd-analyze verify "$root/lib/systemd/system/vigild@.service" 2>&1 |
            grep -v -e 'not executable' -e 'No such file' || true)
        [[ -z $out ]] || vg_die "$deb: systemd-analyze verify: $out"
    fi
    vg_ok "$arch: vigild ($want) runs --help; unit verified"
}

main() {
    parse_args "$@"
    local arch deb
    for arch in "${ARCHES[@]}"; do
        vg_section "package $arch"
        need_packages "$arch"
        deb=$(build_deb "$arch" "$BUILD_ROOT/$arch")
        check_control "$arch" "$deb"
        check_files "$deb"
        check_run "$arch" "$deb" "$BUILD_ROOT/$arch/extract"
        vg_ok "$deb"
    done
}

main "$@"
