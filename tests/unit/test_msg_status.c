/*
 * test_msg_status.c - the status and samples-ack codecs (vg_status_*,
 * vg_samples_ack_*, both in vg_msg_status.c): round trips, malformed
 * variants, and the status counter map (names, counts, limits).
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

/* ---- status ---- */

static int dec_status(const uint8_t *b, size_t n)
{
    vg_status s;
    return vg_status_decode(b, n, &s);
}

static int enc_status(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_status_encode(o, b, cap, len);
}

static void status_pairs(tpair *p, const tb *counters)
{
    const tpair base[] = {
        PV,        PT(1, C_DEV, "edge-01"), PB(2, 1), PB(3, 0), PI(4, 1700000000000001),
        PU(5, 12), PR(6, *counters),
    };
    memcpy(p, base, sizeof base);
}

static void test_status(void)
{
    vg_status s, d;
    memset(&s, 0, sizeof s);
    strcpy(s.device, "edge-01");
    s.online = 1;
    s.latched = 0;
    s.t_us = 1700000000000001;
    s.model_version = 12;
    s.ncounter = 3;
    strcpy(s.counter[0].name, "samples_in");
    s.counter[0].value = 123456789;
    strcpy(s.counter[1].name, "decode.errors");
    s.counter[1].value = 0;
    strcpy(s.counter[2].name, "vg:trips-total");
    s.counter[2].value = UINT64_MAX;
    uint8_t cbuf[256], buf[1024];
    tb cb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_map(&cb, 3);
    tb_text(&cb, "samples_in");
    tb_uint(&cb, 123456789);
    tb_text(&cb, "decode.errors");
    tb_uint(&cb, 0);
    tb_text(&cb, "vg:trips-total");
    tb_uint(&cb, UINT64_MAX);
    tpair p[7];
    status_pairs(p, &cb);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_status_encode(&s, buf, sizeof buf, &len), VG_OK);
    check_bytes("status", p, 7, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_status_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.online, 1);
    CU_ASSERT_EQUAL(d.ncounter, 3);
    CU_ASSERT_STRING_EQUAL(d.counter[2].name, "vg:trips-total");
    CU_ASSERT_EQUAL(d.counter[2].value, UINT64_MAX);
    check_caps("status", enc_status, &s, len);
    check_generic("status", dec_status, p, 7);
    check_framing("status", dec_status, buf, len);
}

/* ---- samples ack ---- */

static int dec_samples_ack(const uint8_t *b, size_t n)
{
    vg_samples_ack a;
    return vg_samples_ack_decode(b, n, &a);
}

static int enc_samples_ack(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_samples_ack_encode(o, b, cap, len);
}

static const tpair samples_ack_pairs[] = {
    PV,
    PT(1, C_DEV, "edge-01"),
    PU(2, 41),
    PI(3, 1700000000000001),
};
#define NSACK (sizeof samples_ack_pairs / sizeof *samples_ack_pairs)

static void test_samples_ack(void)
{
    vg_samples_ack a = {.device = "edge-01", .seq = 41, .t_us = 1700000000000001}, d;
    uint8_t buf[256];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_samples_ack_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_bytes("samples ack", samples_ack_pairs, NSACK, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_samples_ack_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.device, "edge-01");
    CU_ASSERT_EQUAL(d.seq, 41);
    CU_ASSERT_EQUAL(d.t_us, 1700000000000001);
    check_caps("samples ack", enc_samples_ack, &a, len);
    check_generic("samples ack", dec_samples_ack, samples_ack_pairs, NSACK);
    check_framing("samples ack", dec_samples_ack, buf, len);
}

/* Builds a counters map of n entries named c<i>, or with a twist. */
static void tb_counters(tb *b, uint32_t n, const char *first, bool neg)
{
    char name[16];
    tb_map(b, n);
    for (uint32_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "c%u", (unsigned)i);
        tb_text(b, i == 0 && first ? first : name);
        if (neg)
            tb_neg(b, 0);
        else
            tb_uint(b, i);
    }
}

static void test_status_counters(void)
{
    uint8_t cbuf[2048];
    tb cb;
    tpair p[7];
    struct {
        uint32_t n;
        const char *first;
        bool neg;
        int want;
    } cases[] = {
        {0, NULL, false, VG_OK},
        {VG_STATUS_MAX_COUNTER, NULL, false, VG_OK},
        {VG_STATUS_MAX_COUNTER + 1, NULL, false, VG_ETOOBIG},
        {2, "c1", false, VG_EDECODE}, /* duplicate name */
        {1, "", false, VG_EDECODE},
        {1, "has space", false, VG_EDECODE},
        {1, "012345678901234567890123456789012345678901234567", false, VG_EDECODE},
        {1, "01234567890123456789012345678901234567890123456", false, VG_OK},
        {1, NULL, true, VG_EDECODE}, /* negative value */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_counters(&cb, cases[k].n, cases[k].first, cases[k].neg);
        status_pairs(p, &cb);
        expect_rc("status", "counters", k, dec_pairs(dec_status, p, 7), cases[k].want);
    }
    vg_status s;
    uint8_t buf[4096];
    size_t len;
    memset(&s, 0, sizeof s);
    strcpy(s.device, "edge-01");
    s.ncounter = 2;
    strcpy(s.counter[0].name, "x");
    strcpy(s.counter[1].name, "x");
    CU_ASSERT_EQUAL(vg_status_encode(&s, buf, sizeof buf, &len), VG_EINVAL);
    strcpy(s.counter[1].name, "bad name");
    CU_ASSERT_EQUAL(vg_status_encode(&s, buf, sizeof buf, &len), VG_EINVAL);
    s.ncounter = VG_STATUS_MAX_COUNTER + 1;
    CU_ASSERT_EQUAL(vg_status_encode(&s, buf, sizeof buf, &len), VG_ETOOBIG);
    s.ncounter = 0;
    s.online = 3;
    CU_ASSERT_EQUAL(vg_status_encode(&s, buf, sizeof buf, &len), VG_EINVAL);
}

int init_msg_status_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_status", NULL, NULL);
    if (!s || !CU_add_test(s, "status", test_status) ||
        !CU_add_test(s, "samples ack", test_samples_ack) ||
        !CU_add_test(s, "status counters", test_status_counters))
        return CU_get_error();
    return 0;
}
