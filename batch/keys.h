/*
 * keys.h - Ed25519 key files for bundle signing (hex text, vg_hex.h):
 * 64 hex digits for a public key, 128 for a secret key, one line each.
 * Cost: one small file read or write.
 */
#ifndef VB_KEYS_H
#define VB_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "vg_bundle.h"

/* Reads `n` key bytes from hex file `path`.  VG_EIO when unreadable,
 * VG_ESYNTAX when not exactly 2n hex digits; message in err. */
int vb_key_read(const char *path, uint8_t *key, size_t n, char *err, size_t errlen);

/* Makes a key pair and writes PREFIX.pub (0644) and PREFIX.key (0600).
 * Refuses to overwrite an existing file (VG_EEXIST). */
int vb_keygen_files(const char *prefix, char *err, size_t errlen);

/* The public half of a libsodium Ed25519 secret key (its last 32 bytes). */
void vb_key_public(const uint8_t sk[VG_SK_BYTES], uint8_t pk[VG_PK_BYTES]);

#endif
