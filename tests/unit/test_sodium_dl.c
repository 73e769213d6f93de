/*
 * test_sodium_dl.c - vigild's run-time libsodium (agent/sodium_dl.h): the
 * loaded table is complete and stable, and bundles cross between it and the
 * linked libsodium of vg_bundle_sodium.c byte for byte: signed by one,
 * verified by the other, the same bytes from both (Ed25519 is
 * deterministic), and a forged or flipped bundle refused by the loaded one.
 * The test binary links libsodium too, so dlopen() finds the same library;
 * what is checked is the table's wiring, slot by slot.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "sodium_dl.h"
#include "vg_bundle.h"
#include "vg_error.h"

static void one_model(vg_model *m, uint64_t version)
{
    memset(m, 0, sizeof *m);
    snprintf(m->device, sizeof m->device, "%s", "pump-7");
    m->version = version;
    m->nchan = 1;
    vg_chan_model_clear(&m->chan[0], "temp");
    m->chan[0].hi = 90;
}

static void test_table(void)
{
    const vg_crypto *a = NULL, *b = NULL;
    char err[256] = "";
    CU_ASSERT_EQUAL_FATAL(vgd_sodium_load(&a, err, sizeof err), VG_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(err, "");
    CU_ASSERT_EQUAL(vgd_sodium_load(&b, err, sizeof err), VG_OK);
    CU_ASSERT_PTR_EQUAL(a, b); /* loaded once */
    CU_ASSERT_PTR_NOT_NULL(a->init);
    CU_ASSERT_PTR_NOT_NULL(a->keypair);
    CU_ASSERT_PTR_NOT_NULL(a->sk_to_pk);
    CU_ASSERT_PTR_NOT_NULL(a->sign);
    CU_ASSERT_PTR_NOT_NULL(a->verify);
    CU_ASSERT_PTR_NOT_NULL(a->hash);
    CU_ASSERT(a->init() >= 0);
}

static void test_cross(void)
{
    static uint8_t b1[VG_BUNDLE_MAX_BYTES], b2[VG_BUNDLE_MAX_BYTES];
    static vg_model m, out;
    const vg_crypto *dl = NULL;
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES], pk2[VG_PK_BYTES], sk2[VG_SK_BYTES], derived[32];
    size_t n1 = 0, n2 = 0;
    char err[256];
    CU_ASSERT_EQUAL_FATAL(vgd_sodium_load(&dl, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL_FATAL(dl->keypair(pk, sk), 0); /* loaded keygen ... */
    CU_ASSERT_EQUAL_FATAL(dl->sk_to_pk(derived, sk), 0);
    CU_ASSERT_EQUAL(memcmp(derived, pk, VG_PK_BYTES), 0);
    CU_ASSERT_EQUAL_FATAL(vg_keygen(pk2, sk2), VG_OK);
    one_model(&m, 5);
    /* ... linked signer, loaded verifier, and the other way round */
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, sk, b1, sizeof b1, &n1), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign_with(dl, &m, sk, b2, sizeof b2, &n2), VG_OK);
    CU_ASSERT_EQUAL(n1, n2);
    CU_ASSERT_EQUAL(memcmp(b1, b2, n1), 0);
    CU_ASSERT_EQUAL(vg_bundle_open_with(dl, b1, n1, pk, "pump-7", 4, &out), VG_OK);
    CU_ASSERT_EQUAL(out.version, 5);
    CU_ASSERT_STRING_EQUAL(out.chan[0].name, "temp");
    CU_ASSERT_EQUAL(vg_bundle_open(b2, n2, pk, "pump-7", 4, &out), VG_OK);
    CU_ASSERT_EQUAL(vg_bundle_open_with(vg_crypto_sodium(), b2, n2, pk, "pump-7", 4, &out), VG_OK);
    CU_ASSERT_EQUAL(vg_bundle_open_with(dl, b1, n1, pk2, "pump-7", 4, &out), VG_ESIG);
    CU_ASSERT_EQUAL(vg_bundle_open_with(dl, b1, n1, pk, "pump-8", 4, &out), VG_EDEVICE);
    CU_ASSERT_EQUAL(vg_bundle_open_with(dl, b1, n1, pk, "pump-7", 5, &out), VG_EVERSION);
    b1[n1 - 1] ^= 1;
    CU_ASSERT_EQUAL(vg_bundle_open_with(dl, b1, n1, pk, "pump-7", 4, &out), VG_ESIG);
    CU_ASSERT_EQUAL(vg_bundle_open_with(NULL, b2, n2, pk, "pump-7", 4, &out), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_bundle_sign_with(NULL, &m, sk, b2, sizeof b2, &n2), VG_EINVAL);
}

int init_sodium_dl_tests(void)
{
    CU_pSuite s = CU_add_suite("sodium_dl", NULL, NULL);
    if (!s || !CU_add_test(s, "loaded once, every slot", test_table) ||
        !CU_add_test(s, "bundles cross linked and loaded", test_cross))
        return CU_get_error();
    return 0;
}
