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
 *
 * The COSE codec (vg_bundle.c) calls its crypto through a vg_crypto table
 * and links no crypto library; vg_bundle_sodium.c binds the table to a
 * linked libsodium and keeps the historical entry points (vg_bundle_open,
 * vg_bundle_sign, vg_keygen, vg_crypto_init).  A program that references
 * only the *_with functions (vigild) never pulls vg_bundle_sodium.o out of
 * the static core, so with --as-needed it does not even list libsodium.
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

/* The primitives a bundle needs, with libsodium's own signatures so that
 * libsodium's functions fill a table as they are (crypto_* names in the
 * comments).  Every entry is non-NULL in a table given to the *_with
 * functions below.  Two providers: vg_crypto_sodium() (vg_bundle_sodium.c,
 * libsodium linked, for vigil-batch, vigilctl, the tools and the tests) and
 * vigild's run-time loader (agent/sodium_dl.h), which maps libsodium only
 * when the first bundle is verified. */
typedef struct vg_crypto {
    int (*init)(void);                                           /* sodium_init: < 0 on failure */
    int (*keypair)(unsigned char *pk, unsigned char *sk);        /* crypto_sign_keypair */
    int (*sk_to_pk)(unsigned char *pk, const unsigned char *sk); /* crypto_sign_ed25519_sk_to_pk */
    int (*sign)(unsigned char *sig, unsigned long long *siglen, const unsigned char *m,
                unsigned long long mlen, const unsigned char *sk); /* crypto_sign_detached */
    int (*verify)(const unsigned char *sig, const unsigned char *m, unsigned long long mlen,
                  const unsigned char *pk); /* crypto_sign_verify_detached */
    int (*hash)(unsigned char *out, size_t outlen, const unsigned char *in,
                unsigned long long inlen, const unsigned char *key,
                size_t keylen); /* crypto_generichash (BLAKE2b) */
} vg_crypto;

/* ---- through a vg_crypto table (vg_bundle.c: no crypto library linked) */

/* vg_bundle_sign through table c (same contract as vg_bundle_sign). */
int vg_bundle_sign_with(const vg_crypto *c, const vg_model *m, const uint8_t sk[VG_SK_BYTES],
                        uint8_t *buf, size_t cap, size_t *len);

/* vg_bundle_open through table c (same contract as vg_bundle_open). */
int vg_bundle_open_with(const vg_crypto *c, const uint8_t *buf, size_t len,
                        const uint8_t pk[VG_PK_BYTES], const char *device, uint64_t current_version,
                        vg_model *out);

/* ---- with libsodium linked (vg_bundle_sodium.c) ----------------------- */

/* libsodium's functions as a vg_crypto table (static, never NULL). */
const vg_crypto *vg_crypto_sodium(void);

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
