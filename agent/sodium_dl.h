/*
 * sodium_dl.h - libsodium for vigild, loaded when the first model bundle is
 * verified.
 *
 * Why: vigild needs Ed25519 only to verify model bundles, and most of its
 * life (every device before its first model, every device without a trust
 * key) it verifies none.  Linked, libsodium cost every vigild ~120 kB of
 * resident pages at start (relocation and its constructors touch its
 * text; docs/BENCHMARKS.md, vigild memory).  So vigild links no libsodium
 * (the COSE code in shared/vg_bundle.c calls its crypto through a
 * vg_crypto table) and vgd_sodium_load dlopen()s "libsodium.so.23"
 * (RTLD_NOW | RTLD_LOCAL) on the first bundle, from a persisted one at
 * start or one from the broker, and resolves the six functions of
 * vg_crypto.  sodium.h is included for the prototypes, so a libsodium whose
 * ABI changed fails to compile here, not to verify.  Packaging:
 * dpkg-shlibdeps cannot see a dlopen'ed library, so the package declares
 * libsodium23 by hand (CPACK_DEBIAN_PACKAGE_DEPENDS, top-level
 * CMakeLists.txt), as it does for Paho (agent/paho.h).
 *
 * Cost: one dlopen and six dlsym on the first call (about a millisecond,
 * mostly relocating libsodium); afterwards a pointer read.  The library
 * stays loaded for the life of the process.  Thread-safe (pthread_once).
 */
#ifndef VGD_SODIUM_DL_H
#define VGD_SODIUM_DL_H

#include <stddef.h>

#include "vg_bundle.h"

#define VGD_SODIUM_SONAME "libsodium.so.23" /* Debian package libsodium23 */
#define VGD_SODIUM_NFUNC  6                 /* entries of vg_crypto */

/* Loads libsodium once per process and returns its table in *out (every
 * entry non-NULL, valid for the life of the process).  VG_OK, or
 * VG_ECRYPTO with a message naming the library, the missing symbol and
 * dlerror() in err (the package to install is libsodium23); a failed load
 * is not retried, every later call gives the same status and message. */
int vgd_sodium_load(const vg_crypto **out, char *err, size_t errlen);

#endif
