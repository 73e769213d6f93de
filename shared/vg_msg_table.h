/*
 * vg_msg_table.h - internal to the message codecs (vg_msg*.c): the
 * declarative field tables and the one generic map codec that they drive.
 *
 * Every payload is a CBOR map with small unsigned-integer keys.  A message
 * is described once by a static table of vg_msg_field rows, sorted by key:
 * wire key, wire type, whether it is required, where it lives in the C
 * struct (offsetof) and its CDDL name.  vg_msg__put_map() walks the table
 * to encode, vg_msg__get_map() walks the map and looks each key up in the
 * table to decode.  Scalars (integers, flags, identifiers, text, reals) are
 * handled by the engine; arrays and nested maps by per-message callbacks
 * (VG_MSG_CUSTOM rows), which leave the array head, its limit and the
 * loop to the list helpers (vg_msg_list) and write only one element.
 * Adding a field is adding a row.
 *
 * Rules the engine enforces for every table:
 *   - a table whose first row is VG_MSG_VERSION is a top-level message: its
 *     map must be non-empty and its first key must be 0 with the value
 *     VG_SCHEMA_VERSION, else VG_ESCHEMA (checked before any other key, so
 *     a message of another schema is always reported as such);
 *   - keys are unsigned integers found in the table (else VG_EDECODE), each
 *     at most once (else VG_EDECODE); required rows must be present (else
 *     VG_EMISSING); optional rows are omitted on encode when "empty" (NaN
 *     for VG_MSG_PARAM, "" for VG_MSG_TEXT);
 *   - encoders apply the same value rules as decoders (VG_EINVAL / VG_ENAN),
 *     so everything a decoder accepts re-encodes, and vice versa.
 *
 * Cost: O(fields x table rows) key look-ups (rows <= 16) plus the cost of
 * the values; no allocation.
 */
#ifndef VG_MSG_TABLE_H
#define VG_MSG_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "vg_cbor.h"

/* Wire/struct type of a field. */
enum vg_msg_ftype {
    VG_MSG_VERSION,  /* key 0: uint == VG_SCHEMA_VERSION; no storage */
    VG_MSG_UINT,     /* uint64_t <-> uint */
    VG_MSG_INT,      /* int64_t <-> int (uint or nint fitting int64) */
    VG_MSG_BOOL,     /* uint8_t 0/1 <-> false/true */
    VG_MSG_DETECTOR, /* uint8_t enum vg_detector <-> its name (tstr) */
    VG_MSG_DEVICE,   /* char[VG_DEVICE_MAX + 1] <-> tstr, vg_valid_device() */
    VG_MSG_CHANNEL,  /* char[VG_CHANNEL_MAX + 1] <-> tstr, vg_valid_channel() */
    VG_MSG_TEXT,     /* char[size] <-> tstr: UTF-8, no NUL, < size bytes */
    VG_MSG_SCORE,    /* double <-> float, finite and in [0, 1] */
    VG_MSG_REAL,     /* double <-> float, any value (NaN and Inf too) */
    VG_MSG_PARAM,    /* double <-> float, finite; NaN in the struct = absent */
    VG_MSG_CUSTOM    /* enc/dec callbacks below */
};

/* One row of a message table. */
typedef struct vg_msg_field {
    uint8_t key;      /* map key on the wire */
    uint8_t type;     /* enum vg_msg_ftype */
    uint8_t required; /* 1: absent on decode is VG_EMISSING */
    uint16_t size;    /* sizeof the struct member (text capacity) */
    size_t off;       /* offsetof the member in the message struct */
    const char *name; /* the key's name in docs/schema.cddl */
    /* VG_MSG_CUSTOM only: write / read the value (not the key) of obj. */
    int (*enc)(vg_cbor_writer *w, const void *obj);
    int (*dec)(vg_cbor_reader *r, void *obj);
} vg_msg_field;

/* A message: its rows, sorted by key. */
typedef struct vg_msg_schema {
    const char *name;          /* "alert", "model.channel", ... */
    const vg_msg_field *field; /* rows */
    uint32_t nfield;           /* number of rows, <= 32 */
} vg_msg_schema;

/* Table row for scalar member `m` of struct `st`. */
#define VG_MSG_ROW(k, t, req, st, m, nm)                                                           \
    {                                                                                              \
        .key = (k), .type = (t), .required = (req), .size = sizeof(((st *)0)->m),                  \
        .off = offsetof(st, m), .name = (nm), .enc = NULL, .dec = NULL                             \
    }
/* Table row whose value is written and read by callbacks. */
#define VG_MSG_CUSTOM_ROW(k, req, nm, e, d)                                                        \
    {                                                                                              \
        .key = (k), .type = VG_MSG_CUSTOM, .required = (req), .size = 0, .off = 0, .name = (nm),   \
        .enc = (e), .dec = (d)                                                                     \
    }
/* The schema version row every top-level table starts with. */
#define VG_MSG_VERSION_ROW                                                                         \
    {                                                                                              \
        .key = 0, .type = VG_MSG_VERSION, .required = 1, .size = 0, .off = 0, .name = "v",         \
        .enc = NULL, .dec = NULL                                                                   \
    }
#define VG_MSG_SCHEMA(nm, rows)                                                                    \
    {                                                                                              \
        .name = (nm), .field = (rows), .nfield = sizeof(rows) / sizeof((rows)[0])                  \
    }

/* An array (or map) member of a message, element by element: the list
 * helpers below do the head, the limit and the loop, the element callbacks
 * only element i of the message at obj. */
typedef struct vg_msg_list {
    uint8_t map;  /* 1: a map, one pair an element; 0: an array */
    uint64_t max; /* more elements is VG_ETOOBIG (UINT64_MAX: no limit
                     but the caller's capacity) */
    /* Write / read element i of obj (put: key and value for a map). */
    int (*put)(vg_cbor_writer *w, const void *obj, uint32_t i);
    int (*get)(vg_cbor_reader *r, void *obj, uint32_t i);
} vg_msg_list;

/* Writes n elements of obj's list l: VG_ETOOBIG past l->max, then
 * VG_EINVAL when the caller's element array `items` is NULL and n > 0
 * (items is only checked; l->put reads obj), then the head and each
 * element, stopping at the first error.  Returns that error or VG_OK. */
int vg_msg__put_list(vg_cbor_writer *w, const vg_msg_list *l, const void *items, uint64_t n,
                     const void *obj);

/* Reads a list head: VG_ETOOBIG past l->max, then VG_ENOSPC past `cap` (the
 * caller's storage; UINT64_MAX when l->max bounds it), then each element
 * with l->get, stopping at the first error.  *count gets the number of
 * elements on VG_OK only.  l->max or cap must be at most UINT32_MAX. */
int vg_msg__get_list(vg_cbor_reader *r, const vg_msg_list *l, uint64_t cap, void *obj,
                     uint32_t *count);

/* Reads an array head that must hold exactly `want` items (a tuple such as
 * [t, value]): VG_EDECODE otherwise, or the reader's error. */
int vg_msg__get_tuple(vg_cbor_reader *r, uint64_t want);

/* Encodes obj as the map described by s, at the writer's position.
 * VG_EINVAL / VG_ENAN for values outside the rules, or the writer's error. */
int vg_msg__put_map(vg_cbor_writer *w, const vg_msg_schema *s, const void *obj);

/* Decodes one map described by s into obj (whose optional members the
 * caller has set to their defaults first).  Codes as in the file comment. */
int vg_msg__get_map(vg_cbor_reader *r, const vg_msg_schema *s, void *obj);

/* A whole payload: the map and nothing else, at most VG_MSG_MAX_BYTES.
 * Encode: VG_ENOSPC when cap is short, VG_ETOOBIG past the limit. */
int vg_msg__encode(const vg_msg_schema *s, const void *obj, uint8_t *buf, size_t cap, size_t *len);
/* Decode: VG_EINVAL on NULL arguments, VG_ETOOBIG past the limit, VG_EDECODE
 * on trailing bytes, else as vg_msg__get_map(). */
int vg_msg__decode(const vg_msg_schema *s, const uint8_t *buf, size_t len, void *obj);
/* vg_msg__decode() into a zeroed *out of `size` bytes (the flat messages,
 * whose struct holds everything): VG_EINVAL when out is NULL. */
int vg_msg__decode_clear(const vg_msg_schema *s, const uint8_t *buf, size_t len, void *out,
                         size_t size);

#endif
