/*
 * vg_bundle.h - signed model bundles: COSE_Sign1 (RFC 9052) with Ed25519.
 *
 *   bundle = #6.18([ protected: bstr .cbor {1: -8},   ; alg: EdDSA
 *                    unprotected: {4: bstr},          ; kid: key id
 *                    payload: bstr .cbor model,       ; vg_model_encode()
 *                    signature: bstr .size 64 ])
 *
 * The signature covers Sig_structure = ["Signature1", protected, h'', payload]
 * exactly as RFC 9052 section 4.4 specifies, so any COSE library can verify
 * our bundles and we can verify theirs.  Keys are libsodium Ed25519 keys:
 * 32-byte public, 64-byte secret.
 */
#ifndef VG_BUNDLE_H
#define VG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "vg_model.h"

#define VG_PK_BYTES         32
#define VG_SK_BYTES         64
#define VG_SIG_BYTES        64
#define VG_BUNDLE_MAX_BYTES (64u * 1024u)

/* Initialises libsodium; idempotent and thread-safe (libsodium's own
 * guarantee).  VG_ECRYPTO on failure. */
int vg_crypto_init(void);

/* Makes a new key pair. */
int vg_keygen(uint8_t pk[VG_PK_BYTES], uint8_t sk[VG_SK_BYTES]);

/* Encodes *m and signs it into a COSE_Sign1 bundle in buf[0..cap). */
int vg_bundle_sign(const vg_model *m, const uint8_t sk[VG_SK_BYTES], uint8_t *buf, size_t cap,
                   size_t *len);

/* Verifies and decodes a bundle:
 *   VG_EDECODE/VG_ETRUNC/VG_ETOOBIG  not a well-formed COSE_Sign1 bundle
 *   VG_ESIG       signature does not verify under pk, or alg is not EdDSA
 *   VG_EDEVICE    model is for a device other than `device` (NULL: any)
 *   VG_EVERSION   model version <= `current_version`
 * On VG_OK *out holds the model.  Envelope checks are the engine's job
 * (vg_engine_check_model). */
int vg_bundle_open(const uint8_t *buf, size_t len, const uint8_t pk[VG_PK_BYTES],
                   const char *device, uint64_t current_version, vg_model *out);

#endif
