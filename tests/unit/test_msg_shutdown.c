/*
 * test_msg_shutdown.c - the shutdown (trip) command codec
 * (vg_shutdown_*): round trip, malformed variants, and the array of recent
 * samples (counts, limits, element types).
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

/* ---- shutdown ---- */

static int dec_shutdown(const uint8_t *b, size_t n)
{
    vg_shutdown s;
    return vg_shutdown_decode(b, n, &s);
}

static int enc_shutdown(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_shutdown_encode(o, b, cap, len);
}

static vg_shutdown sample_shutdown(uint32_t n)
{
    vg_shutdown s;
    memset(&s, 0, sizeof s);
    strcpy(s.device, "press-1");
    strcpy(s.channel, "pressure");
    strcpy(s.reason, "high limit 3 of 4");
    s.detector = VG_DET_LIMIT;
    s.trip_id = 5;
    s.t_us = 1700000000500000;
    s.model_version = 0;
    s.nsamples = n;
    for (uint32_t i = 0; i < n; i++) {
        s.samples[i].t_us = 1700000000000000 + 1000 * (int64_t)i;
        s.samples[i].value = i == 1 ? NAN : 10.5 + i;
    }
    return s;
}

/* The hand-built samples array of sample_shutdown(n). */
static void tb_shutdown_samples(tb *b, uint32_t n)
{
    tb_array(b, n);
    for (uint32_t i = 0; i < n; i++) {
        tb_array(b, 2);
        tb_int(b, 1700000000000000 + 1000 * (int64_t)i);
        tb_float(b, i == 1 ? NAN : 10.5 + i);
    }
}

static void shutdown_pairs(tpair *p, const tb *samples)
{
    const tpair base[] = {
        PV,
        PT(1, C_DEV, "press-1"),
        PT(2, C_CHAN, "pressure"),
        PX(3, "high limit 3 of 4", VG_REASON_MAX + 1, true),
        PT(4, C_DET, "limit"),
        PU(5, 5),
        PI(6, 1700000000500000),
        PU(7, 0),
        PR(8, *samples),
    };
    memcpy(p, base, sizeof base);
}

static void test_shutdown(void)
{
    uint8_t sbuf[1024], buf[1024];
    tb sb;
    tb_init(&sb, sbuf, sizeof sbuf);
    tb_shutdown_samples(&sb, 4);
    tpair p[9];
    shutdown_pairs(p, &sb);
    vg_shutdown s = sample_shutdown(4), d;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_encode(&s, buf, sizeof buf, &len), VG_OK);
    check_bytes("shutdown", p, 9, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.reason, s.reason);
    CU_ASSERT_EQUAL(d.detector, VG_DET_LIMIT);
    CU_ASSERT_EQUAL(d.nsamples, 4);
    for (uint32_t i = 0; i < 4; i++) {
        CU_ASSERT_EQUAL(d.samples[i].t_us, s.samples[i].t_us);
        CU_ASSERT_EQUAL(dbits(d.samples[i].value), dbits(s.samples[i].value));
    }
    check_caps("shutdown", enc_shutdown, &s, len);
    check_generic("shutdown", dec_shutdown, p, 9);
    check_framing("shutdown", dec_shutdown, buf, len);
}

static void test_shutdown_samples(void)
{
    uint8_t sbuf[2048], buf[2048];
    tb sb;
    tpair p[9];
    size_t len;
    vg_shutdown s = sample_shutdown(VG_SHUTDOWN_MAX_SAMPLES), d;
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_encode(&s, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.nsamples, VG_SHUTDOWN_MAX_SAMPLES);
    s.nsamples = VG_SHUTDOWN_MAX_SAMPLES + 1;
    CU_ASSERT_EQUAL(vg_shutdown_encode(&s, buf, sizeof buf, &len), VG_ETOOBIG);
    /* 17 samples on the wire */
    tb_init(&sb, sbuf, sizeof sbuf);
    tb_shutdown_samples(&sb, VG_SHUTDOWN_MAX_SAMPLES + 1);
    shutdown_pairs(p, &sb);
    CU_ASSERT_EQUAL(dec_pairs(dec_shutdown, p, 9), VG_ETOOBIG);
    /* a sample that is not a [t, value] pair */
    static const uint8_t one[] = {0x81, 0x81, 0x01};
    static const uint8_t three[] = {0x81, 0x83, 0x01, 0xf9, 0x3c, 0x00, 0x01};
    static const uint8_t int_value[] = {0x81, 0x82, 0x01, 0x02};
    static const uint8_t map_sample[] = {0x81, 0xa1, 0x01, 0x02};
    const uint8_t *bad[] = {one, three, int_value, map_sample};
    const size_t bad_len[] = {sizeof one, sizeof three, sizeof int_value, sizeof map_sample};
    for (size_t k = 0; k < 4; k++) {
        tb_init(&sb, sbuf, sizeof sbuf);
        tb_raw(&sb, bad[k], bad_len[k]);
        shutdown_pairs(p, &sb);
        expect_rc("shutdown", "bad sample", k, dec_pairs(dec_shutdown, p, 9), VG_EDECODE);
    }
    /* an empty list is fine */
    tb_init(&sb, sbuf, sizeof sbuf);
    tb_array(&sb, 0);
    shutdown_pairs(p, &sb);
    CU_ASSERT_EQUAL(dec_pairs(dec_shutdown, p, 9), VG_OK);
    /* an unterminated reason cannot be encoded */
    s = sample_shutdown(1);
    memset(s.reason, 'r', sizeof s.reason);
    CU_ASSERT_EQUAL(vg_shutdown_encode(&s, buf, sizeof buf, &len), VG_EINVAL);
}

int init_msg_shutdown_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_shutdown", NULL, NULL);
    if (!s || !CU_add_test(s, "shutdown", test_shutdown) ||
        !CU_add_test(s, "shutdown samples", test_shutdown_samples))
        return CU_get_error();
    return 0;
}
