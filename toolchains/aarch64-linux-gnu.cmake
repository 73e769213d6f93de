# CMake toolchain file: cross-compile vigil for 64-bit ARM Linux (aarch64,
# Debian/Ubuntu "arm64") with Debian's cross gcc and multiarch libraries.
#
# Usage:
#     cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=toolchains/aarch64-linux-gnu.cmake
#     cmake --build build-arm64 -j"$(nproc)"
#     ctest --test-dir build-arm64 -L unit --output-on-failure   # runs under qemu-aarch64
#
# Packages it needs (Debian 12):
#     dpkg --add-architecture arm64 && apt-get update
#     apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user pkg-config \
#         libcbor-dev:arm64 libsodium-dev:arm64 libcunit1-dev:arm64 \
#         libinih-dev:arm64 libpaho-mqtt-dev:arm64 libsqlite3-dev:arm64
#
# How it finds things:
#   * The :arm64 libraries live in /usr/lib/aarch64-linux-gnu (multiarch), the
#     headers in /usr/include; the cross gcc searches both by itself.
#   * pkg-config: the host pkg-config is pointed at the arm64 .pc files only
#     (PKG_CONFIG_LIBDIR), so pkg_check_modules(... IMPORTED_TARGET libcbor)
#     resolves to /usr/lib/aarch64-linux-gnu/libcbor.so, never the host's.
#   * find_library/find_package: CMAKE_LIBRARY_ARCHITECTURE makes CMake look in
#     <prefix>/lib/aarch64-linux-gnu (and .../cmake/<pkg>) and never in the
#     host's x86_64-linux-gnu directories; programs come from the host.
#   * Tests: CMAKE_CROSSCOMPILING_EMULATOR runs every test binary with
#     qemu-aarch64.  "-L /" makes qemu resolve the ELF interpreter
#     /lib/ld-linux-aarch64.so.1 and the libraries against the host's root,
#     i.e. the multiarch libc6:arm64 that the :arm64 -dev packages pull in.
#     (Do not use -L /usr/aarch64-linux-gnu: that gives the ld.so of the
#     libc6-arm64-cross package, a different glibc build from the libc.so.6
#     that the dynamic loader then finds in /lib/aarch64-linux-gnu.)
#     Override with -DVIGIL_QEMU_LD_PREFIX=DIR for a sysroot elsewhere, e.g.
#     -DVIGIL_QEMU_LD_PREFIX=/usr/aarch64-linux-gnu for a program that links only
#     libc and so runs without the :arm64 packages.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(VIGIL_CROSS_TRIPLET aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${VIGIL_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${VIGIL_CROSS_TRIPLET}-g++) # unused (C only); needs g++-aarch64-linux-gnu
set(CMAKE_LIBRARY_ARCHITECTURE ${VIGIL_CROSS_TRIPLET})

# The cross toolchain's own sysroot (libc6-dev-arm64-cross) comes first; the
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
set(VIGIL_QEMU_LD_PREFIX "/" CACHE PATH "Root qemu-aarch64 resolves the target's loader and libraries in")
find_program(VIGIL_QEMU qemu-aarch64)
if(VIGIL_QEMU)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${VIGIL_QEMU} -L ${VIGIL_QEMU_LD_PREFIX})
endif()
