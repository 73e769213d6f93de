/*
 * test_msg_model_ack.c - the model acknowledgement codec
 * (vg_model_ack_*): round trip, malformed variants, framing, capacities.
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

/* ---- model ack ---- */

static int dec_ack(const uint8_t *b, size_t n)
{
    vg_model_ack a;
    return vg_model_ack_decode(b, n, &a);
}

static int enc_ack(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_model_ack_encode(o, b, cap, len);
}

static const tpair ack_pairs[] = {
    PV,
    PT(1, C_DEV, "gw_3"),
    PB(2, 0),
    PU(3, 17),
    PU(4, 16),
    PX(5, "envelope", VG_REASON_MAX + 1, true),
    PI(6, 1700000000000000),
};
#define NACK (sizeof ack_pairs / sizeof *ack_pairs)

static void test_model_ack(void)
{
    vg_model_ack a, d;
    memset(&a, 0, sizeof a);
    strcpy(a.device, "gw_3");
    strcpy(a.reason, vg_errname(VG_EENVELOPE));
    a.applied = 0;
    a.version = 17;
    a.running_version = 16;
    a.t_us = 1700000000000000;
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_ack_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_bytes("model_ack", ack_pairs, NACK, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_ack_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.device, "gw_3");
    CU_ASSERT_STRING_EQUAL(d.reason, "envelope");
    CU_ASSERT_EQUAL(d.applied, 0);
    CU_ASSERT_EQUAL(d.version, 17);
    CU_ASSERT_EQUAL(d.running_version, 16);
    CU_ASSERT_EQUAL(d.t_us, a.t_us);
    check_caps("model_ack", enc_ack, &a, len);
    check_generic("model_ack", dec_ack, ack_pairs, NACK);
    check_framing("model_ack", dec_ack, buf, len);
    /* a required but empty reason is written as "" */
    a.reason[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(vg_model_ack_encode(&a, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_model_ack_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.reason, "");
    a.reason[0] = '\xff';
    a.reason[1] = '\0';
    CU_ASSERT_EQUAL(vg_model_ack_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
}

int init_msg_model_ack_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_model_ack", NULL, NULL);
    if (!s || !CU_add_test(s, "model ack", test_model_ack))
        return CU_get_error();
    return 0;
}
