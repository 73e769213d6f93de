# CMake toolchain file: cross-compile vigil for 32-bit ARM Linux, hard-float
# (ARMv7, Debian/Ubuntu "armhf") with Debian's cross gcc and multiarch
# libraries.  Not part of CI (which cross-builds aarch64); kept working for
# 32-bit gateways such as the Raspberry Pi OS armhf userland.
#
# Usage:
#     cmake -S . -B build-armhf -DCMAKE_TOOLCHAIN_FILE=toolchains/arm-linux-gnueabihf.cmake
#     cmake --build build-armhf -j"$(nproc)"
#     ctest --test-dir build-armhf -L unit --output-on-failure   # runs under qemu-arm
#
# Packages it needs (Debian 12):
#     dpkg --add-architecture armhf && apt-get update
#     apt-get install gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user pkg-config \
#         libcbor-dev:armhf libsodium-dev:armhf libcunit1-dev:armhf \
#         libinih-dev:armhf libpaho-mqtt-dev:armhf libsqlite3-dev:armhf
#
# How it finds things:
#   * The :armhf libraries live in /usr/lib/arm-linux-gnueabihf (multiarch), the
#     headers in /usr/include; the cross gcc searches both by itself.
#   * pkg-config: the host pkg-config is pointed at the armhf .pc files only
#     (PKG_CONFIG_LIBDIR), so pkg_check_modules(... IMPORTED_TARGET libcbor)
#     resolves to /usr/lib/arm-linux-gnueabihf/libcbor.so, never the host's.
#   * find_library/find_package: CMAKE_LIBRARY_ARCHITECTURE makes CMake look in
#     <prefix>/lib/arm-linux-gnueabihf (and .../cmake/<pkg>) and never in the
#     host's x86_64-linux-gnu directories; programs come from the host.
#   * Tests: CMAKE_CROSSCOMPILING_EMULATOR runs every test binary with
#     qemu-arm.  "-L /" makes qemu resolve the ELF interpreter
#     /lib/ld-linux-armhf.so.3 and the libraries against the host's root,
#     i.e. the multiarch libc6:armhf that the :armhf -dev packages pull in.
#     (Do not use -L /usr/arm-linux-gnueabihf: that gives the ld.so of the
#     libc6-armhf-cross package, a different glibc build from the libc.so.6
#     that the dynamic loader then finds in /lib/arm-linux-gnueabihf.)
#     Override with -DVIGIL_QEMU_LD_PREFIX=DIR for a sysroot elsewhere, e.g.
#     -DVIGIL_QEMU_LD_PREFIX=/usr/arm-linux-gnueabihf for a program that links only
#     libc and so runs without the :armhf packages.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(VIGIL_CROSS_TRIPLET arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${VIGIL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${VIGIL_CROSS_TRIPLET}-g++) # unused (C only); needs g++-arm-linux-gnueabihf
set(CMAKE_LIBRARY_ARCHITECTURE ${VIGIL_CROSS_TRIPLET})

# The cross toolchain's own sysroot (libc6-dev-armhf-cross) comes first; the
# multiarch directories of the host root are searched after it (mode BOTH).
set(CMAKE_FIND_ROOT_PATH /usr/${VIGIL_CROSS_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config: only the target's .pc files (plus arch-independent ones).
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${VIGIL_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Run target binaries (ctest, try_run) under user-mode qemu.
set(VIGIL_QEMU_LD_PREFIX "/" CACHE PATH "Root qemu-arm resolves the target's loader and libraries in")
find_program(VIGIL_QEMU qemu-arm)
if(VIGIL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VIGIL_QEMU} -L ${VIGIL_QEMU_LD_PREFIX})
endif()
