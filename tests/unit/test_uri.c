/* test_uri.c - broker URIs rewritten for Paho (vg_uri_paho): every scheme,
 * bad input, a result that does not fit. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_error.h"
#include "vg_uri.h"

/* One accepted URI: what Paho gets and whether it is TLS. */
struct uri_case {
    const char *given, *paho;
    int tls;
};

static const struct uri_case uri_good[] = {
    {"tcp://127.0.0.1:1883", "tcp://127.0.0.1:1883", 0},
    {"mqtt://127.0.0.1:1883", "tcp://127.0.0.1:1883", 0},
    {"ws://broker:80/mqtt", "ws://broker:80/mqtt", 0},
    {"ssl://broker.example:8883", "ssl://broker.example:8883", 1},
    {"mqtts://broker.example:8883", "ssl://broker.example:8883", 1},
    {"wss://broker:443/mqtt", "wss://broker:443/mqtt", 1},
    {"mqtt://[::1]:1883", "tcp://[::1]:1883", 0},
    {"mqtts://h", "ssl://h", 1}, /* Paho adds the default port */
};

static void test_schemes(void)
{
    for (size_t i = 0; i < sizeof uri_good / sizeof uri_good[0]; i++) {
        char out[64];
        int tls = -1;
        CU_ASSERT_EQUAL(vg_uri_paho(uri_good[i].given, out, sizeof out, &tls), VG_OK);
        CU_ASSERT_STRING_EQUAL(out, uri_good[i].paho);
        CU_ASSERT_EQUAL(tls, uri_good[i].tls);
        CU_ASSERT_EQUAL(vg_uri_paho(uri_good[i].given, out, sizeof out, NULL), VG_OK);
    }
}

static const char *const uri_bad[] = {
    "",
    "127.0.0.1:1883",        /* no scheme */
    "http://broker:80",      /* not MQTT */
    "MQTT://broker:1883",    /* schemes are case-sensitive, as in Paho */
    "mqtt:/broker:1883",     /* malformed separator */
    "mqtt://",               /* no host */
    "mqtts://",              /* no host */
    "tcp//127.0.0.1:1883",   /* malformed separator */
    " tcp://127.0.0.1:1883", /* leading blank */
    "unix:///tmp/mqtt.sock", /* not accepted by vigil */
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof uri_bad / sizeof uri_bad[0]; i++) {
        char out[64] = "junk";
        int tls = -1;
        CU_ASSERT_EQUAL(vg_uri_paho(uri_bad[i], out, sizeof out, &tls), VG_EINVAL);
        CU_ASSERT_STRING_EQUAL(out, "");
        CU_ASSERT_EQUAL(tls, 0);
    }
    char out[8] = "junk";
    int tls = -1;
    CU_ASSERT_EQUAL(vg_uri_paho(NULL, out, sizeof out, &tls), VG_EINVAL);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(tls, 0);
}

/* The result must fit, NUL included; mqtt:// -> tcp:// gets one shorter. */
static void test_fit(void)
{
    char out[16];
    int tls = -1;
    CU_ASSERT_EQUAL(vg_uri_paho("mqtts://h:8883", out, 15, &tls), VG_OK); /* "ssl://h:8883" */
    CU_ASSERT_STRING_EQUAL(out, "ssl://h:8883");
    CU_ASSERT_EQUAL(vg_uri_paho("mqtts://h:8883", out, 13, &tls), VG_OK);
    CU_ASSERT_STRING_EQUAL(out, "ssl://h:8883");
    CU_ASSERT_EQUAL(vg_uri_paho("mqtts://h:8883", out, 12, &tls), VG_ENOSPC);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(tls, 0);
    CU_ASSERT_EQUAL(vg_uri_paho("tcp://h:1883", out, 0, &tls), VG_ENOSPC);
    CU_ASSERT_EQUAL(vg_uri_paho("tcp://host.example:1883", out, sizeof out, &tls), VG_ENOSPC);
    CU_ASSERT_STRING_EQUAL(out, "");
}

int init_uri_tests(void)
{
    CU_pSuite s = CU_add_suite("uri", NULL, NULL);
    if (!s || !CU_add_test(s, "every accepted scheme", test_schemes) ||
        !CU_add_test(s, "bad URIs are refused", test_bad) ||
        !CU_add_test(s, "the result must fit", test_fit))
        return CU_get_error();
    return 0;
}
