/* test_tlsmsg.c - the reason extracted from OpenSSL error lines, and
 * Paho's TLS options filled by vg_paho_tls (the error callback is called
 * through the filled structure, as Paho calls it). */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_paho_tls.h"
#include "vg_tlsmsg.h"

static void expect(const char *line, const char *want)
{
    char out[256];
    vg_tls_reason(line, strlen(line), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_reason(void)
{
    expect("140230:error:0A000086:SSL routines:tls_post_process_server_certificate:"
           "certificate verify failed:../ssl/statem/statem_clnt.c:1889:\n",
           "certificate verify failed");
    expect("40F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1\r\n",
           "wrong version number");
    expect("no reason here\nsecond line", "no reason here");
    expect("error:short", "error:short"); /* too few fields: the line itself */
    char small[8];
    vg_tls_reason("abcdefghijkl", 12, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "abcdefg");
}

#define LINE_VERIFY                                                                                \
    "140230:error:0A000086:SSL routines:tls_post_process_server_certificate:certificate verify "   \
    "failed:../ssl/statem/statem_clnt.c:1889:\n"
#define LINE_VERSION "40F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1\n"

/* Calls the error callback Paho was given, as Paho does. */
static int paho_error(vg_paho_tls *t, const char *line)
{
    return t->so.ssl_error_cb(line, strlen(line), t->so.ssl_error_context);
}

static void test_paho_options(void)
{
    vg_paho_tls *t = calloc(1, sizeof *t);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    vg_paho_tls_apply(t, 0, &co, "ca.pem", "c.pem", "c.key"); /* plain: no TLS */
    CU_ASSERT_PTR_NULL(co.ssl);
    vg_paho_tls_apply(t, 1, &co, "ca.pem", "", NULL);
    CU_ASSERT_PTR_EQUAL(co.ssl, &t->so);
    CU_ASSERT_EQUAL(memcmp(t->so.struct_id, "MQTS", 4), 0);
    CU_ASSERT_STRING_EQUAL(t->so.trustStore, "ca.pem");
    CU_ASSERT_PTR_NULL(t->so.keyStore);   /* "" -> NULL */
    CU_ASSERT_PTR_NULL(t->so.privateKey); /* NULL stays */
    CU_ASSERT_EQUAL(t->so.enableServerCertAuth, 1);
    CU_ASSERT_EQUAL(t->so.verify, 1);
    CU_ASSERT_PTR_NOT_NULL(t->so.ssl_error_cb);
    CU_ASSERT_PTR_EQUAL(t->so.ssl_error_context, t);
    vg_paho_tls_apply(t, 1, &co, NULL, "c.pem", "c.key");
    CU_ASSERT_PTR_NULL(t->so.trustStore);
    CU_ASSERT_STRING_EQUAL(t->so.keyStore, "c.pem");
    CU_ASSERT_STRING_EQUAL(t->so.privateKey, "c.key");
    free(t);
}

static void test_paho_reason(void)
{
    vg_paho_tls *t = calloc(1, sizeof *t);
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    char why[VG_PAHO_TLS_REASON_MAX];
    vg_paho_tls_apply(t, 1, &co, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(vg_paho_tls_take(t, why, sizeof why), 0); /* nothing yet */
    CU_ASSERT_STRING_EQUAL(why, "");
    CU_ASSERT_EQUAL(paho_error(t, LINE_VERIFY), 1);  /* Paho goes on */
    CU_ASSERT_EQUAL(paho_error(t, LINE_VERSION), 1); /* the first line wins */
    CU_ASSERT_EQUAL(vg_paho_tls_take(t, why, sizeof why), 1);
    CU_ASSERT_STRING_EQUAL(why, "certificate verify failed");
    CU_ASSERT_EQUAL(vg_paho_tls_take(t, why, sizeof why), 0); /* taken: empty again */
    CU_ASSERT_STRING_EQUAL(why, "");
    CU_ASSERT_EQUAL(paho_error(t, LINE_VERSION), 1);
    vg_paho_tls_apply(t, 1, &co, NULL, NULL, NULL); /* a new connect forgets it */
    CU_ASSERT_EQUAL(vg_paho_tls_take(t, why, sizeof why), 0);
    CU_ASSERT_EQUAL(paho_error(t, LINE_VERSION), 1);
    char small[6];
    CU_ASSERT_EQUAL(vg_paho_tls_take(t, small, sizeof small), 1);
    CU_ASSERT_STRING_EQUAL(small, "wrong");
    free(t);
}

int init_tlsmsg_tests(void)
{
    CU_pSuite s = CU_add_suite("tlsmsg", NULL, NULL);
    if (!s || !CU_add_test(s, "reason of an OpenSSL error line", test_reason) ||
        !CU_add_test(s, "Paho TLS options filled", test_paho_options) ||
        !CU_add_test(s, "reason of a failed handshake, first line, taken once", test_paho_reason))
        return CU_get_error();
    return 0;
}
