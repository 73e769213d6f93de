/*
 * test_msg_reset.c - the reset command codec (vg_reset_*): round trip,
 * malformed variants, framing and capacities.
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

/* ---- reset ---- */

static int dec_reset(const uint8_t *b, size_t n)
{
    vg_reset r;
    return vg_reset_decode(b, n, &r);
}

static int enc_reset(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_reset_encode(o, b, cap, len);
}

static const tpair reset_pairs[] = {
    PV, PT(1, C_DEV, "pump-7"), PX(2, "alice@ops", VG_REASON_MAX + 1, false), PNI(3, 99), PU(4, 3),
};
#define NRESET (sizeof reset_pairs / sizeof *reset_pairs)

static void test_reset(void)
{
    vg_reset r, d;
    memset(&r, 0, sizeof r);
    strcpy(r.device, "pump-7");
    strcpy(r.operator_id, "alice@ops");
    r.t_us = -100;
    r.trip_id = 3;
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, buf, sizeof buf, &len), VG_OK);
    check_bytes("reset", reset_pairs, NRESET, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_reset_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.operator_id, "alice@ops");
    CU_ASSERT_EQUAL(d.t_us, -100);
    CU_ASSERT_EQUAL(d.trip_id, 3);
    check_caps("reset", enc_reset, &r, len);
    check_generic("reset", dec_reset, reset_pairs, NRESET);
    check_framing("reset", dec_reset, buf, len);
    /* an empty operator is omitted */
    r.operator_id[0] = '\0';
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, buf, sizeof buf, &len), VG_OK);
    const tpair no_op[] = {reset_pairs[0], reset_pairs[1], reset_pairs[3], reset_pairs[4]};
    check_bytes("reset without operator", no_op, 4, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_reset_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.operator_id, "");
}

int init_msg_reset_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_reset", NULL, NULL);
    if (!s || !CU_add_test(s, "reset", test_reset))
        return CU_get_error();
    return 0;
}
