/*
 * test_msg_fixture.h - what the message codec tests (test_msg_*.c) share:
 * a hand CBOR builder over libcbor (tb_*), independent of the code under
 * test, messages written as key/value pair lists (tpair, mirroring
 * docs/schema.cddl) and the generic checks run on every message: malformed
 * variants by field class, framing (truncation at every offset into an
 * exact-size heap copy, trailing bytes, oversize), encoder capacities and
 * the wire layout against the hand-built bytes.  Defined in
 * test_msg_fixture.c, which also checks the builder itself against
 * RFC 8949 Appendix A.
 */
#ifndef VG_TEST_MSG_FIXTURE_H
#define VG_TEST_MSG_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

/* ---- hand builder over libcbor ---- */

typedef struct tb {
    uint8_t *buf; /* caller storage */
    size_t cap;   /* its size */
    size_t len;   /* bytes written */
} tb;

#define TB_ROOM(b) (b)->buf + (b)->len, (b)->cap - (b)->len

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

/* Encoding must fail with VG_ENOSPC for every capacity below `len`. */
typedef int (*tenc)(const void *obj, uint8_t *buf, size_t cap, size_t *len);

/* Starts an empty builder over the caller's buf[0..cap). */
void tb_init(tb *b, uint8_t *buf, size_t cap);

/* Accounts for n bytes a cbor_encode_*() call wrote at TB_ROOM (0: it
 * did not fit, which fails the test). */
void tb_took(tb *b, size_t n);

/* Appends an unsigned integer (major type 0), shortest head. */
void tb_uint(tb *b, uint64_t v);

/* Appends the negative integer -1-n (major type 1). */
void tb_neg(tb *b, uint64_t n);

/* Appends v as major type 0 or 1 by its sign. */
void tb_int(tb *b, int64_t v);

/* Appends v as a float64 (0xfb). */
void tb_float(tb *b, double v);

/* Appends p[0..n) as they are (pre-encoded items). */
void tb_raw(tb *b, const void *p, size_t n);

/* Appends a text string of s[0..n) (may hold NUL or bad UTF-8). */
void tb_textn(tb *b, const char *s, size_t n);

/* Appends the NUL-terminated s as a text string. */
void tb_text(tb *b, const char *s);

/* Appends p[0..n) as a byte string. */
void tb_bytes(tb *b, const void *p, size_t n);

/* Appends a definite array head of n items. */
void tb_array(tb *b, size_t n);

/* Appends a definite map head of n pairs. */
void tb_map(tb *b, size_t n);

/* Appends a tag head. */
void tb_tag(tb *b, uint64_t t);

/* Stores v little-endian at p[0..4). */
void le32(uint8_t *p, uint32_t v);

/* Stores v little-endian at p[0..8). */
void le64(uint8_t *p, uint64_t v);

/* The IEEE 754 bits of d. */
uint64_t dbits(double d);

/* Appends the value of pair *p in its P_* wire form. */
void tb_value(tb *b, const tpair *p);

/* Appends p[0..n) as a map, keys as given (KEY_TEXT, KEY_NEG special). */
void tb_pairs(tb *b, const tpair *p, size_t n);

/* Decodes buf[0..len) from an exact-size heap copy (ASan sees over-reads). */
int dec_exact(tdec dec, const uint8_t *buf, size_t len);

/* Builds p[0..n) as a map and decodes it with dec (exact-size copy). */
int dec_pairs(tdec dec, const tpair *p, size_t n);

/* Records a failure naming the case when got != want. */
void expect_rc(const char *msg, const char *what, size_t i, int got, int want);

/* Decodes the base pairs with pair i replaced by *v (or removed if !v, or
 * with *v appended if i == n). */
int dec_variant(tdec dec, const tpair *base, size_t n, size_t i, const tpair *v);

/* Replaces pair i's value by `repl` (same key) and expects `want`. */
void expect_value(const char *msg, tdec dec, const tpair *base, size_t n, size_t i, tpair repl,
                  int want, const char *what);

/* Fills txt with n 'a's (n < 300) for length limits. */
const char *text_of(char txt[300], size_t n);

/* Class-specific value mutations of pair i. */
void check_class(const char *msg, tdec dec, const tpair *p, size_t n, size_t i);

/* Malformed variants that apply to every top-level message. */
void check_generic(const char *msg, tdec dec, const tpair *p, size_t n);

/* Truncation at every offset, trailing bytes, oversize, not-a-map. */
void check_framing(const char *msg, tdec dec, const uint8_t *buf, size_t len);

/* Encoding must fail with VG_ENOSPC for every capacity below `len`. */
void check_caps(const char *msg, tenc enc, const void *obj, size_t len);

/* Encoder output must equal the hand-built encoding of p[0..n). */
void check_bytes(const char *msg, const tpair *p, size_t n, const uint8_t *enc, size_t len);

#endif
