/*
 * test_vgd_model.c - the model manager with real Ed25519 keys: forged,
 * tampered, old, wrong-device and envelope-loosening bundles are refused
 * with the right reason and the running model stays; a good bundle is
 * applied, persisted, restored by a new manager and engine, and the same
 * bytes offered again are recognised as already running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "model_mgr.h"
#include "vg_conf.h"
#include "vg_error.h"
#include "vg_hex.h"

static uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES], sk2[VG_SK_BYTES], pk2[VG_PK_BYTES];

static size_t make(const uint8_t *key, const char *dev, uint64_t ver, double hi, uint8_t *buf)
{
    static vg_model m;
    memset(&m, 0, sizeof m);
    snprintf(m.device, sizeof m.device, "%s", dev);
    m.version = ver;
    m.nchan = 1;
    vg_chan_model_clear(&m.chan[0], "temp");
    m.chan[0].hi = hi;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_bundle_sign(&m, key, buf, VG_BUNDLE_MAX_BYTES, &len), VG_OK);
    return len;
}

static vg_engine *engine(void)
{
    static vg_conf c;
    int rc;
    vg_conf_init(&c);
    vg_conf_set(&c, "channel.temp", "hi", "95");
    return vg_engine_create(&c.engine, &rc);
}

static void test_verdicts_persist_restore(void)
{
    static uint8_t b[VG_BUNDLE_MAX_BYTES];
    char dir[64], keyf[96], err[256], hex[2 * VG_PK_BYTES + 1];
    snprintf(dir, sizeof dir, "/tmp/vgd-model-%d", (int)getpid());
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
    snprintf(keyf, sizeof keyf, "%s/pk", dir);
    vg_hex_encode(pk, VG_PK_BYTES, hex);
    FILE *f = fopen(keyf, "w");
    fputs(hex, f);
    fclose(f);
    vgd_model_mgr mm;
    CU_ASSERT_EQUAL_FATAL(vgd_model_init(&mm, "d1", dir, keyf, err, sizeof err), VG_OK);
    vg_engine *e = engine();
    vg_model_ack ack;
    size_t n = make(sk, "d1", 3, 90, b);
    CU_ASSERT_EQUAL(vgd_model_offer(&mm, e, b, n, 1, &ack), VG_OK);
    CU_ASSERT_EQUAL(ack.applied, 1);
    CU_ASSERT_STRING_EQUAL(ack.reason, "ok");
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 3);
    CU_ASSERT_EQUAL(vgd_model_offer(&mm, e, b, n, 1, &ack), VG_EEXIST);
    b[n - 1] ^= 1; /* tampered signature */
    CU_ASSERT_EQUAL(vgd_model_offer(&mm, e, b, n, 1, &ack), VG_ESIG);
    struct {
        const uint8_t *key;
        const char *dev;
        uint64_t ver;
        double hi;
        int want;
        const char *reason;
    } bad[] = {
        {sk2, "d1", 4, 90, VG_ESIG, "signature"},
        {sk, "d1", 3, 80, VG_EVERSION, "version"},
        {sk, "d2", 4, 90, VG_EDEVICE, "device"},
        {sk, "d1", 4, 120, VG_EENVELOPE, "envelope"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = make(bad[i].key, bad[i].dev, bad[i].ver, bad[i].hi, b);
        CU_ASSERT_EQUAL(vgd_model_offer(&mm, e, b, n, 1, &ack), bad[i].want);
        CU_ASSERT_EQUAL(ack.applied, 0);
        CU_ASSERT_STRING_EQUAL(ack.reason, bad[i].reason);
        CU_ASSERT_EQUAL(ack.running_version, 3);
        CU_ASSERT_EQUAL(vg_engine_model_version(e), 3);
    }
    vg_engine_destroy(e);
    vgd_model_free(&mm);
    /* a new manager and engine restore version 3 */
    CU_ASSERT_EQUAL_FATAL(vgd_model_init(&mm, "d1", dir, keyf, err, sizeof err), VG_OK);
    e = engine();
    CU_ASSERT_EQUAL(vgd_model_restore(&mm, e), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 3);
    vg_engine_destroy(e);
    vgd_model_free(&mm);
    /* without a key every bundle is refused */
    CU_ASSERT_EQUAL_FATAL(vgd_model_init(&mm, "d1", dir, "", err, sizeof err), VG_OK);
    e = engine();
    n = make(sk, "d1", 9, 90, b);
    CU_ASSERT_EQUAL(vgd_model_offer(&mm, e, b, n, 1, &ack), VG_ESIG);
    vg_engine_destroy(e);
    vgd_model_free(&mm);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CU_ASSERT_EQUAL(system(cmd), 0);
}

int init_vgd_model_tests(void)
{
    if (vg_crypto_init() != VG_OK || vg_keygen(pk, sk) != VG_OK || vg_keygen(pk2, sk2) != VG_OK)
        return -1;
    CU_pSuite s = CU_add_suite("vgd_model", NULL, NULL);
    if (!s || !CU_add_test(s, "verdicts, persist, restore", test_verdicts_persist_restore))
        return CU_get_error();
    return 0;
}
