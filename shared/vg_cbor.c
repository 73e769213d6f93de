/*
 * vg_cbor.c - the strict CBOR reader and the writer declared in
 * vg_cbor.h.
 *
 * Reading is one function, cbor__read_head(), that decodes the initial byte
 * and its 0/1/2/4/8-byte argument; vg_cbor_next() turns that into an item
 * and does the length checks.  Nothing recurses: vg_cbor_skip() keeps the
 * number of items still to skip per nesting level in a fixed array.
 *
 * Writing is one function too, cbor__head(): the major type and the
 * argument in its shortest form (RFC 8949 section 4.2.1: immediate, 1, 2,
 * 4 or 8 bytes, big-endian, from a table); floats are always float64 with
 * the double's bit pattern unchanged.  The writer needs no library: the
 * unit tests check it byte for byte against libcbor's cbor_encode_*()
 * (tests/unit/test_cbor.c), which is what it replaced.
 *
 * Cost: O(1) per item head; O(n) for UTF-8 checks and skips of n bytes.
 */
#include <math.h>
#include <string.h>

#include <stdint.h>

#include "vg_cbor.h"
#include "vg_error.h"

/* ---- reader ---- */

/* Contract in vg_cbor.h; the reader borrows buf. */
void vg_cbor_reader_init(vg_cbor_reader *r, const uint8_t *buf, size_t len)
{
    r->p = buf;
    r->end = buf ? buf + len : buf;
}

/* Contract in vg_cbor.h. */
size_t vg_cbor_remaining(const vg_cbor_reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Decodes the head at *pp (not past end): major type, additional info and
 * argument; advances *pp past the head.  VG_ETRUNC / VG_EDECODE. */
static int cbor__read_head(const uint8_t **pp, const uint8_t *end, uint8_t *major, uint8_t *ai,
                           uint64_t *arg)
{
    const uint8_t *p = *pp;
    if (p >= end)
        return VG_ETRUNC;
    *major = (uint8_t)(*p >> 5);
    *ai = (uint8_t)(*p & 31);
    p++;
    if (*ai < 24) {
        *arg = *ai;
    } else if (*ai <= 27) {
        size_t nb = (size_t)1 << (*ai - 24);
        if ((size_t)(end - p) < nb)
            return VG_ETRUNC;
        uint64_t v = 0;
        for (size_t i = 0; i < nb; i++)
            v = (v << 8) | p[i];
        p += nb;
        *arg = v;
    } else {
        return VG_EDECODE; /* 28..30 reserved, 31 indefinite length */
    }
    *pp = p;
    return VG_OK;
}

/* IEEE 754 half precision bits to double (exact). */
static double cbor__half(uint16_t h)
{
    int e = (h >> 10) & 0x1f;
    int m = h & 0x3ff;
    double v;
    if (e == 0)
        v = ldexp(m, -24);
    else if (e != 31)
        v = ldexp(m + 1024, e - 25);
    else
        v = m == 0 ? INFINITY : NAN;
    return (h & 0x8000) ? -v : v;
}

/* Fills *it for a major type 7 item (simple values and floats). */
static int cbor__simple(uint8_t ai, uint64_t arg, vg_cbor_item *it)
{
    if (ai == 20 || ai == 21) {
        it->type = VG_CBOR_BOOL;
        it->val = ai == 21;
    } else if (ai == 22) {
        it->type = VG_CBOR_NULL;
    } else if (ai == 23) {
        it->type = VG_CBOR_UNDEF;
    } else if (ai == 25) {
        it->type = VG_CBOR_FLOAT;
        it->f = cbor__half((uint16_t)arg);
    } else if (ai == 26) {
        uint32_t u = (uint32_t)arg;
        float f;
        memcpy(&f, &u, sizeof f);
        it->type = VG_CBOR_FLOAT;
        it->f = f;
    } else if (ai == 27) {
        memcpy(&it->f, &arg, sizeof it->f);
        it->type = VG_CBOR_FLOAT;
    } else {
        return VG_EDECODE; /* unassigned simple values */
    }
    return VG_OK;
}

/* Fills *it for a string of `arg` bytes at *pp and advances past it. */
static int cbor__string(uint8_t major, uint64_t arg, const uint8_t **pp, const uint8_t *end,
                        vg_cbor_item *it)
{
    if (arg > (uint64_t)(end - *pp))
        return VG_ETRUNC;
    it->type = major == 2 ? VG_CBOR_BYTES : VG_CBOR_TEXT;
    it->ptr = *pp;
    it->len = (size_t)arg;
    if (major == 3 && !vg_cbor_utf8_valid(it->ptr, it->len))
        return VG_EDECODE;
    *pp += it->len;
    return VG_OK;
}

/* Fills *it for an array/map head of `arg` entries; each entry needs at
 * least one byte, so a count beyond the rest of the buffer is truncation. */
static int cbor__container(uint8_t major, uint64_t arg, size_t left, vg_cbor_item *it)
{
    uint64_t need_per = major == 5 ? 2 : 1;
    if (arg > left / need_per)
        return VG_ETRUNC;
    it->type = major == 4 ? VG_CBOR_ARRAY : VG_CBOR_MAP;
    it->val = arg;
    return VG_OK;
}

/* Contract in vg_cbor.h: heads and lengths checked here, against r->end. */
int vg_cbor_next(vg_cbor_reader *r, vg_cbor_item *it)
{
    const uint8_t *p = r->p;
    uint8_t major, ai;
    uint64_t arg;
    memset(it, 0, sizeof(*it));
    int rc = cbor__read_head(&p, r->end, &major, &ai, &arg);
    if (rc != VG_OK)
        return rc;
    switch (major) {
    case 0:
    case 1:
        it->type = major == 0 ? VG_CBOR_UINT : VG_CBOR_NEGINT;
        it->val = arg;
        break;
    case 2:
    case 3:
        rc = cbor__string(major, arg, &p, r->end, it);
        break;
    case 4:
    case 5:
        rc = cbor__container(major, arg, (size_t)(r->end - p), it);
        break;
    case 6:
        it->type = VG_CBOR_TAG;
        it->val = arg;
        break;
    default:
        rc = cbor__simple(ai, arg, it);
        break;
    }
    if (rc == VG_OK)
        r->p = p;
    return rc;
}

/* vg_cbor_next() that also requires type `type`. */
static int cbor__expect(vg_cbor_reader *r, uint8_t type, vg_cbor_item *it)
{
    int rc = vg_cbor_next(r, it);
    if (rc == VG_OK && it->type != type)
        rc = VG_EDECODE;
    return rc;
}

/* Contract in vg_cbor.h (typed reads). */
int vg_cbor_read_uint(vg_cbor_reader *r, uint64_t *v)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_UINT, &it);
    if (rc == VG_OK)
        *v = it.val;
    return rc;
}

/* Contract in vg_cbor.h: uint or nint within int64_t. */
int vg_cbor_read_int(vg_cbor_reader *r, int64_t *v)
{
    vg_cbor_item it;
    int rc = vg_cbor_next(r, &it);
    if (rc != VG_OK)
        return rc;
    if ((it.type != VG_CBOR_UINT && it.type != VG_CBOR_NEGINT) || it.val > (uint64_t)INT64_MAX)
        return VG_EDECODE;
    *v = it.type == VG_CBOR_UINT ? (int64_t)it.val : -1 - (int64_t)it.val;
    return VG_OK;
}

/* Contract in vg_cbor.h: any float width, never an integer. */
int vg_cbor_read_float(vg_cbor_reader *r, double *v)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_FLOAT, &it);
    if (rc == VG_OK)
        *v = it.f;
    return rc;
}

/* Contract in vg_cbor.h. */
int vg_cbor_read_bool(vg_cbor_reader *r, bool *v)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_BOOL, &it);
    if (rc == VG_OK)
        *v = it.val != 0;
    return rc;
}

/* Contract in vg_cbor.h: *s borrows the reader's buffer. */
int vg_cbor_read_text(vg_cbor_reader *r, const char **s, size_t *len)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_TEXT, &it);
    if (rc == VG_OK) {
        *s = (const char *)it.ptr;
        *len = it.len;
    }
    return rc;
}

/* Contract in vg_cbor.h: *p borrows the reader's buffer. */
int vg_cbor_read_bytes(vg_cbor_reader *r, const uint8_t **p, size_t *len)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_BYTES, &it);
    if (rc == VG_OK) {
        *p = it.ptr;
        *len = it.len;
    }
    return rc;
}

/* Contract in vg_cbor.h: *n <= bytes remaining. */
int vg_cbor_read_array(vg_cbor_reader *r, uint64_t *n)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_ARRAY, &it);
    if (rc == VG_OK)
        *n = it.val;
    return rc;
}

/* Contract in vg_cbor.h: 2 * *n <= bytes remaining. */
int vg_cbor_read_map(vg_cbor_reader *r, uint64_t *n)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_MAP, &it);
    if (rc == VG_OK)
        *n = it.val;
    return rc;
}

/* Contract in vg_cbor.h. */
int vg_cbor_read_tag(vg_cbor_reader *r, uint64_t *tag)
{
    vg_cbor_item it;
    int rc = cbor__expect(r, VG_CBOR_TAG, &it);
    if (rc == VG_OK)
        *tag = it.val;
    return rc;
}

/* Number of items nested directly under *it (0 for scalars). */
static uint64_t cbor__children(const vg_cbor_item *it)
{
    if (it->type == VG_CBOR_ARRAY)
        return it->val;
    if (it->type == VG_CBOR_MAP)
        return 2 * it->val; /* <= remaining bytes: cannot overflow */
    if (it->type == VG_CBOR_TAG)
        return 1;
    return 0;
}

/* Contract in vg_cbor.h: iterative, left[] holds the items still to skip per level. */
int vg_cbor_skip(vg_cbor_reader *r, int max_depth)
{
    uint64_t left[VG_CBOR_MAX_DEPTH + 1]; /* items still to skip per level */
    int depth = 0;
    if (max_depth < 0 || max_depth > VG_CBOR_MAX_DEPTH)
        max_depth = VG_CBOR_MAX_DEPTH;
    left[0] = 1;
    while (depth >= 0) {
        if (left[depth] == 0) {
            depth--;
            continue;
        }
        left[depth]--;
        vg_cbor_item it;
        int rc = vg_cbor_next(r, &it);
        if (rc != VG_OK)
            return rc;
        uint64_t kids = cbor__children(&it);
        if (kids == 0)
            continue;
        if (depth >= max_depth)
            return VG_ETOOBIG;
        left[++depth] = kids;
    }
    return VG_OK;
}

/* Length of the valid UTF-8 sequence at s[0..len) (len >= 1), or 0. */
static size_t cbor__utf8_seq(const uint8_t *s, size_t len)
{
    uint8_t c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xe0) == 0xc0) {
        n = 1, cp = c & 0x1fu, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 2, cp = c & 0x0fu, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 3, cp = c & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (len - 1 < n)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
}

/* Contract in vg_cbor.h. */
bool vg_cbor_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = cbor__utf8_seq(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

/* ---- writer ---- */

/* Contract in vg_cbor.h; the writer borrows buf. */
void vg_cbor_writer_init(vg_cbor_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->err = VG_OK;
}

/* Where the next byte goes and how many fit; 0 once an error is sticky. */
static size_t cbor__room(const vg_cbor_writer *w, uint8_t **at)
{
    *at = w->buf ? w->buf + w->len : NULL;
    return w->err != VG_OK || !w->buf ? 0 : w->cap - w->len;
}

/* The CBOR major types the writer emits (RFC 8949 section 3.1), already
 * shifted into the initial byte's top three bits. */
enum {
    CBOR__UINT = 0u << 5,
    CBOR__NEGINT = 1u << 5,
    CBOR__BYTES = 2u << 5,
    CBOR__TEXT = 3u << 5,
    CBOR__ARRAY = 4u << 5,
    CBOR__MAP = 5u << 5,
    CBOR__TAG = 6u << 5,
    CBOR__SIMPLE = 7u << 5,
};

/* Shortest-form argument sizes (RFC 8949 section 4.2.1, "preferred
 * serialization"): the first row whose limit is >= the argument wins;
 * ai is the additional information of the initial byte (0 = the value is
 * the additional information itself). */
static const struct cbor__arg_form {
    uint64_t max;   /* largest argument this form holds */
    uint8_t ai;     /* additional information, 0 = immediate */
    uint8_t nbytes; /* bytes of argument after the initial byte */
} cbor__forms[] = {
    {23, 0, 0}, {0xff, 24, 1}, {0xffff, 25, 2}, {0xffffffffu, 26, 4}, {UINT64_MAX, 27, 8},
};

/* Appends initial byte `ib` (major type | additional information) and then
 * the nbytes low-order bytes of arg, big-endian; sticky VG_ENOSPC when they
 * do not fit.  Writes nothing on error. */
static int cbor__emit(vg_cbor_writer *w, uint8_t ib, uint64_t arg, unsigned nbytes)
{
    uint8_t *at;
    size_t room = cbor__room(w, &at);
    if (w->err != VG_OK)
        return w->err;
    if (room < 1 + (size_t)nbytes) {
        w->err = VG_ENOSPC;
        return w->err;
    }
    at[0] = ib;
    for (unsigned i = 0; i < nbytes; i++)
        at[1 + i] = (uint8_t)(arg >> (8 * (nbytes - 1 - i)));
    w->len += 1 + (size_t)nbytes;
    return VG_OK;
}

/* Appends the head of an item of major type `major` (CBOR__*) with
 * argument arg in its shortest form. */
static int cbor__head(vg_cbor_writer *w, uint8_t major, uint64_t arg)
{
    const struct cbor__arg_form *f = cbor__forms;
    while (arg > f->max)
        f++;
    return cbor__emit(w, (uint8_t)(major | (f->ai ? f->ai : arg)), arg, f->nbytes);
}

/* Contract in vg_cbor.h (every put: append, sticky error). */
int vg_cbor_put_uint(vg_cbor_writer *w, uint64_t v)
{
    return cbor__head(w, CBOR__UINT, v);
}

/* Contract in vg_cbor.h. */
int vg_cbor_put_int(vg_cbor_writer *w, int64_t v)
{
    if (v >= 0)
        return vg_cbor_put_uint(w, (uint64_t)v);
    return cbor__head(w, CBOR__NEGINT, (uint64_t)(-(v + 1))); /* -1-n */
}

/* Contract in vg_cbor.h: always float64 (0xfb + 8 bytes, big-endian, the
 * bit pattern of v unchanged, NaN payloads included). */
int vg_cbor_put_float(vg_cbor_writer *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return cbor__emit(w, CBOR__SIMPLE | 27, bits, 8);
}

/* Contract in vg_cbor.h: simple values 20 (false) / 21 (true). */
int vg_cbor_put_bool(vg_cbor_writer *w, bool v)
{
    return cbor__emit(w, (uint8_t)(CBOR__SIMPLE | (v ? 21 : 20)), 0, 0);
}

/* Contract in vg_cbor.h. */
int vg_cbor_put_array(vg_cbor_writer *w, size_t n)
{
    return cbor__head(w, CBOR__ARRAY, n);
}

/* Contract in vg_cbor.h. */
int vg_cbor_put_map(vg_cbor_writer *w, size_t n)
{
    return cbor__head(w, CBOR__MAP, n);
}

/* Contract in vg_cbor.h. */
int vg_cbor_put_tag(vg_cbor_writer *w, uint64_t tag)
{
    return cbor__head(w, CBOR__TAG, tag);
}

/* Reserves `len` content bytes after a head already written. */
static uint8_t *cbor__reserve(vg_cbor_writer *w, size_t len)
{
    uint8_t *at;
    size_t room = cbor__room(w, &at);
    if (w->err != VG_OK)
        return NULL;
    if (room < len) {
        w->err = VG_ENOSPC;
        return NULL;
    }
    w->len += len;
    return at;
}

/* Contract in vg_cbor.h. */
int vg_cbor_put_bytes_head(vg_cbor_writer *w, size_t len)
{
    return cbor__head(w, CBOR__BYTES, len);
}

/* Contract in vg_cbor.h: the pointer is into the writer's buffer. */
uint8_t *vg_cbor_put_bytes_open(vg_cbor_writer *w, size_t len)
{
    if (vg_cbor_put_bytes_head(w, len) != VG_OK)
        return NULL;
    return cbor__reserve(w, len);
}

/* Contract in vg_cbor.h; p is only read. */
int vg_cbor_put_bytes(vg_cbor_writer *w, const uint8_t *p, size_t len)
{
    uint8_t *dst = vg_cbor_put_bytes_open(w, len);
    if (dst && len)
        memcpy(dst, p, len);
    return w->err;
}

/* Contract in vg_cbor.h; s is only read (the caller validates UTF-8). */
int vg_cbor_put_text(vg_cbor_writer *w, const char *s, size_t len)
{
    if (cbor__head(w, CBOR__TEXT, len) != VG_OK)
        return w->err;
    uint8_t *dst = cbor__reserve(w, len);
    if (dst && len)
        memcpy(dst, s, len);
    return w->err;
}

/* Contract in vg_cbor.h. */
int vg_cbor_writer_finish(const vg_cbor_writer *w, size_t *len)
{
    if (w->err != VG_OK)
        return w->err;
    *len = w->len;
    return VG_OK;
}
