/*
 * fuzz_bundle.c - libFuzzer target for vg_bundle_open().
 *
 * Two properties per input, under a fixed test key (Ed25519 from the seed
 * of 32 bytes 0x5a, the same key tests/fuzz/make_corpus.c signs the seed
 * corpus with):
 *
 *  1. the input as a bundle: no crash; if it opens, re-signing the model
 *     gives a bundle that opens to the same model;
 *  2. the input as a payload: it is wrapped in a correctly signed
 *     COSE_Sign1 here, so the fuzzer reaches the code behind the signature
 *     check; the bundle must open exactly when vg_model_decode() accepts the
 *     payload, with the same status and the same model.
 *
 * abort() on any violation.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "vg_bundle.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int model_equal(const vg_model *a, const vg_model *b)
{
    const size_t lo = offsetof(vg_chan_model, lo), n = sizeof(vg_chan_model) - lo;
    if (strcmp(a->device, b->device) != 0 || a->version != b->version ||
        a->created_us != b->created_us || a->train_from_us != b->train_from_us ||
        a->train_to_us != b->train_to_us || a->nchan != b->nchan)
        return 0;
    for (uint32_t i = 0; i < a->nchan; i++)
        if (strcmp(a->chan[i].name, b->chan[i].name) != 0 ||
            memcmp((const char *)&a->chan[i] + lo, (const char *)&b->chan[i] + lo, n) != 0)
            return 0;
    /* the multivariate part: all zero when absent, else bit for bit */
    return memcmp(&a->mvar, &b->mvar, sizeof a->mvar) == 0;
}

static void test_keys(uint8_t pk[VG_PK_BYTES], uint8_t sk[VG_SK_BYTES])
{
    uint8_t seed[crypto_sign_SEEDBYTES];
    memset(seed, 0x5a, sizeof seed);
    if (vg_crypto_init() != VG_OK)
        abort();
    crypto_sign_seed_keypair(pk, sk, seed);
}

/* Property 1: a bundle that opens re-signs to one that opens the same. */
static void as_bundle(const uint8_t *data, size_t size, const uint8_t *pk, const uint8_t *sk)
{
    static vg_model a, b;
    static uint8_t buf[VG_BUNDLE_MAX_BYTES];
    size_t len = 0;
    if (vg_bundle_open(data, size, pk, NULL, 0, &a) != VG_OK)
        return;
    if (vg_bundle_sign(&a, sk, buf, sizeof buf, &len) != VG_OK)
        abort();
    if (vg_bundle_open(buf, len, pk, a.device, a.version - 1, &b) != VG_OK || !model_equal(&a, &b))
        abort();
}

/* Wraps payload in a COSE_Sign1 signed with sk (no kid). */
static size_t wrap(const uint8_t *payload, size_t plen, const uint8_t *sk, uint8_t *out, size_t cap)
{
    static const uint8_t prot[] = {0xa1, 0x01, 0x27};
    static uint8_t tbs[VG_BUNDLE_MAX_BYTES + 64];
    uint8_t sig[VG_SIG_BYTES];
    vg_cbor_writer w;
    size_t n = 0;
    vg_cbor_writer_init(&w, tbs, sizeof tbs);
    vg_cbor_put_array(&w, 4);
    vg_cbor_put_text(&w, "Signature1", 10);
    vg_cbor_put_bytes(&w, prot, sizeof prot);
    vg_cbor_put_bytes(&w, NULL, 0);
    vg_cbor_put_bytes(&w, payload, plen);
    if (vg_cbor_writer_finish(&w, &n) != VG_OK)
        return 0;
    crypto_sign_detached(sig, NULL, tbs, n, sk);
    vg_cbor_writer_init(&w, out, cap);
    vg_cbor_put_tag(&w, 18);
    vg_cbor_put_array(&w, 4);
    vg_cbor_put_bytes(&w, prot, sizeof prot);
    vg_cbor_put_map(&w, 0);
    vg_cbor_put_bytes(&w, payload, plen);
    vg_cbor_put_bytes(&w, sig, sizeof sig);
    return vg_cbor_writer_finish(&w, &n) == VG_OK ? n : 0;
}

/* Property 2: behind a valid signature, open == vg_model_decode. */
static void as_payload(const uint8_t *data, size_t size, const uint8_t *pk, const uint8_t *sk)
{
    static vg_model a, b;
    static uint8_t buf[VG_BUNDLE_MAX_BYTES];
    size_t len = wrap(data, size, sk, buf, sizeof buf);
    if (len == 0)
        return; /* payload too large to wrap */
    int want = vg_model_decode(data, size, &a);
    int got = vg_bundle_open(buf, len, pk, NULL, 0, &b);
    if (want == VG_OK && a.version == 0)
        want = VG_EVERSION;
    if (got != want)
        abort();
    if (got == VG_OK && !model_equal(&a, &b))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES];
    test_keys(pk, sk);
    as_bundle(data, size, pk, sk);
    as_payload(data, size, pk, sk);
    return 0;
}
