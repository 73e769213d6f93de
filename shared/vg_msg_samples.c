/*
 * vg_msg_samples.c - the samples batch (vigil/v1/<dev>/samples): a field
 * table plus a callback pair for the columnar channel blocks.
 *
 *   { 0: 1, 1: device, 2: seq, 3: t0,
 *     4: [* [name, times: #6.78(bstr) / #6.79(bstr),
 *              values: #6.86(bstr) / #6.85(bstr)]] }
 *
 * Times are offsets in microseconds from t0 as RFC 8746 typed arrays of
 * little-endian sint32 (tag 78) or sint64 (tag 79); values are little-endian
 * float64 (tag 86) or float32 (tag 85).  The encoder picks sint32 per block
 * when every offset fits and always writes float64; the decoder takes all
 * four combinations.  A block's two arrays hold the same number n of
 * elements (byte length == n * width), n <= VG_BATCH_MAX_SAMPLES; at most
 * VG_BATCH_MAX_CHANNEL blocks with unique channel names.  Every t0 + offset
 * must fit int64_t, so vg_block_time() cannot overflow.
 *
 * Decoding does not copy samples: blocks point into the payload.
 *
 * Cost: decode O(blocks^2) name comparisons (at most 256^2/2) and O(1) per
 * sample, except sint64 offsets (or t0 within 2^31 of the int64 limits),
 * which are range-checked in O(n); encode O(samples).
 */
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

#define SAMPLES__TAG_S32 78 /* RFC 8746 sint32, little endian */
#define SAMPLES__TAG_S64 79 /* RFC 8746 sint64, little endian */
#define SAMPLES__TAG_F32 85 /* RFC 8746 float32, little endian */
#define SAMPLES__TAG_F64 86 /* RFC 8746 float64, little endian */

/* What vg_samples_encode() hands the table: the scalar rows read the
 * vg_samples (first member, so offsets coincide), the block callback reads
 * the columns. */
typedef struct samples__in {
    vg_samples s;         /* device, seq, t0_us */
    const vg_column *col; /* the columns to write */
    uint32_t ncol;        /* how many */
} samples__in;

/* True when t0 + off is representable as int64_t. */
static bool samples__sum_ok(int64_t t0, int64_t off)
{
    return off >= 0 ? t0 <= INT64_MAX - off : t0 >= INT64_MIN - off;
}

/* ---- encoding ---- */

/* True when t - t0 is representable as int64_t. */
static bool samples__diff_ok(int64_t t, int64_t t0)
{
    return t0 >= 0 ? t >= INT64_MIN + t0 : t <= INT64_MAX + t0;
}

/* Writes v as `width` little-endian bytes at p. */
static void samples__put_le(uint8_t *p, uint64_t v, unsigned width)
{
    for (unsigned k = 0; k < width; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

/* Checks column c against base t0 and returns in *width the offset width
 * (4 when all offsets fit sint32, else 8).  VG_EINVAL / VG_ETOOBIG. */
static int samples__check_column(const vg_column *c, int64_t t0, unsigned *width)
{
    if (!c->name || !vg_valid_channel(c->name, strnlen(c->name, VG_CHANNEL_MAX + 1)))
        return VG_EINVAL;
    if (c->n > VG_BATCH_MAX_SAMPLES)
        return VG_ETOOBIG;
    if (c->n && (!c->t_us || !c->v))
        return VG_EINVAL;
    *width = 4;
    for (uint32_t i = 0; i < c->n; i++) {
        int64_t t = c->t_us[i];
        if (!samples__diff_ok(t, t0))
            return VG_EINVAL;
        int64_t off = t - t0;
        if (off < INT32_MIN || off > INT32_MAX)
            *width = 8;
    }
    return VG_OK;
}

/* Writes one column as a [name, times, values] block. */
static int samples__put_block(vg_cbor_writer *w, const vg_column *c, int64_t t0)
{
    unsigned tw;
    int rc = samples__check_column(c, t0, &tw);
    if (rc != VG_OK)
        return rc;
    vg_cbor_put_array(w, 3);
    vg_cbor_put_text(w, c->name, strlen(c->name));
    vg_cbor_put_tag(w, tw == 4 ? SAMPLES__TAG_S32 : SAMPLES__TAG_S64);
    uint8_t *p = vg_cbor_put_bytes_open(w, (size_t)c->n * tw);
    for (uint32_t i = 0; p && i < c->n; i++)
        samples__put_le(p + (size_t)i * tw, (uint64_t)(c->t_us[i] - t0), tw);
    vg_cbor_put_tag(w, SAMPLES__TAG_F64);
    p = vg_cbor_put_bytes_open(w, (size_t)c->n * 8);
    for (uint32_t i = 0; p && i < c->n; i++) {
        uint64_t u;
        memcpy(&u, &c->v[i], 8);
        samples__put_le(p + (size_t)i * 8, u, 8);
    }
    return w->err;
}

/* True when column i's name equals one of columns 0..i-1 (names valid). */
static bool samples__dup_column(const vg_column *col, uint32_t i)
{
    for (uint32_t k = 0; k < i; k++)
        if (strcmp(col[k].name, col[i].name) == 0)
            return true;
    return false;
}

/* Writes column i of the samples__in at obj as a block; its name must be
 * new. */
static int samples__put_column(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const samples__in *in = obj;
    int rc = samples__put_block(w, &in->col[i], in->s.t0_us);
    if (rc == VG_OK && samples__dup_column(in->col, i))
        rc = VG_EINVAL;
    return rc;
}

/* ---- decoding ---- */

/* Reads a typed array; `tag4`/`tag8` are the accepted tags for widths 4/8.
 * *raw points into the payload.  VG_EDECODE / VG_ETOOBIG / VG_ETRUNC. */
static int samples__get_typed(vg_cbor_reader *r, uint64_t tag4, uint64_t tag8, const uint8_t **raw,
                              uint32_t *n, uint8_t *width)
{
    uint64_t tag;
    size_t len;
    int rc = vg_cbor_read_tag(r, &tag);
    if (rc != VG_OK)
        return rc;
    if (tag != tag4 && tag != tag8)
        return VG_EDECODE;
    *width = tag == tag4 ? 4 : 8;
    rc = vg_cbor_read_bytes(r, raw, &len);
    if (rc != VG_OK)
        return rc;
    if (len % *width != 0)
        return VG_EDECODE;
    if (len / *width > VG_BATCH_MAX_SAMPLES)
        return VG_ETOOBIG;
    *n = (uint32_t)(len / *width);
    return VG_OK;
}

/* Reads one [name, times, values] block into *b. */
static int samples__get_block(vg_cbor_reader *r, vg_block *b)
{
    const char *name;
    size_t len;
    uint32_t nt, nv;
    int rc = vg_msg__get_tuple(r, 3);
    if (rc == VG_OK)
        rc = vg_cbor_read_text(r, &name, &len);
    if (rc == VG_OK && !vg_valid_channel(name, len))
        rc = VG_EDECODE;
    if (rc == VG_OK)
        rc = samples__get_typed(r, SAMPLES__TAG_S32, SAMPLES__TAG_S64, &b->t_raw, &nt, &b->t_width);
    if (rc == VG_OK)
        rc = samples__get_typed(r, SAMPLES__TAG_F32, SAMPLES__TAG_F64, &b->v_raw, &nv, &b->v_width);
    if (rc == VG_OK && nt != nv)
        rc = VG_EDECODE;
    if (rc == VG_OK) {
        b->name = name;
        b->name_len = (uint32_t)len;
        b->n = nt;
    }
    return rc;
}

/* True when block i's name equals one of blocks 0..i-1. */
static bool samples__dup_block(const vg_block *b, uint32_t i)
{
    for (uint32_t k = 0; k < i; k++)
        if (b[k].name_len == b[i].name_len && memcmp(b[k].name, b[i].name, b[i].name_len) == 0)
            return true;
    return false;
}

/* Reads block i into the caller's array of the vg_samples at obj; its
 * name must be new. */
static int samples__get_block_at(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_samples *s = obj;
    int rc = samples__get_block(r, &s->block[i]);
    if (rc == VG_OK && samples__dup_block(s->block, i))
        rc = VG_EDECODE;
    return rc;
}

static const vg_msg_list samples__blocks = {.map = 0,
                                            .max = VG_BATCH_MAX_CHANNEL,
                                            .put = samples__put_column,
                                            .get = samples__get_block_at};

/* Writes the blocks of the samples__in at obj. */
static int samples__put_blocks(vg_cbor_writer *w, const void *obj)
{
    const samples__in *in = obj;
    return vg_msg__put_list(w, &samples__blocks, in->col, in->ncol, obj);
}

/* Reads the blocks into the caller's array of the vg_samples at obj. */
static int samples__get_blocks(vg_cbor_reader *r, void *obj)
{
    vg_samples *s = obj;
    return vg_msg__get_list(r, &samples__blocks, s->block_cap, obj, &s->nblock);
}

/* True when t0 + every offset of b fits int64_t.  sint32 offsets can only
 * overflow when t0 lies within 2^31 of a limit; only then, or for sint64
 * offsets, is each offset checked. */
static bool samples__times_ok(const vg_block *b, int64_t t0)
{
    if (b->t_width == 4 && t0 > INT64_MIN - INT32_MIN && t0 < INT64_MAX - INT32_MAX)
        return true;
    for (uint32_t i = 0; i < b->n; i++) {
        const uint8_t *p = b->t_raw + (size_t)i * b->t_width;
        uint64_t u = 0;
        for (int k = b->t_width - 1; k >= 0; k--)
            u = (u << 8) | p[k];
        int64_t off = b->t_width == 4 ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
        if (!samples__sum_ok(t0, off))
            return false;
    }
    return true;
}

static const vg_msg_field samples__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_samples, device, "device"),
    VG_MSG_ROW(2, VG_MSG_UINT, 1, vg_samples, seq, "seq"),
    VG_MSG_ROW(3, VG_MSG_INT, 1, vg_samples, t0_us, "t0"),
    VG_MSG_CUSTOM_ROW(4, 1, "blocks", samples__put_blocks, samples__get_blocks),
};

static const vg_msg_schema samples__schema = VG_MSG_SCHEMA("samples", samples__rows);

/* Contract in vg_msg.h; device and the columns are only read. */
int vg_samples_encode(const char *device, uint64_t seq, int64_t t0_us, const vg_column *col,
                      uint32_t ncol, uint8_t *buf, size_t cap, size_t *len)
{
    samples__in in;
    memset(&in, 0, sizeof in);
    if (!device || strnlen(device, sizeof in.s.device) == sizeof in.s.device)
        return VG_EINVAL;
    strcpy(in.s.device, device);
    in.s.seq = seq;
    in.s.t0_us = t0_us;
    in.col = col;
    in.ncol = ncol;
    return vg_msg__encode(&samples__schema, &in, buf, cap, len);
}

/* Contract in vg_msg.h: out->block / out->block_cap are the caller's and
 * kept; blocks point into buf.  More blocks than block_cap is VG_ENOSPC. */
int vg_samples_decode(const uint8_t *buf, size_t len, vg_samples *out)
{
    if (!out)
        return VG_EINVAL;
    vg_block *block = out->block;
    uint32_t cap = block ? out->block_cap : 0;
    memset(out, 0, sizeof(*out));
    out->block = block;
    out->block_cap = cap;
    int rc = vg_msg__decode(&samples__schema, buf, len, out);
    for (uint32_t i = 0; i < out->nblock && rc == VG_OK; i++)
        if (!samples__times_ok(&out->block[i], out->t0_us))
            rc = VG_EDECODE;
    if (rc != VG_OK)
        out->nblock = 0;
    return rc;
}
