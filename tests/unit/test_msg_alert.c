/*
 * test_msg_alert.c - the alert message codec (vg_alert_*): round trip
 * against the schema's bytes, the generic malformed variants and framing,
 * and encoder errors.
 *
 * Expected encodings are built independently of the code under test with
 * the hand builder and pair lists of test_msg_fixture.h; see there for the
 * generic malformed-variant, framing and capacity checks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_msg_fixture.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

/* ---- alert ---- */

static vg_alert sample_alert(void)
{
    vg_alert a;
    memset(&a, 0, sizeof a);
    strcpy(a.device, "pump-7");
    strcpy(a.channel, "temp.bearing");
    a.raised = 1;
    a.detector = VG_DET_ZSCORE;
    a.t_us = 1700000000123456;
    a.value = 98.25;
    a.score = 0.875;
    a.model_version = 42;
    a.seq = 9001;
    return a;
}

static int dec_alert(const uint8_t *b, size_t n)
{
    vg_alert a;
    return vg_alert_decode(b, n, &a);
}

static int enc_alert(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_alert_encode(o, b, cap, len);
}

static const tpair alert_pairs[] = {
    PV,
    PT(1, C_DEV, "pump-7"),
    PT(2, C_CHAN, "temp.bearing"),
    PB(3, 1),
    PT(4, C_DET, "robust_z"),
    PI(5, 1700000000123456),
    PF(6, C_REAL, 98.25, true),
    PF(7, C_SCORE, 0.875, true),
    PU(8, 42),
    PU(9, 9001),
};
#define NALERT (sizeof alert_pairs / sizeof *alert_pairs)

static void test_alert_roundtrip(void)
{
    vg_alert a = sample_alert(), b;
    uint8_t buf[256];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_bytes("alert", alert_pairs, NALERT, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_alert_decode(buf, len, &b), VG_OK);
    CU_ASSERT_STRING_EQUAL(b.device, a.device);
    CU_ASSERT_STRING_EQUAL(b.channel, a.channel);
    CU_ASSERT_EQUAL(b.raised, 1);
    CU_ASSERT_EQUAL(b.detector, VG_DET_ZSCORE);
    CU_ASSERT_EQUAL(b.t_us, a.t_us);
    CU_ASSERT_EQUAL(b.value, a.value);
    CU_ASSERT_EQUAL(b.score, a.score);
    CU_ASSERT_EQUAL(b.model_version, 42);
    CU_ASSERT_EQUAL(b.seq, 9001);
    check_caps("alert", enc_alert, &a, len);
    /* a NaN sample value and a negative time survive; a cleared alert */
    a.value = NAN;
    a.t_us = -5;
    a.raised = 0;
    a.detector = VG_DET_NONE;
    CU_ASSERT_EQUAL_FATAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_alert_decode(buf, len, &b), VG_OK);
    CU_ASSERT(isnan(b.value));
    CU_ASSERT_EQUAL(b.t_us, -5);
    CU_ASSERT_EQUAL(b.raised, 0);
    CU_ASSERT_EQUAL(b.detector, VG_DET_NONE);
}

static void test_alert_malformed(void)
{
    check_generic("alert", dec_alert, alert_pairs, NALERT);
    uint8_t buf[256];
    size_t len;
    vg_alert a = sample_alert();
    CU_ASSERT_EQUAL_FATAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_framing("alert", dec_alert, buf, len);
}

static void test_alert_encode_errors(void)
{
    uint8_t buf[256];
    size_t len;
    vg_alert a = sample_alert();
    a.score = NAN;
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_ENAN);
    a.score = 1.01;
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a = sample_alert();
    a.raised = 2;
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a = sample_alert();
    a.detector = VG_DET_COUNT;
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a = sample_alert();
    strcpy(a.device, "no spaces");
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a = sample_alert();
    memset(a.channel, 'c', sizeof a.channel); /* not terminated */
    CU_ASSERT_EQUAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_alert_encode(NULL, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_alert_decode(buf, 4, NULL), VG_EINVAL);
}

int init_msg_alert_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_alert", NULL, NULL);
    if (!s || !CU_add_test(s, "alert round trip", test_alert_roundtrip) ||
        !CU_add_test(s, "alert malformed", test_alert_malformed) ||
        !CU_add_test(s, "alert encode errors", test_alert_encode_errors))
        return CU_get_error();
    return 0;
}
