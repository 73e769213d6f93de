/*
 * test_msg.c - unit tests of the CBOR reader/writer (vg_cbor) and of every
 * message codec (vg_msg*).
 *
 * Expected encodings are built independently of the code under test, with
 * libcbor's cbor_encode_*() functions (the tb_* helpers), from a list of
 * key/value pairs (tpair) that mirrors docs/schema.cddl.  Each message is
 * checked three ways:
 *   - round trip: encode a struct, compare the bytes with the hand-built
 *     expected encoding (this pins the wire layout), decode, compare fields;
 *   - a generic table of malformed variants derived from the pair list
 *     (wrong schema version, version not first, duplicate / unknown /
 *     missing / mistyped keys, out-of-range values per field class,
 *     truncation at every byte offset into an exact-size heap copy so that
 *     AddressSanitizer sees any over-read, trailing bytes, oversize), each
 *     with the exact status code the decoder must return;
 *   - message-specific cases (typed arrays, counts, limits, encoder errors,
 *     VG_ENOSPC at every buffer size below the needed one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <cbor.h>

#include "vg_cbor.h"
#include "vg_error.h"
#include "test_util.h"
#include "vg_model.h"
#include "vg_mvar.h"
#include "vg_msg.h"

/* ---- hand builder over libcbor ---- */

typedef struct tb {
    uint8_t *buf; /* caller storage */
    size_t cap;   /* its size */
    size_t len;   /* bytes written */
} tb;

static void tb_init(tb *b, uint8_t *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
}

static void tb_took(tb *b, size_t n)
{
    CU_ASSERT_FATAL(n > 0);
    b->len += n;
}

#define TB_ROOM(b) (b)->buf + (b)->len, (b)->cap - (b)->len

static void tb_uint(tb *b, uint64_t v)
{
    tb_took(b, cbor_encode_uint(v, TB_ROOM(b)));
}

static void tb_neg(tb *b, uint64_t n)
{
    tb_took(b, cbor_encode_negint(n, TB_ROOM(b)));
}

static void tb_int(tb *b, int64_t v)
{
    if (v >= 0)
        tb_uint(b, (uint64_t)v);
    else
        tb_neg(b, (uint64_t)(-(v + 1)));
}

static void tb_float(tb *b, double v)
{
    tb_took(b, cbor_encode_double(v, TB_ROOM(b)));
}

static void tb_raw(tb *b, const void *p, size_t n)
{
    CU_ASSERT_FATAL(b->cap - b->len >= n);
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
}

static void tb_textn(tb *b, const char *s, size_t n)
{
    tb_took(b, cbor_encode_string_start(n, TB_ROOM(b)));
    tb_raw(b, s, n);
}

static void tb_text(tb *b, const char *s)
{
    tb_textn(b, s, strlen(s));
}

static void tb_bytes(tb *b, const void *p, size_t n)
{
    tb_took(b, cbor_encode_bytestring_start(n, TB_ROOM(b)));
    tb_raw(b, p, n);
}

static void tb_array(tb *b, size_t n)
{
    tb_took(b, cbor_encode_array_start(n, TB_ROOM(b)));
}

static void tb_map(tb *b, size_t n)
{
    tb_took(b, cbor_encode_map_start(n, TB_ROOM(b)));
}

static void tb_tag(tb *b, uint64_t t)
{
    tb_took(b, cbor_encode_tag(t, TB_ROOM(b)));
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void le64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

/* ---- messages as key/value pair lists ---- */

enum { P_UINT, P_NEG, P_FLOAT, P_HALF, P_TEXT, P_BOOL, P_NULL, P_RAW };
/* Field classes: which value mutations apply. */
enum { C_VER, C_U64, C_I64, C_BOOL, C_DEV, C_CHAN, C_TEXT, C_REAL, C_SCORE, C_PARAM, C_DET, C_RAW };

#define KEY_TEXT UINT64_MAX       /* write the key as the text "k" */
#define KEY_NEG  (UINT64_MAX - 1) /* write the key as -1 */

typedef struct tpair {
    uint64_t key;       /* map key (or KEY_TEXT / KEY_NEG) */
    uint8_t kind;       /* P_* wire form of the value */
    uint8_t cls;        /* C_* class */
    bool req;           /* required field */
    uint64_t u;         /* P_UINT value, P_NEG n (value -1-n), P_BOOL 0/1 */
    double f;           /* P_FLOAT / P_HALF value */
    const char *s;      /* P_TEXT bytes */
    size_t slen;        /* their count; 0: strlen(s) */
    const uint8_t *raw; /* P_RAW: pre-encoded value */
    size_t rawlen;
    uint16_t size; /* C_TEXT: capacity of the struct member */
} tpair;

#define PV                                                                                         \
    {                                                                                              \
        .key = 0, .kind = P_UINT, .cls = C_VER, .req = true, .u = 1                                \
    }
#define PU(k, v)                                                                                   \
    {                                                                                              \
        .key = k, .kind = P_UINT, .cls = C_U64, .req = true, .u = v                                \
    }
#define PI(k, v)                                                                                   \
    {                                                                                              \
        .key = k, .kind = P_UINT, .cls = C_I64, .req = true, .u = v                                \
    }
#define PNI(k, n)                                                                                  \
    {                                                                                              \
        .key = k, .kind = P_NEG, .cls = C_I64, .req = true, .u = n                                 \
    }
#define PB(k, v)                                                                                   \
    {                                                                                              \
        .key = k, .kind = P_BOOL, .cls = C_BOOL, .req = true, .u = v                               \
    }
#define PT(k, c, str)                                                                              \
    {                                                                                              \
        .key = k, .kind = P_TEXT, .cls = c, .req = true, .s = str                                  \
    }
#define PX(k, str, sz, r)                                                                          \
    {                                                                                              \
        .key = k, .kind = P_TEXT, .cls = C_TEXT, .req = r, .s = str, .size = sz                    \
    }
#define PF(k, c, v, r)                                                                             \
    {                                                                                              \
        .key = k, .kind = P_FLOAT, .cls = c, .req = r, .f = v                                      \
    }
#define PR(k, b)                                                                                   \
    {                                                                                              \
        .key = k, .kind = P_RAW, .cls = C_RAW, .req = true, .raw = (b).buf, .rawlen = (b).len      \
    }

typedef int (*tdec)(const uint8_t *buf, size_t len);

static void tb_value(tb *b, const tpair *p)
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

static void tb_pairs(tb *b, const tpair *p, size_t n)
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
static int dec_exact(tdec dec, const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    CU_ASSERT_FATAL(copy != NULL);
    if (len)
        memcpy(copy, buf, len);
    int rc = dec(copy, len);
    free(copy);
    return rc;
}

static int dec_pairs(tdec dec, const tpair *p, size_t n)
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
static void expect_rc(const char *msg, const char *what, size_t i, int got, int want)
{
    if (got != want)
        fprintf(stderr, "\n  %s: %s (pair %zu): got %s, want %s\n", msg, what, i, vg_errname(got),
                vg_errname(want));
    CU_ASSERT_EQUAL(got, want);
}

/* Decodes the base pairs with pair i replaced by *v (or removed if !v, or
 * with *v appended if i == n). */
static int dec_variant(tdec dec, const tpair *base, size_t n, size_t i, const tpair *v)
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
static void expect_value(const char *msg, tdec dec, const tpair *base, size_t n, size_t i,
                         tpair repl, int want, const char *what)
{
    repl.key = base[i].key;
    expect_rc(msg, what, i, dec_variant(dec, base, n, i, &repl), want);
}

/* Fills txt with n 'a's (n < 300) for length limits. */
static const char *text_of(char txt[300], size_t n)
{
    memset(txt, 'a', n);
    txt[n] = '\0';
    return txt;
}

/* Class-specific value mutations of pair i. */
static void check_class(const char *msg, tdec dec, const tpair *p, size_t n, size_t i)
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
static void check_generic(const char *msg, tdec dec, const tpair *p, size_t n)
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
static void check_framing(const char *msg, tdec dec, const uint8_t *buf, size_t len)
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
typedef int (*tenc)(const void *obj, uint8_t *buf, size_t cap, size_t *len);

static void check_caps(const char *msg, tenc enc, const void *obj, size_t len)
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
static void check_bytes(const char *msg, const tpair *p, size_t n, const uint8_t *enc, size_t len)
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

/* ---- archive ---- */

static int dec_archive(const uint8_t *b, size_t n)
{
    vg_archive_item items[8];
    vg_archive a = {.item = items, .item_cap = 8};
    return vg_archive_decode(b, n, &a);
}

static int enc_archive(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_archive_encode(o, b, cap, len);
}

static const uint8_t arch_p0[] = {0xa0, 0x01, 0x02};
static const uint8_t arch_p1[] = {0xff};

static void tb_archive_item(tb *b, uint64_t kind, const uint8_t *p, size_t n)
{
    tb_array(b, 5);
    tb_uint(b, kind);
    tb_uint(b, 100 + kind);
    tb_uint(b, 7);
    tb_int(b, -1 - (int64_t)kind);
    tb_bytes(b, p, n);
}

static void archive_pairs(tpair *p, const tb *items)
{
    const tpair base[] = {PV, PT(1, C_DEV, "edge-01"), PU(2, 77), PR(3, *items)};
    memcpy(p, base, sizeof base);
}

static void test_archive(void)
{
    vg_archive_item in[3] = {
        {.kind = VG_ARCH_SAMPLES,
         .seq = 100,
         .model_version = 7,
         .rx_us = -1,
         .payload = arch_p0,
         .len = sizeof arch_p0},
        {.kind = VG_ARCH_TRIP,
         .seq = 102,
         .model_version = 7,
         .rx_us = -3,
         .payload = arch_p1,
         .len = sizeof arch_p1},
        {.kind = VG_ARCH_MODEL,
         .seq = 103,
         .model_version = 7,
         .rx_us = -4,
         .payload = NULL,
         .len = 0},
    };
    vg_archive a = {.chunk_seq = 77, .nitem = 3, .item = in};
    strcpy(a.device, "edge-01");
    uint8_t ibuf[256], buf[512];
    tb ib;
    tb_init(&ib, ibuf, sizeof ibuf);
    tb_array(&ib, 3);
    tb_archive_item(&ib, 0, arch_p0, sizeof arch_p0);
    tb_archive_item(&ib, 2, arch_p1, sizeof arch_p1);
    tb_archive_item(&ib, 3, NULL, 0);
    tpair p[4];
    archive_pairs(p, &ib);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_bytes("archive", p, 4, buf, len);
    vg_archive_item out[3];
    vg_archive d = {.item = out, .item_cap = 3};
    CU_ASSERT_EQUAL_FATAL(vg_archive_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.nitem, 3);
    CU_ASSERT_EQUAL(d.chunk_seq, 77);
    CU_ASSERT_PTR_EQUAL(d.item, out);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(out[i].kind, in[i].kind);
        CU_ASSERT_EQUAL(out[i].seq, in[i].seq);
        CU_ASSERT_EQUAL(out[i].rx_us, in[i].rx_us);
        CU_ASSERT_EQUAL(out[i].len, in[i].len);
        CU_ASSERT(out[i].payload >= buf && out[i].payload + out[i].len <= buf + len);
        CU_ASSERT(in[i].len == 0 || memcmp(out[i].payload, in[i].payload, in[i].len) == 0);
    }
    d.item_cap = 2;
    CU_ASSERT_EQUAL(vg_archive_decode(buf, len, &d), VG_ENOSPC);
    d.item = NULL;
    d.item_cap = 3;
    CU_ASSERT_EQUAL(vg_archive_decode(buf, len, &d), VG_ENOSPC);
    check_caps("archive", enc_archive, &a, len);
    check_generic("archive", dec_archive, p, 4);
    check_framing("archive", dec_archive, buf, len);
}

static void test_archive_items(void)
{
    uint8_t ibuf[256];
    tb ib;
    tpair p[4];
    static const uint8_t kind4[] = {0x81, 0x85, 0x04, 0x00, 0x00, 0x00, 0x40};
    static const uint8_t four[] = {0x81, 0x84, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t text_payload[] = {0x81, 0x85, 0x00, 0x00, 0x00, 0x00, 0x60};
    static const uint8_t neg_seq[] = {0x81, 0x85, 0x00, 0x20, 0x00, 0x00, 0x40};
    static const uint8_t ok[] = {0x81, 0x85, 0x01, 0x00, 0x00, 0x20, 0x40};
    const uint8_t *v[] = {kind4, four, text_payload, neg_seq, ok};
    const size_t vn[] = {sizeof kind4, sizeof four, sizeof text_payload, sizeof neg_seq, sizeof ok};
    const int want[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_OK};
    for (size_t k = 0; k < 5; k++) {
        tb_init(&ib, ibuf, sizeof ibuf);
        tb_raw(&ib, v[k], vn[k]);
        archive_pairs(p, &ib);
        expect_rc("archive", "item", k, dec_pairs(dec_archive, p, 4), want[k]);
    }
    vg_archive_item it = {.kind = 4};
    vg_archive a = {.nitem = 1, .item = &it};
    strcpy(a.device, "edge-01");
    uint8_t buf[128];
    size_t len;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    it.kind = 0;
    it.len = 3;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a.item = NULL;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a.nitem = 0;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_OK);
}

/* ---- model payload ---- */

static int dec_model(const uint8_t *b, size_t n)
{
    vg_model m;
    return vg_model_decode(b, n, &m);
}

static int enc_model(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_model_encode(o, b, cap, len);
}

static void sample_model(vg_model *m)
{
    memset(m, 0, sizeof *m);
    strcpy(m->device, "pump-7");
    m->version = 3;
    m->created_us = 1700000000000000;
    m->train_from_us = 1690000000000000;
    m->train_to_us = 1699999999999999;
    m->nchan = 2;
    vg_chan_model_clear(&m->chan[0], "temp");
    m->chan[0].lo = -10;
    m->chan[0].hi = 85.5;
    m->chan[0].z_thr = 4.5;
    m->chan[0].stale_s = 2.5;
    vg_chan_model_clear(&m->chan[1], "vib.rms");
}

/* The hand-built channel array of sample_model(). */
static void tb_sample_chans(tb *b)
{
    tb_array(b, 2);
    tb_map(b, 5);
    tb_uint(b, 0);
    tb_text(b, "temp");
    tb_uint(b, 1);
    tb_float(b, -10);
    tb_uint(b, 2);
    tb_float(b, 85.5);
    tb_uint(b, 5);
    tb_float(b, 4.5);
    tb_uint(b, 13);
    tb_float(b, 2.5);
    tb_map(b, 1);
    tb_uint(b, 0);
    tb_text(b, "vib.rms");
}

static void model_pairs(tpair *p, const tb *chans)
{
    const tpair base[] = {
        PV,
        PT(1, C_DEV, "pump-7"),
        PU(2, 3),
        PI(3, 1700000000000000),
        PI(4, 1690000000000000),
        PI(5, 1699999999999999),
        PR(6, *chans),
    };
    memcpy(p, base, sizeof base);
}

static void test_model_payload(void)
{
    vg_model m, d;
    sample_model(&m);
    uint8_t cbuf[256], buf[1024];
    tb cb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tpair p[7];
    model_pairs(p, &cb);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model", p, 7, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.device, "pump-7");
    CU_ASSERT_EQUAL(d.version, 3);
    CU_ASSERT_EQUAL(d.train_to_us, m.train_to_us);
    CU_ASSERT_EQUAL(d.nchan, 2);
    CU_ASSERT_STRING_EQUAL(d.chan[0].name, "temp");
    CU_ASSERT_EQUAL(d.chan[0].lo, -10);
    CU_ASSERT_EQUAL(d.chan[0].hi, 85.5);
    CU_ASSERT_EQUAL(d.chan[0].z_thr, 4.5);
    CU_ASSERT_EQUAL(d.chan[0].stale_s, 2.5);
    CU_ASSERT(isnan(d.chan[0].loc) && isnan(d.chan[0].scale) && isnan(d.chan[0].ewma_lambda));
    CU_ASSERT(isnan(d.chan[0].ewma_l) && isnan(d.chan[0].cusum_k) && isnan(d.chan[0].cusum_h));
    CU_ASSERT(isnan(d.chan[0].rate_max) && isnan(d.chan[0].stuck_eps));
    CU_ASSERT(isnan(d.chan[0].stuck_n));
    CU_ASSERT_STRING_EQUAL(d.chan[1].name, "vib.rms");
    CU_ASSERT(isnan(d.chan[1].lo) && isnan(d.chan[1].stale_s));
    check_caps("model", enc_model, &m, len);
    check_generic("model", dec_model, p, 7);
    check_framing("model", dec_model, buf, len);
}

/* The k-th (0..12) parameter of c, in wire key order 1..13. */
static double *param(vg_chan_model *c, int k)
{
    double *const p[13] = {&c->lo,          &c->hi,      &c->loc,     &c->scale,   &c->z_thr,
                           &c->ewma_lambda, &c->ewma_l,  &c->cusum_k, &c->cusum_h, &c->rate_max,
                           &c->stuck_eps,   &c->stuck_n, &c->stale_s};
    return p[k];
}

static void test_model_all_params(void)
{
    vg_model m, d;
    sample_model(&m);
    m.nchan = VG_MODEL_MAX_CHANNEL;
    for (uint32_t i = 0; i < m.nchan; i++) {
        char name[16];
        snprintf(name, sizeof name, "ch%u", (unsigned)i);
        vg_chan_model_clear(&m.chan[i], name);
        for (int k = 0; k < 13; k++)
            *param(&m.chan[i], k) = i * 100.0 + k + 0.25;
    }
    uint8_t *buf = malloc(65536);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, 65536, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.nchan, VG_MODEL_MAX_CHANNEL);
    for (uint32_t i = 0; i < m.nchan; i++) {
        CU_ASSERT_STRING_EQUAL(d.chan[i].name, m.chan[i].name);
        for (int k = 0; k < 13; k++)
            CU_ASSERT_EQUAL(*param(&d.chan[i], k), *param(&m.chan[i], k));
    }
    m.nchan = VG_MODEL_MAX_CHANNEL + 1;
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_ETOOBIG);
    m.nchan = 2;
    strcpy(m.chan[1].name, "ch0");
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_EINVAL);
    strcpy(m.chan[1].name, "ch 1");
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_EINVAL);
    strcpy(m.chan[1].name, "ch1");
    m.chan[1].cusum_h = INFINITY;
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_ENAN);
    free(buf);
}

/* Decodes the model whose channel array is `chans` (hand-built). */
static int dec_model_chans(const tb *chans)
{
    tpair p[7];
    model_pairs(p, chans);
    return dec_pairs(dec_model, p, 7);
}

static void test_model_channels(void)
{
    uint8_t cbuf[16384];
    tb cb;
    /* the channel map checked with the generic rules (no version row) */
    static const tpair chan[] = {
        PT(0, C_CHAN, "temp"),     PF(1, C_PARAM, -1, false), PF(2, C_PARAM, 1, false),
        PF(12, C_PARAM, 5, false), PF(13, C_PARAM, 2, false),
    };
    const size_t nchan = sizeof chan / sizeof *chan;
    tpair c[8];
    for (size_t i = 0; i <= nchan + 3; i++) {
        size_t m = 0;
        for (size_t k = 0; k < nchan; k++)
            if (k != i)
                c[m++] = chan[k];
        int want = i == 0 ? VG_EMISSING : VG_OK;
        if (i == nchan)
            c[m++] = chan[1], want = VG_EDECODE; /* duplicate key */
        if (i == nchan + 1)
            c[m++] = (tpair)PU(14, 1), want = VG_EDECODE; /* unknown key */
        if (i == nchan + 2)
            c[m++] = (tpair)PF(3, C_PARAM, NAN, false), want = VG_ENAN;
        if (i == nchan + 3)
            c[m++] = (tpair)PF(4, C_PARAM, INFINITY, false), want = VG_ENAN;
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_array(&cb, 1);
        tb_pairs(&cb, c, m);
        expect_rc("model", "channel map", i, dec_model_chans(&cb), want);
    }
    /* 64 channels fit, 65 do not; names unique; entries are maps */
    const uint32_t counts[] = {0, VG_MODEL_MAX_CHANNEL, VG_MODEL_MAX_CHANNEL + 1};
    const int cwant[] = {VG_OK, VG_OK, VG_ETOOBIG};
    for (size_t k = 0; k < 3; k++) {
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_array(&cb, counts[k]);
        for (uint32_t i = 0; i < counts[k]; i++) {
            char name[16];
            snprintf(name, sizeof name, "c%u", (unsigned)i);
            tb_map(&cb, 1);
            tb_uint(&cb, 0);
            tb_text(&cb, name);
        }
        expect_rc("model", "channel count", k, dec_model_chans(&cb), cwant[k]);
    }
    static const uint8_t dup[] = {0x82, 0xa1, 0x00, 0x61, 'a', 0xa1, 0x00, 0x61, 'a'};
    static const uint8_t arr[] = {0x81, 0x81, 0x61, 'a'};
    static const uint8_t ver[] = {0x81, 0xa2, 0x00, 0x61, 'a', 0x00, 0x01};
    const uint8_t *bad[] = {dup, arr, ver};
    const size_t bn[] = {sizeof dup, sizeof arr, sizeof ver};
    const int bwant[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE};
    for (size_t k = 0; k < 3; k++) {
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_raw(&cb, bad[k], bn[k]);
        expect_rc("model", "channel entries", k, dec_model_chans(&cb), bwant[k]);
    }
}

/* ---- model payload: the multivariate part ---- */

/* A small valid multivariate part: 3 channels, 1 component. */
static void sample_mvar(vg_mvar_model *mv)
{
    memset(mv, 0, sizeof *mv);
    mv->p = 3;
    mv->k = 1;
    strcpy(mv->name[0], "flow");
    strcpy(mv->name[1], "pressure");
    strcpy(mv->name[2], "current");
    const double loc[3] = {80, 3.5, 20}, scale[3] = {3, 0.15, 1.5}, load[3] = {0.6, 0.5, 0.625};
    memcpy(mv->loc, loc, sizeof loc);
    memcpy(mv->scale, scale, sizeof scale);
    memcpy(mv->load, load, sizeof load);
    mv->eig[0] = 2.75;
    mv->lambda = 0.25;
    mv->t2_mean = 1;
    mv->q_mean = 0.125;
    mv->t2_lim = 12.5;
    mv->q_lim = 2.5;
    mv->drift = 0.03125;
}

/* Hand-built float array. */
static void tb_floats(tb *b, const double *v, size_t n)
{
    tb_array(b, n);
    for (size_t i = 0; i < n; i++)
        tb_float(b, v[i]);
}

/* Key whose array tb_mvar() writes one entry short (-1: none). */
static int tb_mvar_short = -1;

/* Hand-built multivariate map of *mv; `skip` leaves out that key, `first`
 * (if < 12) is written first. */
static void tb_mvar(tb *b, const vg_mvar_model *mv, int skip, int first)
{
    int order[12], n = 0;
    if (first >= 0 && first < 12)
        order[n++] = first;
    for (int k = 0; k < 12; k++)
        if (k != first)
            order[n++] = k;
    const double *sc[6] = {&mv->lambda, &mv->t2_mean, &mv->q_mean,
                           &mv->t2_lim, &mv->q_lim,   &mv->drift};
    tb_map(b, skip >= 0 ? 11 : 12);
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (k == skip)
            continue;
        tb_uint(b, (uint64_t)k);
        if (k == 0) {
            tb_array(b, mv->p);
            for (uint32_t j = 0; j < mv->p; j++)
                tb_text(b, mv->name[j]);
        } else if (k == 1) {
            tb_uint(b, mv->k);
        } else if (k == 2) {
            tb_floats(b, mv->loc, mv->p - (k == tb_mvar_short));
        } else if (k == 3) {
            tb_floats(b, mv->scale, mv->p - (k == tb_mvar_short));
        } else if (k == 4) {
            tb_floats(b, mv->eig, mv->k - (k == tb_mvar_short));
        } else if (k == 5) {
            tb_floats(b, mv->load, mv->p * mv->k - (k == tb_mvar_short));
        } else {
            tb_float(b, *sc[k - 6]);
        }
    }
}

/* Decodes sample_model() with the hand-built multivariate map `mvb`. */
static int dec_model_mvar(const tb *mvb)
{
    uint8_t cbuf[256];
    tb cb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tpair p[8];
    model_pairs(p, &cb);
    p[7] = (tpair)PR(7, *mvb);
    return dec_pairs(dec_model, p, 8);
}

static void test_model_mvar(void)
{
    static vg_model m, d;
    sample_model(&m);
    sample_mvar(&m.mvar);
    uint8_t cbuf[256], mbuf[2048], buf[4096];
    tb cb, mb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tb_init(&mb, mbuf, sizeof mbuf);
    tb_mvar(&mb, &m.mvar, -1, -1);
    tpair p[8];
    model_pairs(p, &cb);
    p[7] = (tpair)PR(7, mb);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model+mvar", p, 8, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&d.mvar, &m.mvar, sizeof m.mvar), 0);
    check_caps("model+mvar", enc_model, &m, len);
    check_framing("model+mvar", dec_model, buf, len);
    /* without one, key 7 is absent and decodes to p == 0 */
    m.mvar.p = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model-mvar", p, 7, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.mvar.p, 0);
    /* each key is required; names and k come before the arrays */
    sample_mvar(&m.mvar);
    for (int k = 0; k < 12; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar(&mb, &m.mvar, k, -1);
        expect_rc("model+mvar", "missing key", (size_t)k, dec_model_mvar(&mb),
                  k <= 1 ? VG_EDECODE : VG_EMISSING);
    }
    for (int k = 1; k < 6; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar(&mb, &m.mvar, -1, k);
        expect_rc("model+mvar", "key before names", (size_t)k, dec_model_mvar(&mb), VG_EDECODE);
    }
    /* values: the decoder applies vg_mvar_check */
    static vg_mvar_model bad[8];
    int want[8];
    for (int i = 0; i < 8; i++)
        sample_mvar(&bad[i]);
    bad[0].load[2] = NAN, want[0] = VG_ENAN;
    bad[1].scale[1] = 0, want[1] = VG_EDECODE;
    bad[2].eig[0] = -1, want[2] = VG_EDECODE;
    strcpy(bad[3].name[2], "flow"), want[3] = VG_EDECODE;
    strcpy(bad[4].name[2], "a b"), want[4] = VG_EDECODE;
    bad[5].lambda = 1.5, want[5] = VG_EDECODE;
    bad[6].k = 4, want[6] = VG_EDECODE; /* k > p */
    bad[7].p = VG_MVAR_MAX + 1, want[7] = VG_ETOOBIG;
    for (int i = 0; i < 8; i++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        if (i == 7) { /* 17 names: only the name array matters */
            tb_map(&mb, 1);
            tb_uint(&mb, 0);
            tb_array(&mb, VG_MVAR_MAX + 1);
            for (int j = 0; j <= VG_MVAR_MAX; j++)
                tb_text(&mb, "x");
        } else {
            tb_mvar(&mb, &bad[i], -1, -1);
        }
        expect_rc("model+mvar", "bad value", (size_t)i, dec_model_mvar(&mb), want[i]);
        if (i < 7) { /* the encoder refuses what the decoder refuses */
            m.mvar = bad[i];
            CU_ASSERT_NOT_EQUAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
        }
    }
    /* an array one entry short */
    sample_mvar(&m.mvar);
    for (int k = 2; k < 6; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar_short = k;
        tb_mvar(&mb, &m.mvar, -1, -1);
        tb_mvar_short = -1;
        expect_rc("model+mvar", "array length", (size_t)k, dec_model_mvar(&mb), VG_EDECODE);
    }
}

/* A fitted model of VG_MVAR_MAX channels survives the wire bit for bit. */
static void test_model_mvar_fitted(void)
{
    enum { N = 2000 };
    static double x[N * VG_MVAR_MAX], scratch[2 * N];
    static vg_model m, d;
    char names[VG_MVAR_MAX][8];
    const char *np[VG_MVAR_MAX];
    uint64_t rng = 5;
    for (int j = 0; j < VG_MVAR_MAX; j++) {
        snprintf(names[j], sizeof names[j], "s%d", j);
        np[j] = names[j];
    }
    for (int i = 0; i < N; i++) {
        double a = vg_test_normal(&rng), b = vg_test_normal(&rng);
        for (int j = 0; j < VG_MVAR_MAX; j++)
            x[i * VG_MVAR_MAX + j] = j * a + (j % 3) * b + 0.5 * vg_test_normal(&rng);
    }
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.var_explained = 0.999; /* many components: the largest load array */
    sample_model(&m);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(np, VG_MVAR_MAX, x, N, scratch, &o, &m.mvar), VG_OK);
    CU_ASSERT_TRUE(m.mvar.k > 2);
    uint8_t *buf = malloc(65536), *buf2 = malloc(65536);
    size_t len, len2;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, 65536, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&d.mvar, &m.mvar, sizeof m.mvar), 0);
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&d, buf2, 65536, &len2), VG_OK);
    CU_ASSERT_TRUE(len == len2 && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
}

/* ---- samples ---- */

#define T0 1700000000000000LL

static int dec_samples(const uint8_t *b, size_t n)
{
    vg_block blocks[VG_BATCH_MAX_CHANNEL];
    vg_samples s = {.block = blocks, .block_cap = VG_BATCH_MAX_CHANNEL};
    return vg_samples_decode(b, n, &s);
}

/* A hand-built block: times as tag tt (78/79), values as tag vt (85/86);
 * nt/nv elements; offsets off[i], values val[i]. */
static void tb_block(tb *b, const char *name, uint64_t tt, uint32_t nt, const int64_t *off,
                     uint64_t vt, uint32_t nv, const double *val)
{
    size_t tw = tt == 78 ? 4 : 8, vw = vt == 85 ? 4 : 8;
    uint8_t *tmp = malloc((nt * tw) + (nv * vw) + 1);
    CU_ASSERT_FATAL(tmp != NULL);
    tb_array(b, 3);
    tb_text(b, name);
    for (uint32_t i = 0; i < nt; i++) {
        if (tw == 4)
            le32(tmp + i * 4, (uint32_t)(int32_t)off[i]);
        else
            le64(tmp + i * 8, (uint64_t)off[i]);
    }
    tb_tag(b, tt);
    tb_bytes(b, tmp, nt * tw);
    for (uint32_t i = 0; i < nv; i++) {
        if (vw == 4) {
            float f = (float)val[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            le32(tmp + i * 4, u);
        } else {
            le64(tmp + i * 8, dbits(val[i]));
        }
    }
    tb_tag(b, vt);
    tb_bytes(b, tmp, nv * vw);
    free(tmp);
}

static void samples_pairs(tpair *p, int64_t t0, const tb *blocks)
{
    const tpair base[] = {PV, PT(1, C_DEV, "sim-0"), PU(2, 314), PI(3, (uint64_t)t0),
                          PR(4, *blocks)};
    memcpy(p, base, sizeof base);
    if (t0 < 0) {
        p[3].kind = P_NEG;
        p[3].u = (uint64_t)(-(t0 + 1));
    }
}

static const int64_t s_off[] = {0, 1000, 2000, -3000, 2147483647};
static const int64_t s_off64[] = {0, 1, 4294967296LL, -4294967296LL};
static const double s_val[] = {20.5, -0.0, NAN, INFINITY, 1e300};

static void test_samples_roundtrip(void)
{
    int64_t t1[5], t2[4];
    for (int i = 0; i < 5; i++)
        t1[i] = T0 + s_off[i];
    for (int i = 0; i < 4; i++)
        t2[i] = T0 + s_off64[i];
    const vg_column col[3] = {
        {.name = "temp", .n = 5, .t_us = t1, .v = s_val},
        {.name = "vib.x", .n = 4, .t_us = t2, .v = s_val},
        {.name = "idle", .n = 0, .t_us = NULL, .v = NULL},
    };
    uint8_t buf[1024], bbuf[1024];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode("sim-0", 314, T0, col, 3, buf, sizeof buf, &len),
                          VG_OK);
    tb bb;
    tb_init(&bb, bbuf, sizeof bbuf);
    tb_array(&bb, 3);
    tb_block(&bb, "temp", 78, 5, s_off, 86, 5, s_val);
    tb_block(&bb, "vib.x", 79, 4, s_off64, 86, 4, s_val);
    tb_block(&bb, "idle", 78, 0, NULL, 86, 0, NULL);
    tpair p[5];
    samples_pairs(p, T0, &bb);
    check_bytes("samples", p, 5, buf, len);
    vg_block blocks[3];
    vg_samples s = {.block = blocks, .block_cap = 3};
    CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, len, &s), VG_OK);
    CU_ASSERT_STRING_EQUAL(s.device, "sim-0");
    CU_ASSERT_EQUAL(s.seq, 314);
    CU_ASSERT_EQUAL(s.t0_us, T0);
    CU_ASSERT_EQUAL_FATAL(s.nblock, 3);
    CU_ASSERT_PTR_EQUAL(s.block, blocks);
    CU_ASSERT_EQUAL(s.block_cap, 3);
    for (uint32_t b = 0; b < 3; b++) {
        CU_ASSERT_EQUAL(blocks[b].name_len, strlen(col[b].name));
        CU_ASSERT_EQUAL(memcmp(blocks[b].name, col[b].name, blocks[b].name_len), 0);
        CU_ASSERT_EQUAL_FATAL(blocks[b].n, col[b].n);
        CU_ASSERT_EQUAL(blocks[b].t_width, b == 1 ? 8 : 4);
        CU_ASSERT_EQUAL(blocks[b].v_width, 8);
        for (uint32_t i = 0; i < col[b].n; i++) {
            CU_ASSERT_EQUAL(vg_block_time(&blocks[b], s.t0_us, i), col[b].t_us[i]);
            CU_ASSERT_EQUAL(dbits(vg_block_value(&blocks[b], i)), dbits(col[b].v[i]));
        }
    }
    check_framing("samples", dec_samples, buf, len);
    /* generic map rules, with no blocks so that any t0 is valid */
    tb_init(&bb, bbuf, sizeof bbuf);
    tb_array(&bb, 0);
    samples_pairs(p, T0, &bb);
    check_generic("samples", dec_samples, p, 5);
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);
        size_t got;
        expect_rc("samples", "capacity", cap,
                  vg_samples_encode("sim-0", 314, T0, col, 3, b, cap, &got), VG_ENOSPC);
        free(b);
    }
}

static void test_samples_typed_variants(void)
{
    uint8_t bbuf[1024];
    tb bb;
    tpair p[5];
    const uint64_t ttag[] = {78, 79, 78, 79};
    const uint64_t vtag[] = {85, 85, 86, 86};
    for (int k = 0; k < 4; k++) {
        tb_init(&bb, bbuf, sizeof bbuf);
        tb_array(&bb, 1);
        tb_block(&bb, "ch", ttag[k], 5, s_off, vtag[k], 5, s_val);
        samples_pairs(p, -T0, &bb);
        uint8_t buf[2048];
        tb mb;
        tb_init(&mb, buf, sizeof buf);
        tb_pairs(&mb, p, 5);
        vg_block blk;
        vg_samples s = {.block = &blk, .block_cap = 1};
        CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, mb.len, &s), VG_OK);
        CU_ASSERT_EQUAL(blk.t_width, ttag[k] == 78 ? 4 : 8);
        CU_ASSERT_EQUAL(blk.v_width, vtag[k] == 85 ? 4 : 8);
        for (uint32_t i = 0; i < 5; i++) {
            CU_ASSERT_EQUAL(vg_block_time(&blk, s.t0_us, i), -T0 + s_off[i]);
            double want = vtag[k] == 85 ? (double)(float)s_val[i] : s_val[i];
            CU_ASSERT_EQUAL(dbits(vg_block_value(&blk, i)), dbits(want));
        }
        check_framing("samples typed", dec_samples, buf, mb.len);
    }
}

/* Decodes a batch with t0 and one hand-built block. */
static int dec_one_block(int64_t t0, const char *name, uint64_t tt, uint32_t nt, const int64_t *off,
                         uint64_t vt, uint32_t nv, const double *val)
{
    size_t cap = 32 + (size_t)nt * 8 + (size_t)nv * 8 + 64;
    uint8_t *bbuf = malloc(cap);
    tb bb;
    tb_init(&bb, bbuf, cap);
    tb_array(&bb, 1);
    tb_block(&bb, name, tt, nt, off, vt, nv, val);
    tpair p[5];
    samples_pairs(p, t0, &bb);
    uint8_t *buf = malloc(cap + 64);
    tb mb;
    tb_init(&mb, buf, cap + 64);
    tb_pairs(&mb, p, 5);
    int rc = dec_exact(dec_samples, buf, mb.len);
    free(buf);
    free(bbuf);
    return rc;
}

static void test_samples_blocks(void)
{
    static const int64_t big[] = {-100, 100};
    /* tags, counts, widths */
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 80, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, 5, s_off, 78, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 86, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, 5, s_off, 86, 4, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 79, 4, s_off64, 85, 3, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a/b", 78, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "", 78, 5, s_off, 86, 5, s_val), VG_EDECODE);
    /* t0 + offset must fit int64 */
    CU_ASSERT_EQUAL(dec_one_block(INT64_MAX - 10, "a", 78, 2, big, 86, 2, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MAX - 100, "a", 78, 2, big, 86, 2, s_val), VG_OK);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MIN + 10, "a", 79, 2, big, 86, 2, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MIN + 100, "a", 79, 2, big, 86, 2, s_val), VG_OK);
    static const int64_t huge[] = {INT64_MAX};
    CU_ASSERT_EQUAL(dec_one_block(1, "a", 79, 1, huge, 86, 1, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(0, "a", 79, 1, huge, 86, 1, s_val), VG_OK);
    /* sample count limit: exactly at and one over */
    uint32_t n = VG_BATCH_MAX_SAMPLES;
    int64_t *off = calloc(n + 1, sizeof *off);
    double *val = calloc(n + 1, sizeof *val);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n, off, 85, n, val), VG_OK);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n + 1, off, 85, n + 1, val), VG_ETOOBIG);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n + 1, off, 85, n, val), VG_ETOOBIG);
    free(off);
    free(val);
    /* byte lengths that are not a multiple of the width */
    static const uint8_t odd_t[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x43, 1, 2, 3, 0xd8, 86, 0x40};
    static const uint8_t odd_v[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x40,
                                    0xd8, 86,   0x44, 0,   0,    0,  0};
    static const uint8_t untagged[] = {0x81, 0x83, 0x61, 'a', 0x40, 0xd8, 86, 0x40};
    static const uint8_t tagged_text[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x60, 0xd8, 86, 0x40};
    static const uint8_t two[] = {0x81, 0x82, 0x61, 'a', 0xd8, 78, 0x40};
    static const uint8_t four[] = {0x81, 0x84, 0x61, 'a', 0xd8, 78, 0x40, 0xd8, 86, 0x40, 0x00};
    static const uint8_t as_map[] = {0xa0};
    static const uint8_t dup[] = {0x82, 0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,  0x40,
                                  0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,   0x40};
    static const uint8_t distinct[] = {0x82, 0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,  0x40,
                                       0x83, 0x61, 'b',  0xd8, 79,   0x40, 0xd8, 85,   0x40};
    const uint8_t *bad[] = {odd_t, odd_v, untagged, tagged_text, two, four, as_map, dup, distinct};
    const size_t bn[] = {sizeof odd_t,       sizeof odd_v, sizeof untagged,
                         sizeof tagged_text, sizeof two,   sizeof four,
                         sizeof as_map,      sizeof dup,   sizeof distinct};
    const int want[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE,
                        VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_OK};
    for (size_t k = 0; k < sizeof bn / sizeof *bn; k++) {
        uint8_t bbuf[64];
        tb bb;
        tb_init(&bb, bbuf, sizeof bbuf);
        tb_raw(&bb, bad[k], bn[k]);
        tpair p[5];
        samples_pairs(p, T0, &bb);
        expect_rc("samples", "block", k, dec_pairs(dec_samples, p, 5), want[k]);
    }
}

/* Decodes a batch of `nblock` one-sample blocks into `cap` blocks. */
static int dec_nblocks(uint32_t nblock, uint32_t cap, bool null_array)
{
    uint8_t *bbuf = malloc(64 * (size_t)nblock + 16);
    tb bb;
    tb_init(&bb, bbuf, 64 * (size_t)nblock + 16);
    tb_array(&bb, nblock);
    for (uint32_t i = 0; i < nblock; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%u", (unsigned)i);
        tb_block(&bb, name, 78, 1, s_off, 86, 1, s_val);
    }
    tpair p[5];
    samples_pairs(p, T0, &bb);
    uint8_t *buf = malloc(bb.len + 64);
    tb mb;
    tb_init(&mb, buf, bb.len + 64);
    tb_pairs(&mb, p, 5);
    vg_block *blocks = calloc(cap + 1, sizeof *blocks);
    vg_samples s = {.block = null_array ? NULL : blocks, .block_cap = cap};
    int rc = vg_samples_decode(buf, mb.len, &s);
    if (rc == VG_OK) {
        CU_ASSERT_EQUAL(s.nblock, nblock);
    }
    free(blocks);
    free(buf);
    free(bbuf);
    return rc;
}

static void test_samples_counts(void)
{
    CU_ASSERT_EQUAL(dec_nblocks(VG_BATCH_MAX_CHANNEL, VG_BATCH_MAX_CHANNEL, false), VG_OK);
    CU_ASSERT_EQUAL(dec_nblocks(VG_BATCH_MAX_CHANNEL + 1, VG_BATCH_MAX_CHANNEL + 1, false),
                    VG_ETOOBIG);
    CU_ASSERT_EQUAL(dec_nblocks(3, 2, false), VG_ENOSPC);
    CU_ASSERT_EQUAL(dec_nblocks(3, 3, false), VG_OK);
    CU_ASSERT_EQUAL(dec_nblocks(1, 8, true), VG_ENOSPC);
    CU_ASSERT_EQUAL(dec_nblocks(0, 0, true), VG_OK);
}

static void test_samples_encode_errors(void)
{
    int64_t t[2] = {T0, T0 + 1};
    double v[2] = {1, 2};
    vg_column col[2] = {{.name = "a", .n = 2, .t_us = t, .v = v},
                        {.name = "b", .n = 2, .t_us = t, .v = v}};
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("bad dev", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode(NULL, 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, NULL, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, NULL, 0, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(
        vg_samples_encode("sim-0", 1, T0, col, VG_BATCH_MAX_CHANNEL + 1, buf, sizeof buf, &len),
        VG_ETOOBIG);
    col[1].name = "a";
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = "b c";
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = NULL;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = "b";
    col[1].t_us = NULL;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].t_us = t;
    col[1].n = VG_BATCH_MAX_SAMPLES + 1;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_ETOOBIG);
    col[1].n = 2;
    int64_t far[2] = {INT64_MIN, 0};
    col[1].t_us = far;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 1, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, col, 2, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, -1, col + 1, 1, buf, sizeof buf, &len), VG_OK);
    far[1] = INT64_MAX;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, -1, col + 1, 1, buf, sizeof buf, &len),
                    VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, col + 1, 1, buf, sizeof buf, &len), VG_OK);
    /* a batch over VG_MSG_MAX_BYTES cannot be encoded */
    uint32_t n = VG_BATCH_MAX_SAMPLES;
    int64_t *tt = calloc(n, sizeof *tt);
    double *vv = calloc(n, sizeof *vv);
    vg_column many[2] = {{.name = "a", .n = n, .t_us = tt, .v = vv},
                         {.name = "b", .n = n, .t_us = tt, .v = vv}};
    size_t cap = 2u * VG_MSG_MAX_BYTES;
    uint8_t *big = malloc(cap);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, many, 1, big, cap, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, many, 2, big, cap, &len), VG_ETOOBIG);
    free(big);
    free(tt);
    free(vv);
}

int init_msg_tests(void)
{
    CU_pSuite c = CU_add_suite("cbor", NULL, NULL);
    if (!c || !CU_add_test(c, "heads and strictness", test_cbor_heads) ||
        !CU_add_test(c, "integers and floats", test_cbor_ints_floats) ||
        !CU_add_test(c, "lengths vs remaining bytes", test_cbor_lengths) ||
        !CU_add_test(c, "UTF-8 validation", test_cbor_utf8) ||
        !CU_add_test(c, "depth-limited skip", test_cbor_skip) ||
        !CU_add_test(c, "writer and ENOSPC", test_cbor_writer))
        return CU_get_error();
    CU_pSuite s = CU_add_suite("msg", NULL, NULL);
    if (!s || !CU_add_test(s, "alert round trip", test_alert_roundtrip) ||
        !CU_add_test(s, "alert malformed", test_alert_malformed) ||
        !CU_add_test(s, "alert encode errors", test_alert_encode_errors) ||
        !CU_add_test(s, "reset", test_reset) || !CU_add_test(s, "model ack", test_model_ack) ||
        !CU_add_test(s, "shutdown", test_shutdown) ||
        !CU_add_test(s, "shutdown samples", test_shutdown_samples) ||
        !CU_add_test(s, "status", test_status) ||
        !CU_add_test(s, "samples ack", test_samples_ack) ||
        !CU_add_test(s, "status counters", test_status_counters) ||
        !CU_add_test(s, "archive", test_archive) ||
        !CU_add_test(s, "archive items", test_archive_items) ||
        !CU_add_test(s, "model payload", test_model_payload) ||
        !CU_add_test(s, "model all parameters", test_model_all_params) ||
        !CU_add_test(s, "model channels", test_model_channels) ||
        !CU_add_test(s, "model multivariate part", test_model_mvar) ||
        !CU_add_test(s, "model multivariate part, fitted", test_model_mvar_fitted) ||
        !CU_add_test(s, "samples round trip", test_samples_roundtrip) ||
        !CU_add_test(s, "samples float32/sint64 variants", test_samples_typed_variants) ||
        !CU_add_test(s, "samples blocks", test_samples_blocks) ||
        !CU_add_test(s, "samples counts", test_samples_counts) ||
        !CU_add_test(s, "samples encode errors", test_samples_encode_errors))
        return CU_get_error();
    return 0;
}
