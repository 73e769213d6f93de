/*
 * test_msg_fixture.c - the shared fixtures of the message codec tests
 * (declared, with their contracts, in test_msg_fixture.h), and a check of
 * the hand builder itself: the expected encodings of every codec test are
 * built with it, so it is pinned here to the examples of RFC 8949
 * Appendix A (which libcbor's preferred serialisation must reproduce).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_msg_fixture.h"
#include "vg_error.h"
#include "vg_msg.h"

void tb_init(tb *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
}

void tb_took(tb *b, size_t n)
{
    CU_ASSERT_FATAL(n > 0);
    b->len += n;
}

void tb_uint(tb *b, uint64_t v)
{
    tb_took(b, cbor_encode_uint(v, TB_ROOM(b)));
}

void tb_neg(tb *b, uint64_t n)
{
    tb_took(b, cbor_encode_negint(n, TB_ROOM(b)));
}

void tb_int(tb *b, int64_t v)
{
    if (v >= 0)
        tb_uint(b, (uint64_t)v);
    else
        tb_neg(b, (uint64_t)(-(v + 1)));
}

void tb_float(tb *b, double v)
{
    tb_took(b, cbor_encode_double(v, TB_ROOM(b)));
}

void tb_raw(tb *b, const void *p, size_t n)
{
    CU_ASSERT_FATAL(b->cap - b->len >= n);
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
}

void tb_textn(tb *b, const char *s, size_t n)
{
    tb_took(b, cbor_encode_string_start(n, TB_ROOM(b)));
    tb_raw(b, s, n);
}

void tb_text(tb *b, const char *s)
{
    tb_textn(b, s, strlen(s));
}

void tb_bytes(tb *b, const void *p, size_t n)
{
    tb_took(b, cbor_encode_bytestring_start(n, TB_ROOM(b)));
    tb_raw(b, p, n);
}

void tb_array(tb *b, size_t n)
{
    tb_took(b, cbor_encode_array_start(n, TB_ROOM(b)));
}

void tb_map(tb *b, size_t n)
{
    tb_took(b, cbor_encode_map_start(n, TB_ROOM(b)));
}

void tb_tag(tb *b, uint64_t t)
{
    tb_took(b, cbor_encode_tag(t, TB_ROOM(b)));
}

void le32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

void le64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

void tb_value(tb *b, const tpair *p)
{
    switch (p->kind) {
    case P_UINT:
        tb_uint(b, p->u);
        break;
    case P_NEG:
        tb_neg(b, p->u);
        break;
    case P_FLOAT:
        tb_float(b, p->f);
        break;
    case P_HALF:
        tb_took(b, cbor_encode_half((float)p->f, TB_ROOM(b)));
        break;
    case P_TEXT:
        tb_textn(b, p->s, p->slen ? p->slen : strlen(p->s));
        break;
    case P_BOOL:
        tb_took(b, cbor_encode_bool(p->u != 0, TB_ROOM(b)));
        break;
    case P_NULL:
        tb_took(b, cbor_encode_null(TB_ROOM(b)));
        break;
    default:
        tb_raw(b, p->raw, p->rawlen);
        break;
    }
}

void tb_pairs(tb *b, const tpair *p, size_t n)
{
    tb_map(b, n);
    for (size_t i = 0; i < n; i++) {
        if (p[i].key == KEY_TEXT)
            tb_text(b, "k");
        else if (p[i].key == KEY_NEG)
            tb_neg(b, 0);
        else
            tb_uint(b, p[i].key);
        tb_value(b, &p[i]);
    }
}

/* Decodes buf[0..len) from an exact-size heap copy (ASan sees over-reads). */
int dec_exact(tdec dec, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    CU_ASSERT_FATAL(copy != NULL);
    if (len)
        memcpy(copy, buf, len);
    int rc = dec(copy, len);
    free(copy);
    return rc;
}

int dec_pairs(tdec dec, const tpair *p, size_t n)
{
    const size_t cap = 1 << 16;
    uint8_t *buf = malloc(cap);
    tb b;
    CU_ASSERT_FATAL(buf != NULL);
    tb_init(&b, buf, cap);
    tb_pairs(&b, p, n);
    int rc = dec_exact(dec, b.buf, b.len);
    free(buf);
    return rc;
}

/* Records a failure naming the case when got != want. */
void expect_rc(const char *msg, const char *what, size_t i, int got, int want)
{
    if (got != want)
        fprintf(stderr, "\n  %s: %s (pair %zu): got %s, want %s\n", msg, what, i, vg_errname(got),
                vg_errname(want));
    CU_ASSERT_EQUAL(got, want);
}

/* Decodes the base pairs with pair i replaced by *v (or removed if !v, or
 * with *v appended if i == n). */
int dec_variant(tdec dec, const tpair *base, size_t n, size_t i, const tpair *v)
{
    tpair p[40];
    size_t m = 0;
    CU_ASSERT_FATAL(n < 39);
    for (size_t k = 0; k < n; k++) {
        if (k != i)
            p[m++] = base[k];
        else if (v)
            p[m++] = *v;
    }
    if (i == n && v)
        p[m++] = *v;
    return dec_pairs(dec, p, m);
}

/* Replaces pair i's value by `repl` (same key) and expects `want`. */
void expect_value(const char *msg, tdec dec, const tpair *base, size_t n, size_t i, tpair repl,
                  int want, const char *what)
{
    repl.key = base[i].key;
    expect_rc(msg, what, i, dec_variant(dec, base, n, i, &repl), want);
}

/* Fills txt with n 'a's (n < 300) for length limits. */
const char *text_of(char txt[300], size_t n)
{
    memset(txt, 'a', n);
    txt[n] = '\0';
    return txt;
}

/* Class-specific value mutations of pair i. */
void check_class(const char *msg, tdec dec, const tpair *p, size_t n, size_t i)
{
    tpair t = p[i];
    char txt[300];
    switch (p[i].cls) {
    case C_U64:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_NEG, .u = 0}, VG_EDECODE, "uint < 0");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = 1}, VG_EDECODE, "float");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_UINT, .u = UINT64_MAX}, VG_OK, "max");
        break;
    case C_I64:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_UINT, .u = 1ull << 63}, VG_EDECODE,
                     "2^63");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_NEG, .u = 1ull << 63}, VG_EDECODE,
                     "-2^63-1");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_NEG, .u = (1ull << 63) - 1}, VG_OK,
                     "INT64_MIN");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = 1}, VG_EDECODE, "float");
        break;
    case C_BOOL:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_UINT, .u = 1}, VG_EDECODE, "int flag");
        break;
    case C_DEV:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "bad id!"}, VG_EDECODE,
                     "bad device");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "a.b"}, VG_EDECODE,
                     "dot in device");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "", .slen = 0}, VG_EDECODE,
                     "empty device");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, 65)}, VG_EDECODE,
                     "65-byte device");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, 64)}, VG_OK,
                     "64-byte device");
        break;
    case C_CHAN:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "a/b"}, VG_EDECODE,
                     "bad channel");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, 33)}, VG_EDECODE,
                     "33-byte channel");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, 32)}, VG_OK,
                     "32-byte channel");
        break;
    case C_TEXT:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, t.size)},
                     VG_ETOOBIG, "text too long");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = text_of(txt, t.size - 1u)},
                     VG_OK, "text at limit");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "a\0b", .slen = 3}, VG_EDECODE,
                     "NUL in text");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "\xc3\x28", .slen = 2},
                     VG_EDECODE, "bad UTF-8");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "\xc3\xa9t\xc3\xa9"}, VG_OK,
                     "UTF-8 text");
        break;
    case C_SCORE:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = NAN}, VG_ENAN, "NaN score");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = INFINITY}, VG_ENAN,
                     "Inf score");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = 1.5}, VG_EDECODE,
                     "score > 1");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = -0.25}, VG_EDECODE,
                     "score < 0");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_HALF, .f = 0.5}, VG_OK, "half score");
        break;
    case C_PARAM:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = NAN}, VG_ENAN, "NaN param");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = -INFINITY}, VG_ENAN,
                     "-Inf param");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_HALF, .f = 2.0}, VG_OK, "half param");
        break;
    case C_REAL:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_FLOAT, .f = NAN}, VG_OK, "NaN value");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_HALF, .f = -INFINITY}, VG_OK,
                     "-Inf half");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_UINT, .u = 3}, VG_EDECODE, "int real");
        break;
    case C_DET:
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "bogus"}, VG_EDECODE,
                     "unknown detector");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_TEXT, .s = "none"}, VG_OK, "none");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_UINT, .u = 1}, VG_EDECODE,
                     "detector as int");
        break;
    default:
        break;
    }
}

/* Malformed variants that apply to every top-level message. */
void check_generic(const char *msg, tdec dec, const tpair *p, size_t n)
{
    expect_rc(msg, "valid", 0, dec_pairs(dec, p, n), VG_OK);
    /* schema version */
    expect_value(msg, dec, p, n, 0, (tpair){.kind = P_UINT, .u = 2}, VG_ESCHEMA, "version 2");
    expect_value(msg, dec, p, n, 0, (tpair){.kind = P_UINT, .u = 0}, VG_ESCHEMA, "version 0");
    expect_value(msg, dec, p, n, 0, (tpair){.kind = P_TEXT, .s = "1"}, VG_EDECODE, "text version");
    expect_rc(msg, "version absent", 0, dec_variant(dec, p, n, 0, NULL), VG_ESCHEMA);
    tpair v = p[0];
    tpair rot[40];
    memcpy(rot, p + 1, (n - 1) * sizeof *p);
    rot[n - 1] = v;
    expect_rc(msg, "version last", 0, dec_pairs(dec, rot, n), VG_ESCHEMA);
    expect_rc(msg, "empty map", 0, dec_pairs(dec, p, 0), VG_ESCHEMA);
    /* per pair: duplicate, missing, wrong type, class rules */
    for (size_t i = 1; i < n; i++) {
        expect_rc(msg, "duplicate key", i, dec_variant(dec, p, n, n, &p[i]), VG_EDECODE);
        expect_rc(msg, "removed", i, dec_variant(dec, p, n, i, NULL),
                  p[i].req ? VG_EMISSING : VG_OK);
        tpair wrong = p[i].kind == P_TEXT ? (tpair){.kind = P_UINT, .u = 7}
                                          : (tpair){.kind = P_TEXT, .s = "x"};
        expect_value(msg, dec, p, n, i, wrong, VG_EDECODE, "wrong type");
        expect_value(msg, dec, p, n, i, (tpair){.kind = P_NULL}, VG_EDECODE, "null");
        check_class(msg, dec, p, n, i);
    }
    /* unknown keys */
    static const uint64_t unknown[] = {31, 32, 99, 1000, UINT64_MAX - 2, KEY_TEXT, KEY_NEG};
    for (size_t k = 0; k < sizeof unknown / sizeof *unknown; k++) {
        tpair u = {.key = unknown[k], .kind = P_UINT, .u = 1};
        expect_rc(msg, "unknown key", k, dec_variant(dec, p, n, n, &u), VG_EDECODE);
    }
}

/* Truncation at every offset, trailing bytes, oversize, not-a-map. */
void check_framing(const char *msg, tdec dec, const uint8_t *buf, size_t len)
{
    for (size_t k = 0; k < len; k++)
        expect_rc(msg, "truncated", k, dec_exact(dec, buf, k), VG_ETRUNC);
    uint8_t *big = calloc(1, VG_MSG_MAX_BYTES + 2);
    CU_ASSERT_FATAL(big != NULL);
    memcpy(big, buf, len);
    expect_rc(msg, "trailing byte", 0, dec_exact(dec, big, len + 1), VG_EDECODE);
    memcpy(big + len, buf, len);
    expect_rc(msg, "message twice", 0, dec_exact(dec, big, 2 * len), VG_EDECODE);
    expect_rc(msg, "over the size limit", 0, dec(big, VG_MSG_MAX_BYTES + 1), VG_ETOOBIG);
    free(big);
    static const uint8_t not_map[][3] = {{0x81, 0x01}, {0x01}, {0x41, 0xa0}, {0xbf, 0xff}};
    static const size_t not_len[] = {2, 1, 2, 2};
    for (size_t k = 0; k < 4; k++)
        expect_rc(msg, "not a definite map", k, dec_exact(dec, not_map[k], not_len[k]), VG_EDECODE);
    CU_ASSERT_EQUAL(dec(NULL, 0), VG_EINVAL);
}

/* Encoding must fail with VG_ENOSPC for every capacity below `len`. */
void check_caps(const char *msg, tenc enc, const void *obj, size_t len)
{
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);
        size_t got = 12345;
        expect_rc(msg, "capacity", cap, enc(obj, cap ? b : NULL, cap, &got), VG_ENOSPC);
        CU_ASSERT_EQUAL(got, 12345);
        free(b);
    }
}

/* Encoder output must equal the hand-built encoding of p[0..n). */
void check_bytes(const char *msg, const tpair *p, size_t n, const uint8_t *enc, size_t len)
{
    uint8_t want[8192];
    tb b;
    tb_init(&b, want, sizeof want);
    tb_pairs(&b, p, n);
    CU_ASSERT_EQUAL(len, b.len);
    if (len != b.len || memcmp(enc, want, len) != 0) {
        fprintf(stderr, "\n  %s: encoding differs from the schema\n", msg);
        CU_FAIL("wire layout");
    }
}

/* Builds one item with `build` and compares with RFC 8949's bytes. */
#define RFC_CASE(want, build)                                                                      \
    do {                                                                                           \
        static const uint8_t w[] = want;                                                           \
        uint8_t buf[64];                                                                           \
        tb b;                                                                                      \
        tb_init(&b, buf, sizeof buf);                                                              \
        build;                                                                                     \
        CU_ASSERT_EQUAL(b.len, sizeof w);                                                          \
        CU_ASSERT_TRUE(b.len == sizeof w && memcmp(buf, w, sizeof w) == 0);                        \
    } while (0)

#define B(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static void test_builder_rfc8949(void)
{
    RFC_CASE(B(0x00), tb_uint(&b, 0));
    RFC_CASE(B(0x17), tb_uint(&b, 23));
    RFC_CASE(B(0x18, 0x18), tb_uint(&b, 24));
    RFC_CASE(B(0x19, 0x03, 0xe8), tb_uint(&b, 1000));
    RFC_CASE(B(0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00), tb_uint(&b, 1000000000000));
    RFC_CASE(B(0x20), tb_int(&b, -1));
    RFC_CASE(B(0x39, 0x03, 0xe7), tb_int(&b, -1000));
    RFC_CASE(B(0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), tb_neg(&b, UINT64_MAX));
    RFC_CASE(B(0xfb, 0x3f, 0xf1, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a), tb_float(&b, 1.1));
    RFC_CASE(B(0x64, 0x49, 0x45, 0x54, 0x46), tb_text(&b, "IETF"));
    RFC_CASE(B(0x44, 0x01, 0x02, 0x03, 0x04), tb_bytes(&b, "\x01\x02\x03\x04", 4));
    RFC_CASE(B(0x83, 0x01, 0x02, 0x03),
             (tb_array(&b, 3), tb_uint(&b, 1), tb_uint(&b, 2), tb_uint(&b, 3)));
    RFC_CASE(B(0xa2, 0x01, 0x02, 0x03, 0x04),
             (tb_map(&b, 2), tb_uint(&b, 1), tb_uint(&b, 2), tb_uint(&b, 3), tb_uint(&b, 4)));
    RFC_CASE(B(0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0), (tb_tag(&b, 1), tb_uint(&b, 1363896240)));
    uint8_t le[8];
    le32(le, 0x04030201u);
    CU_ASSERT_EQUAL(memcmp(le, "\x01\x02\x03\x04", 4), 0);
    le64(le, 0x0807060504030201ull);
    CU_ASSERT_EQUAL(memcmp(le, "\x01\x02\x03\x04\x05\x06\x07\x08", 8), 0);
    CU_ASSERT_EQUAL(dbits(1.0), 0x3ff0000000000000ull);
}

/* The pair list writer: a map in list order, with the special keys. */
static void test_builder_pairs(void)
{
    static const tpair p[] = {
        PV, PU(2, 500), PT(3, C_TEXT, "ab"), {.key = KEY_NEG, .kind = P_NULL}};
    static const uint8_t w[] = {0xa4, 0x00, 0x01, 0x02, 0x19, 0x01, 0xf4,
                                0x03, 0x62, 0x61, 0x62, 0x20, 0xf6};
    uint8_t buf[64];
    tb b;
    tb_init(&b, buf, sizeof buf);
    tb_pairs(&b, p, 4);
    CU_ASSERT_EQUAL(b.len, sizeof w);
    CU_ASSERT_TRUE(b.len == sizeof w && memcmp(buf, w, sizeof w) == 0);
}

int init_msg_fixture_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_fixture", NULL, NULL);
    if (!s || !CU_add_test(s, "builder vs RFC 8949 Appendix A", test_builder_rfc8949) ||
        !CU_add_test(s, "pair list writer", test_builder_pairs))
        return CU_get_error();
    return 0;
}
