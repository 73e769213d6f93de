/*
 * test_cbor.c - the core's CBOR writer (shared/vg_cbor.c) against libcbor.
 *
 * The writer encodes every head itself; libcbor's cbor_encode_*() buffer
 * functions are an independent implementation of the same shortest-form
 * rules (and the writer's former back end), so every put is checked byte
 * for byte against them: every argument-size boundary (23/24, 255/256, ...,
 * UINT64_MAX, INT64_MIN), special doubles (NaN with payloads, infinities,
 * -0.0, subnormals), seeded random values, and, for each, every buffer too
 * small by one or more bytes (sticky VG_ENOSPC, nothing written).
 * libcbor is linked into the unit tests only; no shipped program uses it.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cbor.h>

#include "test_util.h"
#include "vg_cbor.h"
#include "vg_error.h"

/* One head kind: the writer's put and libcbor's encoder for it. */
struct head_kind {
    const char *name;
    int (*put)(vg_cbor_writer *w, uint64_t v);
    size_t (*ref)(uint64_t v, unsigned char *buf, size_t cap);
};

static int put_uint(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_uint(w, v);
}

/* v is the CBOR argument n of the negative integer -1-n (n <= INT64_MAX). */
static int put_negint(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_int(w, -1 - (int64_t)v);
}

static int put_array(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_array(w, (size_t)v);
}

static int put_map(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_map(w, (size_t)v);
}

static int put_tag(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_tag(w, v);
}

static int put_bytes_head(vg_cbor_writer *w, uint64_t v)
{
    return vg_cbor_put_bytes_head(w, (size_t)v);
}

static size_t ref_array(uint64_t v, unsigned char *b, size_t cap)
{
    return cbor_encode_array_start((size_t)v, b, cap);
}

static size_t ref_map(uint64_t v, unsigned char *b, size_t cap)
{
    return cbor_encode_map_start((size_t)v, b, cap);
}

static size_t ref_bytes_head(uint64_t v, unsigned char *b, size_t cap)
{
    return cbor_encode_bytestring_start((size_t)v, b, cap);
}

static const struct head_kind kinds[] = {
    {"uint", put_uint, cbor_encode_uint}, {"negint", put_negint, cbor_encode_negint},
    {"array", put_array, ref_array},      {"map", put_map, ref_map},
    {"tag", put_tag, cbor_encode_tag},    {"bytes head", put_bytes_head, ref_bytes_head},
};
#define NKIND (sizeof kinds / sizeof *kinds)

/* Checks one head: the writer's bytes equal libcbor's with room to spare,
 * and with every smaller buffer the writer reports VG_ENOSPC, stays there
 * for a following put and leaves the buffer untouched. */
static void check_head(const struct head_kind *k, uint64_t v)
{
    unsigned char want[16];
    size_t n = k->ref(v, want, sizeof want);
    CU_ASSERT_FATAL(n >= 1 && n <= 9);
    uint8_t got[16];
    for (size_t cap = 0; cap <= n; cap++) {
        memset(got, 0xee, sizeof got);
        vg_cbor_writer w;
        vg_cbor_writer_init(&w, got, cap);
        int rc = k->put(&w, v);
        size_t len = 0;
        if (cap < n) {
            CU_ASSERT_EQUAL(rc, VG_ENOSPC);
            CU_ASSERT_EQUAL(vg_cbor_put_uint(&w, 0), VG_ENOSPC); /* sticky */
            CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_ENOSPC);
            CU_ASSERT_EQUAL(got[0], 0xee);
        } else {
            CU_ASSERT_EQUAL(rc, VG_OK);
            CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
            CU_ASSERT_EQUAL(len, n);
            if (len != n || memcmp(got, want, n) != 0)
                CU_FAIL(k->name);
        }
    }
}

/* Every argument-size boundary, and both sides of it. */
static const uint64_t boundaries[] = {
    0,
    1,
    22,
    23,
    24,
    25,
    254,
    255,
    256,
    257,
    65534,
    65535,
    65536,
    65537,
    0xfffffffeu,
    0xffffffffu,
    0x100000000ull,
    0x100000001ull,
    INT64_MAX - 1,
    (uint64_t)INT64_MAX,
    (uint64_t)INT64_MAX + 1,
    UINT64_MAX - 1,
    UINT64_MAX,
};

static void test_heads_at_boundaries(void)
{
    for (size_t k = 0; k < NKIND; k++)
        for (size_t i = 0; i < sizeof boundaries / sizeof *boundaries; i++) {
            uint64_t v = boundaries[i];
            if (kinds[k].put == put_negint && v > (uint64_t)INT64_MAX)
                continue; /* below INT64_MIN: not an int64_t */
            if (v > SIZE_MAX && (kinds[k].put != put_uint && kinds[k].put != put_tag))
                continue;
            check_head(&kinds[k], v);
        }
}

static void test_heads_random(void)
{
    uint64_t seed = 42;
    for (int i = 0; i < 20000; i++) {
        /* a random width (1..64 bits) so every argument form is common */
        unsigned bits = 1 + (unsigned)(vg_test_rand(&seed) % 64);
        uint64_t v = vg_test_rand(&seed) >> (64 - bits);
        const struct head_kind *k = &kinds[vg_test_rand(&seed) % NKIND];
        if (k->put == put_negint)
            v >>= 1;
        if (v > SIZE_MAX && (k->put != put_uint && k->put != put_tag))
            continue;
        check_head(k, v);
    }
}

/* int64 extremes through vg_cbor_put_int directly. */
static void test_int_extremes(void)
{
    static const int64_t vals[] = {
        INT64_MIN, INT64_MIN + 1, -4294967297, -4294967296, -65537, -65536, -257,     -256,
        -25,       -24,           -1,          0,           23,     24,     INT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        unsigned char want[16];
        int64_t v = vals[i];
        size_t n = v >= 0 ? cbor_encode_uint((uint64_t)v, want, sizeof want)
                          : cbor_encode_negint((uint64_t)(-(v + 1)), want, sizeof want);
        uint8_t got[16];
        vg_cbor_writer w;
        size_t len = 0;
        vg_cbor_writer_init(&w, got, sizeof got);
        CU_ASSERT_EQUAL(vg_cbor_put_int(&w, v), VG_OK);
        CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
        CU_ASSERT_EQUAL(len, n);
        CU_ASSERT_EQUAL(memcmp(got, want, n), 0);
    }
}

/* Floats: always 0xfb + the double's 8 bytes big-endian, as libcbor. */
static void check_float(double v)
{
    unsigned char want[16];
    size_t n = cbor_encode_double(v, want, sizeof want);
    CU_ASSERT_EQUAL_FATAL(n, 9);
    uint8_t got[16];
    for (size_t cap = 0; cap <= n; cap++) {
        vg_cbor_writer w;
        size_t len = 0;
        memset(got, 0xee, sizeof got);
        vg_cbor_writer_init(&w, got, cap);
        int rc = vg_cbor_put_float(&w, v);
        CU_ASSERT_EQUAL(rc, cap < n ? VG_ENOSPC : VG_OK);
        if (cap < n) {
            CU_ASSERT_EQUAL(got[0], 0xee);
            continue;
        }
        CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
        CU_ASSERT_EQUAL(len, 9);
        CU_ASSERT_EQUAL(memcmp(got, want, 9), 0);
    }
}

static double bits_double(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

static void test_floats(void)
{
    static const uint64_t special[] = {
        0x7ff8000000000000ull, /* quiet NaN */
        0x7ff0000000000001ull, /* signalling NaN, payload 1 */
        0xfff8000000000abcull, /* negative NaN with payload */
        0x7ff0000000000000ull, /* +inf */
        0xfff0000000000000ull, /* -inf */
        0x8000000000000000ull, /* -0.0 */
        0x0000000000000001ull, /* smallest subnormal */
        0x000fffffffffffffull, /* largest subnormal */
        0x7fefffffffffffffull, /* DBL_MAX */
    };
    for (size_t i = 0; i < sizeof special / sizeof *special; i++)
        check_float(bits_double(special[i]));
    static const double plain[] = {0.0, 1.0, 1.5, -2.5, 65504.0, 1e-300, 3.141592653589793};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        check_float(plain[i]);
    uint64_t seed = 7;
    for (int i = 0; i < 5000; i++)
        check_float(bits_double(vg_test_rand(&seed)));
}

/* Booleans and strings (head + content) against libcbor, lengths across
 * the 23/24 and 255/256 boundaries. */
static void test_bool_and_strings(void)
{
    unsigned char want[600];
    uint8_t got[600], src[300];
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)('a' + i % 26);
    for (int b = 0; b <= 1; b++) {
        vg_cbor_writer w;
        size_t len = 0;
        vg_cbor_writer_init(&w, got, sizeof got);
        vg_cbor_put_bool(&w, b);
        CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
        CU_ASSERT_EQUAL(len, cbor_encode_bool(b, want, sizeof want));
        CU_ASSERT_EQUAL(got[0], want[0]);
    }
    static const size_t lens[] = {0, 1, 23, 24, 255, 256, 300};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        size_t n = lens[i];
        size_t h = cbor_encode_string_start(n, want, sizeof want);
        memcpy(want + h, src, n);
        vg_cbor_writer w;
        size_t len = 0;
        vg_cbor_writer_init(&w, got, sizeof got);
        vg_cbor_put_text(&w, (const char *)src, n);
        CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
        CU_ASSERT_EQUAL(len, h + n);
        CU_ASSERT_EQUAL(memcmp(got, want, h + n), 0);
        /* a buffer one byte short: VG_ENOSPC */
        vg_cbor_writer_init(&w, got, h + n - 1);
        CU_ASSERT_EQUAL(vg_cbor_put_text(&w, (const char *)src, n), VG_ENOSPC);
        h = cbor_encode_bytestring_start(n, want, sizeof want);
        memcpy(want + h, src, n);
        vg_cbor_writer_init(&w, got, sizeof got);
        vg_cbor_put_bytes(&w, src, n);
        CU_ASSERT_EQUAL(vg_cbor_writer_finish(&w, &len), VG_OK);
        CU_ASSERT_EQUAL(len, h + n);
        CU_ASSERT_EQUAL(memcmp(got, want, h + n), 0);
    }
}

int init_cbor_tests(void)
{
    CU_pSuite s = CU_add_suite("cbor", NULL, NULL);
    if (!s || !CU_add_test(s, "heads at every boundary vs libcbor", test_heads_at_boundaries) ||
        !CU_add_test(s, "random heads vs libcbor", test_heads_random) ||
        !CU_add_test(s, "int64 extremes vs libcbor", test_int_extremes) ||
        !CU_add_test(s, "float64 bit-exact vs libcbor", test_floats) ||
        !CU_add_test(s, "bool and strings vs libcbor", test_bool_and_strings))
        return CU_get_error();
    return 0;
}
