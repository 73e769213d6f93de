/*
 * test_bundle.c - unit tests of signed model bundles (vg_bundle).
 *
 * Bundles are also built here independently of vg_bundle.c, with libcbor's
 * encoders and libsodium's crypto_sign_detached() over a Sig_structure
 * written out by hand, so that the tests check the wire format against
 * RFC 9052 rather than against the code's own idea of it.  Ed25519 is
 * deterministic, which lets a test compare signatures byte for byte.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cbor.h>
#include <sodium.h>

#include "vg_bundle.h"
#include "vg_error.h"
#include "vg_msg.h"

/* A fixed key pair from a fixed seed, so every run signs the same bytes. */
typedef struct tkeys {
    uint8_t pk[VG_PK_BYTES];
    uint8_t sk[VG_SK_BYTES];
} tkeys;

static tkeys keys_from(uint8_t seed_byte)
{
    tkeys k;
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, seed_byte, sizeof seed);
    CU_ASSERT_FATAL(vg_crypto_init() == VG_OK);
    crypto_sign_seed_keypair(k.pk, k.sk, seed);
    return k;
}

static void sample_model(vg_model *m, const char *device, uint64_t version)
{
    memset(m, 0, sizeof *m);
    strcpy(m->device, device);
    m->version = version;
    m->created_us = 1700000000000000;
    m->train_from_us = 1690000000000000;
    m->train_to_us = 1699000000000000;
    m->nchan = 2;
    vg_chan_model_clear(&m->chan[0], "temp");
    m->chan[0].hi = 80;
    m->chan[0].loc = 21.5;
    m->chan[0].scale = 0.75;
    vg_chan_model_clear(&m->chan[1], "pressure");
    m->chan[1].cusum_k = 0.5;
    m->chan[1].cusum_h = 5;
}

static void kid_of(const uint8_t pk[VG_PK_BYTES], uint8_t kid[8])
{
    uint8_t h[32];
    crypto_generichash(h, sizeof h, pk, VG_PK_BYTES, NULL, 0);
    memcpy(kid, h, 8);
}

/* ---- an independent bundle builder ---- */

typedef struct tb {
    uint8_t *buf;
    size_t cap;
    size_t len;
} tb;

static void tb_took(tb *b, size_t n)
{
    CU_ASSERT_FATAL(n > 0);
    b->len += n;
}

#define TB_ROOM(b) (b)->buf + (b)->len, (b)->cap - (b)->len

static void tb_bytes(tb *b, const void *p, size_t n)
{
    tb_took(b, cbor_encode_bytestring_start(n, TB_ROOM(b)));
    CU_ASSERT_FATAL(b->cap - b->len >= n);
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
}

enum { U_KID, U_EMPTY, U_KID_ALG, U_OTHER };

typedef struct bspec {
    int tag;             /* -1: untagged */
    size_t items;        /* array length (4 for COSE_Sign1) */
    const uint8_t *prot; /* protected header bytes */
    size_t prot_len;
    int unprot;         /* U_* */
    const uint8_t *kid; /* for U_KID / U_KID_ALG / U_OTHER */
    size_t kid_len;
    const uint8_t *payload; /* NULL: nil */
    size_t payload_len;
    size_t sig_len;    /* 64, or a wrong length */
    bool corrupt_sig;  /* flip a bit of the signature */
    const uint8_t *sk; /* signing key */
} bspec;

/* The RFC 9052 Sig_structure of (prot, payload), built with libcbor. */
static size_t tbs_of(const uint8_t *prot, size_t prot_len, const uint8_t *payload, size_t plen,
                     uint8_t *out, size_t cap)
{
    tb b = {out, cap, 0};
    tb_took(&b, cbor_encode_array_start(4, TB_ROOM(&b)));
    tb_took(&b, cbor_encode_string_start(10, TB_ROOM(&b)));
    memcpy(b.buf + b.len, "Signature1", 10);
    b.len += 10;
    tb_bytes(&b, prot, prot_len);
    tb_bytes(&b, NULL, 0);
    tb_bytes(&b, payload, plen);
    return b.len;
}

static void put_unprotected(tb *b, const bspec *s)
{
    size_t n = s->unprot == U_EMPTY ? 0 : s->unprot == U_KID_ALG ? 2 : 1;
    tb_took(b, cbor_encode_map_start(n, TB_ROOM(b)));
    if (n == 0)
        return;
    tb_took(b, cbor_encode_uint(s->unprot == U_OTHER ? 5 : 4, TB_ROOM(b)));
    tb_bytes(b, s->kid, s->kid_len);
    if (s->unprot == U_KID_ALG) {
        tb_took(b, cbor_encode_uint(1, TB_ROOM(b)));
        tb_took(b, cbor_encode_negint(7, TB_ROOM(b)));
    }
}

static size_t build_bundle(const bspec *s, uint8_t *out, size_t cap)
{
    uint8_t tbs[16384], sig[VG_SIG_BYTES + 1] = {0};
    size_t n = tbs_of(s->prot, s->prot_len, s->payload, s->payload_len, tbs, sizeof tbs);
    crypto_sign_detached(sig, NULL, tbs, n, s->sk);
    if (s->corrupt_sig)
        sig[10] ^= 0x04;
    tb b = {out, cap, 0};
    if (s->tag >= 0)
        tb_took(&b, cbor_encode_tag((uint64_t)s->tag, TB_ROOM(&b)));
    tb_took(&b, cbor_encode_array_start(s->items, TB_ROOM(&b)));
    tb_bytes(&b, s->prot, s->prot_len);
    put_unprotected(&b, s);
    if (s->payload)
        tb_bytes(&b, s->payload, s->payload_len);
    else
        tb_took(&b, cbor_encode_null(TB_ROOM(&b)));
    if (s->items >= 4)
        tb_bytes(&b, sig, s->sig_len);
    if (s->items >= 5)
        tb_took(&b, cbor_encode_null(TB_ROOM(&b)));
    return b.len;
}

static const uint8_t prot_eddsa[] = {0xa1, 0x01, 0x27};

/* A valid spec for `payload` signed by k (kid included). */
static bspec good_spec(const tkeys *k, const uint8_t kid[8], const uint8_t *payload, size_t plen)
{
    bspec s = {.tag = 18,
               .items = 4,
               .prot = prot_eddsa,
               .prot_len = sizeof prot_eddsa,
               .unprot = U_KID,
               .kid = kid,
               .kid_len = 8,
               .payload = payload,
               .payload_len = plen,
               .sig_len = VG_SIG_BYTES,
               .sk = k->sk};
    return s;
}

/* ---- tests ---- */

static void expect_model_equal(const vg_model *a, const vg_model *b)
{
    CU_ASSERT_STRING_EQUAL(a->device, b->device);
    CU_ASSERT_EQUAL(a->version, b->version);
    CU_ASSERT_EQUAL(a->created_us, b->created_us);
    CU_ASSERT_EQUAL(a->train_from_us, b->train_from_us);
    CU_ASSERT_EQUAL(a->train_to_us, b->train_to_us);
    CU_ASSERT_EQUAL_FATAL(a->nchan, b->nchan);
    for (uint32_t i = 0; i < a->nchan; i++) {
        const vg_chan_model *x = &a->chan[i], *y = &b->chan[i];
        CU_ASSERT_STRING_EQUAL(x->name, y->name);
        const double xs[] = {x->lo,          x->hi,      x->loc,     x->scale,   x->z_thr,
                             x->ewma_lambda, x->ewma_l,  x->cusum_k, x->cusum_h, x->rate_max,
                             x->stuck_eps,   x->stuck_n, x->stale_s};
        const double ys[] = {y->lo,          y->hi,      y->loc,     y->scale,   y->z_thr,
                             y->ewma_lambda, y->ewma_l,  y->cusum_k, y->cusum_h, y->rate_max,
                             y->stuck_eps,   y->stuck_n, y->stale_s};
        for (int k = 0; k < 13; k++)
            CU_ASSERT((isnan(xs[k]) && isnan(ys[k])) || xs[k] == ys[k]);
    }
}

static void test_round_trip(void)
{
    tkeys k = keys_from(0x42);
    vg_model m, out;
    sample_model(&m, "pump-7", 3);
    uint8_t buf[4096];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_bundle_open(buf, len, k.pk, "pump-7", 2, &out), VG_OK);
    expect_model_equal(&m, &out);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, NULL, 0, &out), VG_OK);
    /* signing is deterministic */
    uint8_t again[4096];
    size_t len2 = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, again, sizeof again, &len2), VG_OK);
    CU_ASSERT_EQUAL(len2, len);
    CU_ASSERT_EQUAL(memcmp(buf, again, len), 0);
}

static void test_layout_and_sig_structure(void)
{
    tkeys k = keys_from(0x17);
    vg_model m;
    sample_model(&m, "pump-7", 9);
    uint8_t payload[2048], buf[4096];
    size_t plen = 0, len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, payload, sizeof payload, &plen), VG_OK);
    CU_ASSERT_FATAL(plen >= 24 && plen < 256); /* bstr head 0x58 <len> */
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    /* d2 84 43 a1 01 27 a1 04 48 <kid> 58 <plen> <payload> 58 40 <sig> */
    uint8_t kid[8];
    kid_of(k.pk, kid);
    static const uint8_t head[] = {0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa1, 0x04, 0x48};
    CU_ASSERT_EQUAL_FATAL(len, 9 + 8 + 2 + plen + 2 + 64);
    CU_ASSERT_EQUAL(memcmp(buf, head, 9), 0);
    CU_ASSERT_EQUAL(memcmp(buf + 9, kid, 8), 0);
    CU_ASSERT_EQUAL(buf[17], 0x58);
    CU_ASSERT_EQUAL(buf[18], plen);
    CU_ASSERT_EQUAL(memcmp(buf + 19, payload, plen), 0);
    CU_ASSERT_EQUAL(buf[19 + plen], 0x58);
    CU_ASSERT_EQUAL(buf[20 + plen], 0x40);
    const uint8_t *sig = buf + 21 + plen;
    /* Sig_structure = ["Signature1", h'a10127', h'', payload], by hand */
    static const uint8_t tbs_head[] = {0x84, 0x6a, 'S', 'i',  'g',  'n',  'a',  't',  'u',
                                       'r',  'e',  '1', 0x43, 0xa1, 0x01, 0x27, 0x40, 0x58};
    uint8_t tbs[4096];
    memcpy(tbs, tbs_head, sizeof tbs_head);
    tbs[sizeof tbs_head] = (uint8_t)plen;
    memcpy(tbs + sizeof tbs_head + 1, payload, plen);
    size_t tbs_len = sizeof tbs_head + 1 + plen;
    uint8_t want_sig[VG_SIG_BYTES];
    crypto_sign_detached(want_sig, NULL, tbs, tbs_len, k.sk);
    CU_ASSERT_EQUAL(memcmp(sig, want_sig, VG_SIG_BYTES), 0);
    CU_ASSERT_EQUAL(crypto_sign_verify_detached(sig, tbs, tbs_len, k.pk), 0);
    /* the libcbor-built Sig_structure is the same bytes */
    uint8_t tbs2[4096];
    size_t n2 = tbs_of(prot_eddsa, sizeof prot_eddsa, payload, plen, tbs2, sizeof tbs2);
    CU_ASSERT_EQUAL(n2, tbs_len);
    CU_ASSERT_EQUAL(memcmp(tbs, tbs2, tbs_len), 0);
}

static void test_every_bit_flip(void)
{
    tkeys k = keys_from(0x42);
    vg_model m, out;
    sample_model(&m, "pump-7", 3);
    uint8_t buf[4096], bad[4096];
    size_t len = 0, accepted = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memcpy(bad, buf, len);
            bad[i] ^= (uint8_t)(1u << bit);
            int rc = vg_bundle_open(bad, len, k.pk, "pump-7", 2, &out);
            if (rc == VG_OK) {
                fprintf(stderr, "\n  bit %d of byte %zu flipped: accepted\n", bit, i);
                accepted++;
            }
        }
    }
    CU_ASSERT_EQUAL(accepted, 0);
}

static void test_truncation_and_trailing(void)
{
    tkeys k = keys_from(0x42);
    vg_model m, out;
    sample_model(&m, "pump-7", 3);
    uint8_t buf[4096];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    for (size_t n = 0; n < len; n++) {
        uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees over-reads */
        memcpy(copy, buf, n);
        int rc = vg_bundle_open(copy, n, k.pk, NULL, 0, &out);
        if (rc != VG_ETRUNC)
            fprintf(stderr, "\n  truncated to %zu: %s\n", n, vg_errname(rc));
        CU_ASSERT_EQUAL(rc, VG_ETRUNC);
        free(copy);
    }
    buf[len] = 0x00;
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len + 1, k.pk, NULL, 0, &out), VG_EDECODE);
    uint8_t *big = calloc(1, VG_BUNDLE_MAX_BYTES + 1);
    memcpy(big, buf, len);
    CU_ASSERT_EQUAL(vg_bundle_open(big, VG_BUNDLE_MAX_BYTES + 1, k.pk, NULL, 0, &out), VG_ETOOBIG);
    free(big);
}

static void test_key_device_version(void)
{
    tkeys k = keys_from(0x42), other = keys_from(0x43);
    vg_model m, out;
    sample_model(&m, "pump-7", 3);
    uint8_t buf[4096];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, other.pk, "pump-7", 0, &out), VG_ESIG);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-8", 0, &out), VG_EDEVICE);
    CU_ASSERT_EQUAL(out.version, 3); /* the verified model, for the ack */
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-", 0, &out), VG_EDEVICE);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-7", 3, &out), VG_EVERSION);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-7", 4, &out), VG_EVERSION);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-7", UINT64_MAX, &out), VG_EVERSION);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-7", 2, &out), VG_OK);
    CU_ASSERT_EQUAL(vg_bundle_open(NULL, len, k.pk, "pump-7", 2, &out), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, NULL, "pump-7", 2, &out), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, k.pk, "pump-7", 2, NULL), VG_EINVAL);
}

/* One hand-built variant and the status vg_bundle_open() must give. */
static void expect_spec(const char *what, const bspec *s, const uint8_t pk[VG_PK_BYTES], int want)
{
    uint8_t buf[8192];
    vg_model out;
    size_t len = build_bundle(s, buf, sizeof buf);
    int rc = vg_bundle_open(buf, len, pk, "pump-7", 0, &out);
    if (rc != want)
        fprintf(stderr, "\n  %s: got %s, want %s\n", what, vg_errname(rc), vg_errname(want));
    CU_ASSERT_EQUAL(rc, want);
}

static void test_hand_built(void)
{
    tkeys k = keys_from(0x42), other = keys_from(0x43);
    uint8_t kid[8], other_kid[8];
    kid_of(k.pk, kid);
    kid_of(other.pk, other_kid);
    vg_model m;
    sample_model(&m, "pump-7", 3);
    uint8_t payload[2048];
    size_t plen = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, payload, sizeof payload, &plen), VG_OK);
    bspec s = good_spec(&k, kid, payload, plen);
    expect_spec("independently built", &s, k.pk, VG_OK);
    s.unprot = U_EMPTY;
    expect_spec("no kid", &s, k.pk, VG_OK);
    expect_spec("no kid, wrong key", &s, other.pk, VG_ESIG);
    s = good_spec(&k, kid, payload, plen);
    s.kid = other_kid;
    expect_spec("kid of another key", &s, k.pk, VG_ESIG);
    s.kid = kid;
    s.kid_len = 7;
    expect_spec("7-byte kid", &s, k.pk, VG_ESIG);
    s = good_spec(&k, kid, payload, plen);
    s.unprot = U_KID_ALG;
    expect_spec("extra unprotected parameter", &s, k.pk, VG_EDECODE);
    s.unprot = U_OTHER;
    expect_spec("unprotected without kid", &s, k.pk, VG_EDECODE);
    const int tags[] = {17, 98, 19, -1};
    for (size_t i = 0; i < 4; i++) {
        s = good_spec(&k, kid, payload, plen);
        s.tag = tags[i];
        expect_spec("not tag 18", &s, k.pk, VG_EDECODE);
    }
    s = good_spec(&k, kid, payload, plen);
    s.items = 3;
    expect_spec("array of 3", &s, k.pk, VG_EDECODE);
    s.items = 5;
    expect_spec("array of 5", &s, k.pk, VG_EDECODE);
    s = good_spec(&k, kid, payload, plen);
    s.sig_len = 63;
    expect_spec("63-byte signature", &s, k.pk, VG_ESIG);
    s.sig_len = 65;
    expect_spec("65-byte signature", &s, k.pk, VG_ESIG);
    s = good_spec(&k, kid, payload, plen);
    s.corrupt_sig = true;
    expect_spec("corrupt signature", &s, k.pk, VG_ESIG);
    s = good_spec(&k, kid, NULL, 0);
    expect_spec("nil (detached) payload", &s, k.pk, VG_EDECODE);
}

static void test_protected_header(void)
{
    tkeys k = keys_from(0x42);
    uint8_t kid[8];
    kid_of(k.pk, kid);
    vg_model m;
    sample_model(&m, "pump-7", 3);
    uint8_t payload[2048];
    size_t plen = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, payload, sizeof payload, &plen), VG_OK);
    static const uint8_t es256[] = {0xa1, 0x01, 0x26};
    static const uint8_t empty_map[] = {0xa0};
    static const uint8_t alg_and_kid[] = {0xa2, 0x01, 0x27, 0x04, 0x41, 0x00};
    static const uint8_t kid_only[] = {0xa1, 0x04, 0x41, 0x00};
    static const uint8_t not_map[] = {0x01};
    static const uint8_t trailing[] = {0xa1, 0x01, 0x27, 0x00};
    static const uint8_t text_alg[] = {0xa1, 0x01, 0x65, 'E', 'd', 'D', 'S', 'A'};
    static const uint8_t nonmin[] = {0xa1, 0x18, 0x01, 0x38, 0x07}; /* {1: -8}, long heads */
    struct {
        const char *what;
        const uint8_t *p;
        size_t n;
        int want;
    } cases[] = {
        {"alg ES256", es256, sizeof es256, VG_ESIG},
        {"empty protected", NULL, 0, VG_ESIG},
        {"empty map", empty_map, sizeof empty_map, VG_ESIG},
        {"alg plus kid", alg_and_kid, sizeof alg_and_kid, VG_EDECODE},
        {"kid only", kid_only, sizeof kid_only, VG_ESIG},
        {"not a map", not_map, sizeof not_map, VG_EDECODE},
        {"trailing byte", trailing, sizeof trailing, VG_EDECODE},
        {"alg as text", text_alg, sizeof text_alg, VG_EDECODE},
        {"non-minimal but EdDSA", nonmin, sizeof nonmin, VG_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        bspec s = good_spec(&k, kid, payload, plen);
        s.prot = cases[i].p;
        s.prot_len = cases[i].n;
        expect_spec(cases[i].what, &s, k.pk, cases[i].want);
    }
}

static void test_signature_before_payload(void)
{
    tkeys k = keys_from(0x42);
    uint8_t kid[8];
    kid_of(k.pk, kid);
    /* a signed payload of schema version 2: VG_ESCHEMA only once verified */
    static const uint8_t v2[] = {0xa1, 0x00, 0x02};
    bspec s = good_spec(&k, kid, v2, sizeof v2);
    expect_spec("signed v2 payload", &s, k.pk, VG_ESCHEMA);
    s.corrupt_sig = true;
    expect_spec("unsigned v2 payload", &s, k.pk, VG_ESIG);
    /* garbage payload */
    static const uint8_t junk[] = {0xff, 0xff, 0x00};
    s = good_spec(&k, kid, junk, sizeof junk);
    expect_spec("signed garbage payload", &s, k.pk, VG_EDECODE);
    s.corrupt_sig = true;
    expect_spec("unsigned garbage payload", &s, k.pk, VG_ESIG);
    /* a valid model with trailing bytes inside the payload bstr */
    vg_model m;
    sample_model(&m, "pump-7", 3);
    uint8_t payload[2048];
    size_t plen = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, payload, sizeof payload, &plen), VG_OK);
    payload[plen] = 0x00;
    s = good_spec(&k, kid, payload, plen + 1);
    expect_spec("payload with trailing byte", &s, k.pk, VG_EDECODE);
    /* a model for another device, signed */
    sample_model(&m, "pump-9", 3);
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, payload, sizeof payload, &plen), VG_OK);
    s = good_spec(&k, kid, payload, plen);
    expect_spec("another device", &s, k.pk, VG_EDEVICE);
}

static void test_sign_errors(void)
{
    tkeys k = keys_from(0x42);
    vg_model m;
    sample_model(&m, "pump-7", 3);
    uint8_t buf[4096];
    size_t len = 0, got;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &len), VG_OK);
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);
        got = 777;
        int rc = vg_bundle_sign(&m, k.sk, b, cap, &got);
        if (rc != VG_ENOSPC)
            fprintf(stderr, "\n  sign with cap %zu: %s\n", cap, vg_errname(rc));
        CU_ASSERT_EQUAL(rc, VG_ENOSPC);
        CU_ASSERT_EQUAL(got, 777);
        free(b);
    }
    uint8_t *exact = malloc(len);
    CU_ASSERT_EQUAL(vg_bundle_sign(&m, k.sk, exact, len, &got), VG_OK);
    CU_ASSERT_EQUAL(got, len);
    CU_ASSERT_EQUAL(memcmp(exact, buf, len), 0);
    free(exact);
    strcpy(m.device, "bad device");
    CU_ASSERT_EQUAL(vg_bundle_sign(&m, k.sk, buf, sizeof buf, &got), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_bundle_sign(NULL, k.sk, buf, sizeof buf, &got), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_bundle_sign(&m, NULL, buf, sizeof buf, &got), VG_EINVAL);
}

static void test_keygen_and_big_model(void)
{
    uint8_t pk1[VG_PK_BYTES], sk1[VG_SK_BYTES], pk2[VG_PK_BYTES], sk2[VG_SK_BYTES];
    CU_ASSERT_EQUAL_FATAL(vg_keygen(pk1, sk1), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_keygen(pk2, sk2), VG_OK);
    CU_ASSERT_NOT_EQUAL(memcmp(pk1, pk2, VG_PK_BYTES), 0);
    CU_ASSERT_EQUAL(vg_keygen(NULL, sk1), VG_EINVAL);
    vg_model m, out;
    sample_model(&m, "pump-7", 1);
    m.nchan = VG_MODEL_MAX_CHANNEL;
    for (uint32_t i = 0; i < m.nchan; i++) {
        char name[16];
        snprintf(name, sizeof name, "chan-%u", (unsigned)i);
        vg_chan_model_clear(&m.chan[i], name);
        m.chan[i].lo = -1.0 * i;
        m.chan[i].hi = 1.0 * i;
        m.chan[i].loc = 0.1 * i;
        m.chan[i].scale = 1.0 + i;
        m.chan[i].z_thr = 3.5;
        m.chan[i].ewma_lambda = 0.2;
        m.chan[i].ewma_l = 3;
        m.chan[i].cusum_k = 0.5;
        m.chan[i].cusum_h = 4;
        m.chan[i].rate_max = 100;
        m.chan[i].stuck_eps = 1e-9;
        m.chan[i].stuck_n = 50;
        m.chan[i].stale_s = 10;
    }
    uint8_t *buf = malloc(VG_BUNDLE_MAX_BYTES);
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, sk1, buf, VG_BUNDLE_MAX_BYTES, &len), VG_OK);
    CU_ASSERT(len > 256); /* a two-byte bstr head for the payload */
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, pk1, "pump-7", 0, &out), VG_OK);
    expect_model_equal(&m, &out);
    CU_ASSERT_EQUAL(vg_bundle_open(buf, len, pk2, "pump-7", 0, &out), VG_ESIG);
    free(buf);
}

int init_bundle_tests(void)
{
    CU_pSuite s = CU_add_suite("bundle", NULL, NULL);
    if (!s || !CU_add_test(s, "sign/open round trip", test_round_trip) ||
        !CU_add_test(s, "layout and Sig_structure bytes", test_layout_and_sig_structure) ||
        !CU_add_test(s, "every bit flip rejected", test_every_bit_flip) ||
        !CU_add_test(s, "truncation, trailing, oversize", test_truncation_and_trailing) ||
        !CU_add_test(s, "key, device, version", test_key_device_version) ||
        !CU_add_test(s, "hand-built COSE variants", test_hand_built) ||
        !CU_add_test(s, "protected header", test_protected_header) ||
        !CU_add_test(s, "signature checked before payload", test_signature_before_payload) ||
        !CU_add_test(s, "sign errors and capacities", test_sign_errors) ||
        !CU_add_test(s, "keygen and a 64-channel model", test_keygen_and_big_model))
        return CU_get_error();
    return 0;
}
