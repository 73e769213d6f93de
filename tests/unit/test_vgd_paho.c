/*
 * test_vgd_paho.c - the run-time Paho loader: both variants (plain and
 * TLS) load and resolve every one of the VGD_PAHO_NFUNC entries; the URI
 * scheme picks the variant; a second load returns the same table; a
 * client can be created and destroyed through the table (no broker).
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "paho.h"
#include "vg_error.h"

/* Every slot of t is non-NULL. */
static void check_table(const vgd_paho *t)
{
    void *slot[VGD_PAHO_NFUNC];
    CU_ASSERT_EQUAL_FATAL(sizeof(*t), sizeof slot);
    memcpy(slot, t, sizeof slot);
    for (int i = 0; i < VGD_PAHO_NFUNC; i++)
        CU_ASSERT_PTR_NOT_NULL(slot[i]);
}

/* Loads variant tls and checks it end to end. */
static void load_variant(int tls)
{
    char err[256] = "";
    const vgd_paho *t = NULL, *again = NULL;
    CU_ASSERT_EQUAL_FATAL(vgd_paho_load(tls, &t, err, sizeof err), VG_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    check_table(t);
    CU_ASSERT_EQUAL(vgd_paho_load(tls, &again, err, sizeof err), VG_OK);
    CU_ASSERT_PTR_EQUAL(again, t);
    MQTTAsync h = NULL;
    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    const char *uri = tls ? "ssl://127.0.0.1:1" : "tcp://127.0.0.1:1";
    CU_ASSERT_EQUAL_FATAL(
        t->createWithOptions(&h, uri, "vgd-paho-test", MQTTCLIENT_PERSISTENCE_NONE, NULL, &co),
        MQTTASYNC_SUCCESS);
    CU_ASSERT_EQUAL(t->isConnected(h), 0);
    t->destroy(&h);
    CU_ASSERT_PTR_NULL(h);
}

static void test_plain(void)
{
    load_variant(0);
}

static void test_tls(void)
{
    load_variant(1);
}

/* The variant for a URI's scheme: vg_uri_paho (tests/unit/test_uri.c). */
static void test_soname(void)
{
    CU_ASSERT_STRING_EQUAL(vgd_paho_soname(0), "libpaho-mqtt3a.so.1");
    CU_ASSERT_STRING_EQUAL(vgd_paho_soname(1), "libpaho-mqtt3as.so.1");
}

int init_vgd_paho_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_paho", NULL, NULL);
    if (!s || !CU_add_test(s, "plain variant loads, every symbol", test_plain) ||
        !CU_add_test(s, "TLS variant loads, every symbol", test_tls) ||
        !CU_add_test(s, "soname of each variant", test_soname))
        return -1;
    return 0;
}
