/*
 * vg_cbor.h - a small, strict CBOR (RFC 8949) reader and writer, with no
 * library underneath.  Internal to libvigil-core: the message codecs
 * (vg_msg*.c) and the bundle code (vg_bundle.c) are its only users.
 *
 * Reader: a cursor over one caller buffer.  vg_cbor_next() decodes one data
 * item head (and, for byte and text strings, locates the content) and
 * advances past it; typed helpers (vg_cbor_read_uint() ...) wrap it with a
 * type check.  It never allocates and never recurses.  Every length and
 * count is checked against the bytes that remain before it is trusted: a
 * string longer than the rest of the buffer, an array of more items than
 * bytes left, or a map of more pairs than half the bytes left is reported as
 * VG_ETRUNC at once.  Strictness: indefinite lengths, reserved additional
 * information values, simple values other than false/true/null/undefined and
 * text strings that are not valid UTF-8 are VG_EDECODE.  Non-minimal heads
 * (e.g. 0x18 0x01 for 1) are accepted: they are well-formed CBOR.
 *
 * The reader is hand-written rather than built on libcbor's streaming
 * decoder because libcbor 0.8's cbor_stream_decode() rejects the one-byte
 * tags 6..20 as malformed, and COSE_Sign1 is tag 18 (0xd2).
 *
 * Writer: a sticky-error cursor over one caller buffer; every head is
 * written in its shortest form (RFC 8949 preferred serialization; floats
 * always as float64, bit-exact), so the output is deterministic and byte
 * for byte what libcbor's cbor_encode_*() functions give (the unit tests
 * check that; vigild does not link libcbor).  After the first failure (buffer too small) all
 * further puts do nothing and vg_cbor_writer_finish() reports VG_ENOSPC.
 *
 * Cost: every operation is O(1) except UTF-8 validation (O(string bytes))
 * and vg_cbor_skip() (O(bytes skipped)).
 */
#ifndef VG_CBOR_H
#define VG_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VG_CBOR_MAX_DEPTH 16 /* nesting levels vg_cbor_skip() accepts */

/* Major types as the reader reports them (floats of all widths are one). */
enum vg_cbor_type {
    VG_CBOR_UINT = 0,
    VG_CBOR_NEGINT,
    VG_CBOR_BYTES,
    VG_CBOR_TEXT,
    VG_CBOR_ARRAY,
    VG_CBOR_MAP,
    VG_CBOR_TAG,
    VG_CBOR_FLOAT,
    VG_CBOR_BOOL,
    VG_CBOR_NULL,
    VG_CBOR_UNDEF
};

/* One decoded data item head. */
typedef struct vg_cbor_item {
    uint8_t type;       /* enum vg_cbor_type */
    uint64_t val;       /* UINT value; NEGINT n for the value -1-n; ARRAY/MAP
                           count; TAG number; BOOL 0/1 */
    double f;           /* FLOAT value (half and single widened exactly) */
    const uint8_t *ptr; /* BYTES/TEXT content, inside the reader's buffer */
    size_t len;         /* BYTES/TEXT content length in bytes */
} vg_cbor_item;

/* A read cursor: p moves toward end, never past it. */
typedef struct vg_cbor_reader {
    const uint8_t *p;   /* next unread byte */
    const uint8_t *end; /* one past the last byte */
} vg_cbor_reader;

/* A write cursor with a sticky error. */
typedef struct vg_cbor_writer {
    uint8_t *buf; /* caller buffer */
    size_t cap;   /* its size */
    size_t len;   /* bytes written so far */
    int err;      /* VG_OK, or the first failure (VG_ENOSPC) */
} vg_cbor_writer;

/* ---- reader ---- */

/* Points *r at buf[0..len).  The buffer must outlive every item read. */
void vg_cbor_reader_init(vg_cbor_reader *r, const uint8_t *buf, size_t len);

/* Bytes not yet read. */
size_t vg_cbor_remaining(const vg_cbor_reader *r);

/* Reads one item head into *it and advances past it (past the content for
 * strings).  VG_ETRUNC when the buffer ends first, VG_EDECODE when the bytes
 * are not strict CBOR (see the file comment).  On error *r is unchanged. */
int vg_cbor_next(vg_cbor_reader *r, vg_cbor_item *it);

/* Typed reads: vg_cbor_next() plus a type check (VG_EDECODE on mismatch).
 * On error the cursor position is unspecified. */
int vg_cbor_read_uint(vg_cbor_reader *r, uint64_t *v);
/* An unsigned or negative integer that fits int64_t (else VG_EDECODE). */
int vg_cbor_read_int(vg_cbor_reader *r, int64_t *v);
/* A float of any width (half, single, double); integers are not floats. */
int vg_cbor_read_float(vg_cbor_reader *r, double *v);
int vg_cbor_read_bool(vg_cbor_reader *r, bool *v);
/* *s points into the buffer, not NUL-terminated; valid UTF-8. */
int vg_cbor_read_text(vg_cbor_reader *r, const char **s, size_t *len);
int vg_cbor_read_bytes(vg_cbor_reader *r, const uint8_t **p, size_t *len);
int vg_cbor_read_array(vg_cbor_reader *r, uint64_t *n);
int vg_cbor_read_map(vg_cbor_reader *r, uint64_t *n);
int vg_cbor_read_tag(vg_cbor_reader *r, uint64_t *tag);

/* Skips one complete item, nested items included, without recursion.
 * VG_ETOOBIG when it nests deeper than `max_depth` (at most
 * VG_CBOR_MAX_DEPTH) containers/tags. */
int vg_cbor_skip(vg_cbor_reader *r, int max_depth);

/* True when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF). */
bool vg_cbor_utf8_valid(const uint8_t *s, size_t len);

/* ---- writer ---- */

/* Points *w at buf[0..cap).  buf may be NULL only when cap is 0. */
void vg_cbor_writer_init(vg_cbor_writer *w, uint8_t *buf, size_t cap);

/* Each put appends one item head (plus content for strings) and returns
 * w->err: VG_OK, or VG_ENOSPC once anything did not fit. */
int vg_cbor_put_uint(vg_cbor_writer *w, uint64_t v);
int vg_cbor_put_int(vg_cbor_writer *w, int64_t v);
/* Always a float64 (9 bytes), bit-exact, NaN payloads included. */
int vg_cbor_put_float(vg_cbor_writer *w, double v);
int vg_cbor_put_bool(vg_cbor_writer *w, bool v);
int vg_cbor_put_text(vg_cbor_writer *w, const char *s, size_t len);
int vg_cbor_put_bytes(vg_cbor_writer *w, const uint8_t *p, size_t len);
int vg_cbor_put_array(vg_cbor_writer *w, size_t n);
int vg_cbor_put_map(vg_cbor_writer *w, size_t n);
int vg_cbor_put_tag(vg_cbor_writer *w, uint64_t tag);

/* Writes only the head of a byte string of `len` bytes; the caller places
 * the content (used to frame bytes that are already in the buffer). */
int vg_cbor_put_bytes_head(vg_cbor_writer *w, size_t len);

/* Writes a byte string head for `len` bytes and returns a pointer to the
 * `len` content bytes for the caller to fill (NULL and VG_ENOSPC if they do
 * not fit).  The pointer is into the writer's buffer. */
uint8_t *vg_cbor_put_bytes_open(vg_cbor_writer *w, size_t len);

/* VG_OK and *len = bytes written, or the sticky error. */
int vg_cbor_writer_finish(const vg_cbor_writer *w, size_t *len);

#endif
