/*
 * vg_bundle.c - signed model bundles: COSE_Sign1 (RFC 9052) with Ed25519
 * through a vg_crypto table (libsodium's functions, linked or loaded by
 * the caller), as declared in vg_bundle.h.  This file links no crypto
 * library; vg_bundle_sodium.c binds the table to a linked libsodium.
 *
 * Wire form (docs/schema.cddl has the CDDL):
 *
 *   d2                       tag 18, COSE_Sign1
 *   84                       array of 4
 *   43 a1 01 27              protected: bstr .cbor {1: -8}   (alg: EdDSA)
 *   a1 04 48 <kid: 8 bytes>  unprotected: {4: kid}
 *   5x .. <payload>          payload: bstr .cbor model (vg_model_encode())
 *   58 40 <sig: 64 bytes>    signature: Ed25519 over the Sig_structure
 *
 *   Sig_structure = ["Signature1", protected, h'', payload]   (RFC 9052 4.4)
 *
 * kid is the first 8 bytes of BLAKE2b-256 (the table's hash, i.e. libsodium's
 * crypto_generichash,
 * unkeyed, 32-byte output) of the 32-byte Ed25519 public key.  It is a hint,
 * not part of what is signed, so vg_bundle_open() checks that, when present,
 * it names the key it was given (else VG_ESIG): a bundle is never accepted
 * with a kid that is not the verifier's.
 *
 * Signing needs no extra memory: the bundle's prefix up to the payload head
 * (tag, array head, protected, unprotected) and the Sig_structure's prefix
 * up to the payload head (array head, "Signature1", protected, h'') are both
 * 17 bytes, and both end with the same bstr-wrapped payload.  So the
 * Sig_structure is laid out in the output buffer, signed in place, and its
 * prefix then overwritten with the bundle's.  Verifying must not write to
 * the caller's buffer, so it rebuilds the Sig_structure in a stack buffer of
 * VG_BUNDLE_MAX_BYTES (64 KiB): callers on small thread stacks take note.
 *
 * Order of checks in vg_bundle_open(): size, COSE structure (VG_EDECODE /
 * VG_ETRUNC), algorithm, signature length and kid (VG_ESIG), the signature
 * itself (VG_ESIG), and only then the payload is decoded (vg_model_decode()
 * codes), the device (VG_EDEVICE) and the version (VG_EVERSION) checked.
 *
 * Cost: one Ed25519 signature or verification over the payload (tens of
 * microseconds for a typical model of a few KiB) plus O(bytes) codecs.
 */
#include <string.h>

#include "vg_bundle.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

#define BUNDLE__TAG       18 /* COSE_Sign1_Tagged */
#define BUNDLE__ALG_EDDSA (-8)
#define BUNDLE__HDR_ALG   1
#define BUNDLE__HDR_KID   4
#define BUNDLE__KID_BYTES 8
#define BUNDLE__PREFIX    17 /* both prefixes, see the file comment */
#define BUNDLE__HEAD_MAX  5  /* largest bstr head for a payload < 4 GiB */

/* Protected header bytes we write: {1: -8}. */
static const uint8_t bundle__protected[] = {0xa1, 0x01, 0x27};
static const char bundle__context[] = "Signature1";

/* Pieces of a parsed COSE_Sign1; pointers into the bundle. */
typedef struct bundle__parts {
    const uint8_t *prot; /* protected header bytes (bstr content) */
    size_t prot_len;
    const uint8_t *kid; /* kid bytes, NULL when absent */
    size_t kid_len;
    const uint8_t *payload; /* model payload bytes */
    size_t payload_len;
    const uint8_t *sig; /* signature bytes */
    size_t sig_len;
} bundle__parts;

/* Initialises the table's library (init() returns 0, or 1 when already
 * done, < 0 on failure). */
static int bundle__init(const vg_crypto *c)
{
    return c->init() < 0 ? VG_ECRYPTO : VG_OK;
}

/* kid[8] of public key pk (see the file comment). */
static void bundle__kid(const vg_crypto *c, const uint8_t pk[VG_PK_BYTES],
                        uint8_t kid[BUNDLE__KID_BYTES])
{
    uint8_t h[32];
    c->hash(h, sizeof h, pk, VG_PK_BYTES, NULL, 0);
    memcpy(kid, h, BUNDLE__KID_BYTES);
}

/* Writes the start of the Sig_structure, up to the payload head:
 * 84 6a "Signature1" <bstr protected> 40. */
static int bundle__put_tbs_prefix(vg_cbor_writer *w, const uint8_t *prot, size_t prot_len)
{
    vg_cbor_put_array(w, 4);
    vg_cbor_put_text(w, bundle__context, sizeof bundle__context - 1);
    vg_cbor_put_bytes(w, prot, prot_len);
    return vg_cbor_put_bytes(w, NULL, 0);
}

/* Writes the start of the bundle, up to the payload head:
 * d2 84 <bstr protected> a1 04 48 <kid>. */
static int bundle__put_cose_prefix(vg_cbor_writer *w, const uint8_t kid[BUNDLE__KID_BYTES])
{
    vg_cbor_put_tag(w, BUNDLE__TAG);
    vg_cbor_put_array(w, 4);
    vg_cbor_put_bytes(w, bundle__protected, sizeof bundle__protected);
    vg_cbor_put_map(w, 1);
    vg_cbor_put_uint(w, BUNDLE__HDR_KID);
    return vg_cbor_put_bytes(w, kid, BUNDLE__KID_BYTES);
}

/* Writes one of the two 17-byte prefixes at buf[0..17). */
static int bundle__put_prefix(uint8_t *buf, bool cose, const uint8_t kid[BUNDLE__KID_BYTES])
{
    vg_cbor_writer w;
    size_t n = 0;
    vg_cbor_writer_init(&w, buf, BUNDLE__PREFIX);
    if (cose)
        bundle__put_cose_prefix(&w, kid);
    else
        bundle__put_tbs_prefix(&w, bundle__protected, sizeof bundle__protected);
    int rc = vg_cbor_writer_finish(&w, &n);
    return rc == VG_OK && n == BUNDLE__PREFIX ? VG_OK : VG_EINVAL;
}

/* Encodes *m at buf + 17 + head, bstr-wrapped; *end = bytes used. */
static int bundle__put_payload(const vg_model *m, uint8_t *buf, size_t cap, size_t *end)
{
    const size_t at = BUNDLE__PREFIX + BUNDLE__HEAD_MAX;
    size_t plen = 0, hlen = 0;
    if (cap < at)
        return VG_ENOSPC;
    int rc = vg_model_encode(m, buf + at, cap - at, &plen);
    if (rc != VG_OK)
        return rc;
    uint8_t head[BUNDLE__HEAD_MAX];
    vg_cbor_writer w;
    vg_cbor_writer_init(&w, head, sizeof head);
    vg_cbor_put_bytes_head(&w, plen);
    rc = vg_cbor_writer_finish(&w, &hlen);
    if (rc != VG_OK)
        return rc;
    memmove(buf + BUNDLE__PREFIX + hlen, buf + at, plen);
    memcpy(buf + BUNDLE__PREFIX, head, hlen);
    *end = BUNDLE__PREFIX + hlen + plen;
    return VG_OK;
}

/* Contract in vg_bundle.h: *c, *m and sk are only read; buf[0..cap) is
 * scratch until VG_OK, then holds the bundle (see the file comment). */
int vg_bundle_sign_with(const vg_crypto *c, const vg_model *m, const uint8_t sk[VG_SK_BYTES],
                        uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t pk[VG_PK_BYTES], kid[BUNDLE__KID_BYTES], sig[VG_SIG_BYTES];
    size_t end = 0, total = 0;
    if (!c || !m || !sk || !buf || !len)
        return VG_EINVAL;
    if (bundle__init(c) != VG_OK)
        return VG_ECRYPTO;
    c->sk_to_pk(pk, sk);
    bundle__kid(c, pk, kid);
    int rc = bundle__put_payload(m, buf, cap, &end);
    if (rc == VG_OK)
        rc = bundle__put_prefix(buf, false, kid);
    if (rc == VG_OK && c->sign(sig, NULL, buf, end, sk) != 0)
        rc = VG_ECRYPTO;
    if (rc == VG_OK)
        rc = bundle__put_prefix(buf, true, kid);
    if (rc != VG_OK)
        return rc;
    vg_cbor_writer w;
    vg_cbor_writer_init(&w, buf + end, cap - end);
    vg_cbor_put_bytes(&w, sig, sizeof sig);
    rc = vg_cbor_writer_finish(&w, &total);
    if (rc == VG_OK && end + total > VG_BUNDLE_MAX_BYTES)
        rc = VG_ETOOBIG;
    if (rc == VG_OK)
        *len = end + total;
    return rc;
}

/* ---- opening ---- */

/* Reads the unprotected header map: empty, or exactly {4: kid}. */
static int bundle__get_unprotected(vg_cbor_reader *r, bundle__parts *pt)
{
    uint64_t n, key;
    int rc = vg_cbor_read_map(r, &n);
    if (rc != VG_OK || n == 0)
        return rc;
    if (n != 1)
        return VG_EDECODE;
    rc = vg_cbor_read_uint(r, &key);
    if (rc == VG_OK && key != BUNDLE__HDR_KID)
        rc = VG_EDECODE;
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(r, &pt->kid, &pt->kid_len);
    return rc;
}

/* Splits a COSE_Sign1_Tagged into its parts (structure only). */
static int bundle__parse(const uint8_t *buf, size_t len, bundle__parts *pt)
{
    vg_cbor_reader r;
    uint64_t tag, n;
    memset(pt, 0, sizeof(*pt));
    vg_cbor_reader_init(&r, buf, len);
    int rc = vg_cbor_read_tag(&r, &tag);
    if (rc == VG_OK && tag != BUNDLE__TAG)
        rc = VG_EDECODE;
    if (rc == VG_OK)
        rc = vg_cbor_read_array(&r, &n);
    if (rc == VG_OK && n != 4)
        rc = VG_EDECODE;
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(&r, &pt->prot, &pt->prot_len);
    if (rc == VG_OK)
        rc = bundle__get_unprotected(&r, pt);
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(&r, &pt->payload, &pt->payload_len);
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(&r, &pt->sig, &pt->sig_len);
    if (rc == VG_OK && vg_cbor_remaining(&r) != 0)
        rc = VG_EDECODE;
    return rc;
}

/* Checks that the protected header is exactly {1: -8}: VG_ESIG when alg
 * is absent or not EdDSA, VG_EDECODE when the map is malformed or has
 * other parameters. */
static int bundle__check_protected(const uint8_t *p, size_t len)
{
    vg_cbor_reader r;
    uint64_t n, key;
    int64_t alg;
    if (len == 0)
        return VG_ESIG; /* no protected header: no alg */
    vg_cbor_reader_init(&r, p, len);
    if (vg_cbor_read_map(&r, &n) != VG_OK)
        return VG_EDECODE;
    if (n == 0)
        return VG_ESIG; /* no alg */
    if (n != 1)
        return VG_EDECODE;
    if (vg_cbor_read_uint(&r, &key) != VG_OK)
        return VG_EDECODE;
    if (key != BUNDLE__HDR_ALG)
        return VG_ESIG; /* the one parameter is not alg */
    if (vg_cbor_read_int(&r, &alg) != VG_OK || vg_cbor_remaining(&r) != 0)
        return VG_EDECODE;
    return alg == BUNDLE__ALG_EDDSA ? VG_OK : VG_ESIG;
}

/* Checks alg, signature length and kid against pk. */
static int bundle__check_header(const vg_crypto *c, const bundle__parts *pt,
                                const uint8_t pk[VG_PK_BYTES])
{
    int rc = bundle__check_protected(pt->prot, pt->prot_len);
    if (rc != VG_OK)
        return rc;
    if (pt->sig_len != VG_SIG_BYTES)
        return VG_ESIG;
    if (pt->kid) {
        uint8_t kid[BUNDLE__KID_BYTES];
        bundle__kid(c, pk, kid);
        if (pt->kid_len != BUNDLE__KID_BYTES || memcmp(kid, pt->kid, sizeof kid) != 0)
            return VG_ESIG;
    }
    return VG_OK;
}

/* Rebuilds the Sig_structure in a stack buffer and verifies pt->sig. */
static int bundle__verify(const vg_crypto *c, const bundle__parts *pt,
                          const uint8_t pk[VG_PK_BYTES])
{
    uint8_t tbs[VG_BUNDLE_MAX_BYTES];
    vg_cbor_writer w;
    size_t n = 0;
    vg_cbor_writer_init(&w, tbs, sizeof tbs);
    bundle__put_tbs_prefix(&w, pt->prot, pt->prot_len);
    vg_cbor_put_bytes(&w, pt->payload, pt->payload_len);
    int rc = vg_cbor_writer_finish(&w, &n);
    if (rc != VG_OK)
        return VG_ETOOBIG;
    return c->verify(pt->sig, tbs, n, pk) == 0 ? VG_OK : VG_ESIG;
}

/* Contract in vg_bundle.h (*c is only read).  In addition, on VG_EDEVICE
 * and VG_EVERSION *out holds the verified model, so the caller can ack its
 * version; after any other error *out is unspecified. */
int vg_bundle_open_with(const vg_crypto *c, const uint8_t *buf, size_t len,
                        const uint8_t pk[VG_PK_BYTES], const char *device, uint64_t current_version,
                        vg_model *out)
{
    bundle__parts pt;
    if (!c || !buf || !pk || !out)
        return VG_EINVAL;
    if (len > VG_BUNDLE_MAX_BYTES)
        return VG_ETOOBIG;
    if (bundle__init(c) != VG_OK)
        return VG_ECRYPTO;
    int rc = bundle__parse(buf, len, &pt);
    if (rc == VG_OK)
        rc = bundle__check_header(c, &pt, pk);
    if (rc == VG_OK)
        rc = bundle__verify(c, &pt, pk);
    if (rc == VG_OK)
        rc = vg_model_decode(pt.payload, pt.payload_len, out);
    if (rc == VG_OK && device && strcmp(out->device, device) != 0)
        rc = VG_EDEVICE;
    if (rc == VG_OK && out->version <= current_version)
        rc = VG_EVERSION;
    return rc;
}
