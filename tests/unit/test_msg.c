/*
 * test_msg.c - unit tests of the CBOR reader/writer (vg_cbor) that every
 * message codec is built on: heads and strictness, integers and floats,
 * lengths against the remaining bytes, UTF-8 validation, the depth-limited
 * skip, and the writer with VG_ENOSPC.  The codecs themselves are tested
 * per message kind in test_msg_<kind>.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

/* ---- vg_cbor ---- */

static int cbor_next_rc(const uint8_t *buf, size_t len, vg_cbor_item *it)
{
    vg_cbor_reader r;
    vg_cbor_reader_init(&r, buf, len);
    return vg_cbor_next(&r, it);
}

static void test_cbor_heads(void)
{
    vg_cbor_item it;
    static const uint8_t u64[] = {0x1b, 1, 2, 3, 4, 5, 6, 7, 8};
    CU_ASSERT_EQUAL(cbor_next_rc(u64, sizeof u64, &it), VG_OK);
    CU_ASSERT_EQUAL(it.type, VG_CBOR_UINT);
    CU_ASSERT_EQUAL(it.val, 0x0102030405060708ull);
    for (size_t k = 0; k < sizeof u64; k++)
        CU_ASSERT_EQUAL(cbor_next_rc(u64, k, &it), VG_ETRUNC);
    static const uint8_t nonmin[] = {0x18, 0x01};
    CU_ASSERT_EQUAL(cbor_next_rc(nonmin, 2, &it), VG_OK);
    CU_ASSERT_EQUAL(it.val, 1);
    static const uint8_t bad[] = {0x1c, 0x1d, 0x1e, 0x1f, 0x5f, 0x7f, 0x9f, 0xbf,
                                  0xff, 0xe0, 0xf3, 0xf8, 0xfc, 0xdf, 0x3f};
    for (size_t k = 0; k < sizeof bad; k++) {
        uint8_t b[4] = {bad[k], 0, 0, 0};
        CU_ASSERT_EQUAL(cbor_next_rc(b, sizeof b, &it), VG_EDECODE);
    }
    static const uint8_t tag18[] = {0xd2};
    CU_ASSERT_EQUAL(cbor_next_rc(tag18, 1, &it), VG_OK);
    CU_ASSERT_EQUAL(it.type, VG_CBOR_TAG);
    CU_ASSERT_EQUAL(it.val, 18);
    static const uint8_t simple[] = {0xf4, 0xf5, 0xf6, 0xf7};
    static const uint8_t stype[] = {VG_CBOR_BOOL, VG_CBOR_BOOL, VG_CBOR_NULL, VG_CBOR_UNDEF};
    for (size_t k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(cbor_next_rc(simple + k, 1, &it), VG_OK);
        CU_ASSERT_EQUAL(it.type, stype[k]);
    }
}

static void test_cbor_ints_floats(void)
{
    vg_cbor_reader r;
    int64_t v;
    double d;
    static const uint8_t neg_min[] = {0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    vg_cbor_reader_init(&r, neg_min, sizeof neg_min);
    CU_ASSERT_EQUAL(vg_cbor_read_int(&r, &v), VG_OK);
    CU_ASSERT_EQUAL(v, INT64_MIN);
    static const uint8_t neg_over[] = {0x3b, 0x80, 0, 0, 0, 0, 0, 0, 0};
    vg_cbor_reader_init(&r, neg_over, sizeof neg_over);
    CU_ASSERT_EQUAL(vg_cbor_read_int(&r, &v), VG_EDECODE);
    static const uint8_t pos_over[] = {0x1b, 0x80, 0, 0, 0, 0, 0, 0, 0};
    vg_cbor_reader_init(&r, pos_over, sizeof pos_over);
    CU_ASSERT_EQUAL(vg_cbor_read_int(&r, &v), VG_EDECODE);
    /* half: 1.0, -2.0, smallest subnormal, Inf, NaN; single 0.1f */
    static const uint8_t halves[][3] = {{0xf9, 0x3c, 0x00}, {0xf9, 0xc0, 0x00}, {0xf9, 0x00, 0x01},
                                        {0xf9, 0x7c, 0x00}, {0xf9, 0x7e, 0x00}, {0xf9, 0x7b, 0xff}};
    const double want[] = {1.0, -2.0, ldexp(1, -24), INFINITY, NAN, 65504.0};
    for (size_t k = 0; k < 6; k++) {
        vg_cbor_reader_init(&r, halves[k], 3);
        CU_ASSERT_EQUAL(vg_cbor_read_float(&r, &d), VG_OK);
        if (isnan(want[k])) {
            CU_ASSERT(isnan(d));
        } else {
            CU_ASSERT_EQUAL(d, want[k]);
        }
    }
    static const uint8_t single[] = {0xfa, 0x3d, 0xcc, 0xcc, 0xcd};
    vg_cbor_reader_init(&r, single, sizeof single);
    CU_ASSERT_EQUAL(vg_cbor_read_float(&r, &d), VG_OK);
    CU_ASSERT_EQUAL(d, (double)0.1f);
    static const uint8_t one[] = {0x01};
    vg_cbor_reader_init(&r, one, 1);
    CU_ASSERT_EQUAL(vg_cbor_read_float(&r, &d), VG_EDECODE);
}

static void test_cbor_lengths(void)
{
    vg_cbor_item it;
    static const uint8_t bstr[] = {0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0, 1};
    CU_ASSERT_EQUAL(cbor_next_rc(bstr, sizeof bstr, &it), VG_ETRUNC);
    static const uint8_t arr[] = {0x9a, 0x00, 0x00, 0x00, 0x03, 1, 2};
    CU_ASSERT_EQUAL(cbor_next_rc(arr, sizeof arr, &it), VG_ETRUNC);
    CU_ASSERT_EQUAL(cbor_next_rc(arr, sizeof arr + 0, &it), VG_ETRUNC);
    static const uint8_t arr_ok[] = {0x83, 1, 2, 3};
    CU_ASSERT_EQUAL(cbor_next_rc(arr_ok, sizeof arr_ok, &it), VG_OK);
    static const uint8_t map[] = {0xa2, 1, 2, 3};
    CU_ASSERT_EQUAL(cbor_next_rc(map, sizeof map, &it), VG_ETRUNC);
    static const uint8_t map_ok[] = {0xa2, 1, 2, 3, 4};
    CU_ASSERT_EQUAL(cbor_next_rc(map_ok, sizeof map_ok, &it), VG_OK);
    CU_ASSERT_EQUAL(it.val, 2);
    static const uint8_t text[] = {0x63, 'a', 'b'};
    CU_ASSERT_EQUAL(cbor_next_rc(text, sizeof text, &it), VG_ETRUNC);
}

static void test_cbor_utf8(void)
{
    static const char *good[] = {
        "", "plain", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf"};
    static const char *bad[] = {"\xc0\x80",
                                "\xc1\xbf",
                                "\xe0\x80\x80",
                                "\xed\xa0\x80",
                                "\xf0\x80\x80\x80",
                                "\xf4\x90\x80\x80",
                                "\xf8\x88\x80\x80\x80",
                                "\x80",
                                "\xc3",
                                "\xe2\x82",
                                "\xff"};
    for (size_t k = 0; k < sizeof good / sizeof *good; k++)
        CU_ASSERT_TRUE(vg_cbor_utf8_valid((const uint8_t *)good[k], strlen(good[k])));
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++)
        CU_ASSERT_FALSE(vg_cbor_utf8_valid((const uint8_t *)bad[k], strlen(bad[k])));
    vg_cbor_item it;
    static const uint8_t t[] = {0x62, 0xc3, 0x28};
    CU_ASSERT_EQUAL(cbor_next_rc(t, sizeof t, &it), VG_EDECODE);
}

static void test_cbor_skip(void)
{
    vg_cbor_reader r;
    /* [1, {2: [3, h'04']}, 5] then 6 */
    static const uint8_t nested[] = {0x83, 0x01, 0xa1, 0x02, 0x82, 0x03, 0x41, 0x04, 0x05, 0x06};
    vg_cbor_reader_init(&r, nested, sizeof nested);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, 4), VG_OK);
    CU_ASSERT_EQUAL(vg_cbor_remaining(&r), 1);
    vg_cbor_reader_init(&r, nested, sizeof nested);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, 2), VG_ETOOBIG);
    for (size_t k = 0; k < sizeof nested - 1; k++) {
        vg_cbor_reader_init(&r, nested, k);
        CU_ASSERT_EQUAL(vg_cbor_skip(&r, 8), VG_ETRUNC);
    }
    uint8_t deep[64];
    memset(deep, 0x81, sizeof deep); /* [[[[...]]]] */
    deep[sizeof deep - 1] = 0x00;
    vg_cbor_reader_init(&r, deep, sizeof deep);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, 100), VG_ETOOBIG);
    memset(deep, 0xd8, sizeof deep); /* a chain of tags 0xd8 0xd8 ... */
    vg_cbor_reader_init(&r, deep, sizeof deep);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, VG_CBOR_MAX_DEPTH), VG_ETOOBIG);
    static const uint8_t empty[] = {0x80, 0xa0};
    vg_cbor_reader_init(&r, empty, sizeof empty);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, 0), VG_OK);
    CU_ASSERT_EQUAL(vg_cbor_skip(&r, 0), VG_OK);
    CU_ASSERT_EQUAL(vg_cbor_remaining(&r), 0);
}

static void test_cbor_writer(void)
{
    uint8_t buf[64];
    for (size_t cap = 0; cap <= 28; cap++) {
        vg_cbor_writer w;
        size_t len = 0;
        vg_cbor_writer_init(&w, cap ? buf : NULL, cap);
        vg_cbor_put_map(&w, 2);
        vg_cbor_put_int(&w, -500);
        vg_cbor_put_text(&w, "hello", 5);
        vg_cbor_put_uint(&w, 1ull << 40);
        vg_cbor_put_float(&w, 1.5);
        int rc = vg_cbor_writer_finish(&w, &len);
        CU_ASSERT_EQUAL(rc, cap < 28 ? VG_ENOSPC : VG_OK);
        if (rc == VG_OK) {
            static const uint8_t want[28] = {0xa2, 0x39, 0x01, 0xf3, 0x65, 'h', 'e', 'l', 'l', 'o',
                                             0x1b, 0,    0,    0x01, 0,    0,   0,   0,   0,   0xfb,
                                             0x3f, 0xf8, 0,    0,    0,    0,   0,   0};
            CU_ASSERT_EQUAL(len, 28);
            CU_ASSERT_EQUAL(memcmp(buf, want, 28), 0);
        }
    }
}

int init_msg_tests(void)
{
    CU_pSuite s = CU_add_suite("cbor", NULL, NULL);
    if (!s || !CU_add_test(s, "heads and strictness", test_cbor_heads) ||
        !CU_add_test(s, "integers and floats", test_cbor_ints_floats) ||
        !CU_add_test(s, "lengths vs remaining bytes", test_cbor_lengths) ||
        !CU_add_test(s, "UTF-8 validation", test_cbor_utf8) ||
        !CU_add_test(s, "depth-limited skip", test_cbor_skip) ||
        !CU_add_test(s, "writer and ENOSPC", test_cbor_writer))
        return CU_get_error();
    return 0;
}
