/*
 * vg_hex.h - hex text <-> bytes, for key files and logs.
 *
 * Key files are text: the key's bytes in lowercase hex on one line
 * (64 hex digits for an Ed25519 public key, 128 for a secret key), so they
 * can be pasted, diffed and checked by eye.  O(length), no allocation.
 */
#ifndef VG_HEX_H
#define VG_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Decodes exactly `n` bytes from hex text s[0..len), ignoring leading and
 * trailing whitespace.  VG_ESYNTAX on a bad digit or a length other than
 * 2n. */
int vg_hex_decode(const char *s, size_t len, uint8_t *out, size_t n);

/* Writes 2n lowercase hex digits and a NUL to out (2n + 1 bytes). */
void vg_hex_encode(const uint8_t *in, size_t n, char *out);

#endif
