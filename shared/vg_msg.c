/*
 * vg_msg.c - the generic table-driven map codec behind every message
 * (see vg_msg_table.h for the rules it enforces).  The messages themselves
 * live one per file: vg_msg_samples.c, vg_msg_alert.c, vg_msg_shutdown.c,
 * vg_msg_reset.c, vg_msg_status.c, vg_msg_archive.c, vg_msg_model_ack.c,
 * vg_msg_model.c; each is a field table plus callbacks for its arrays.
 *
 * Encoding walks the table twice: once to count the fields present (the map
 * head needs the count), once to write key and value of each.  Decoding
 * reads the map head, the schema version first when the table has one, then
 * every pair, looking the key up in the table; a bit per row catches
 * duplicates and, at the end, missing required fields.
 *
 * The list helpers (vg_msg__put_list / vg_msg__get_list) are the one loop
 * behind every array member: head, limit, caller capacity, element
 * callback, count; vg_msg__get_tuple reads the head of a fixed-size tuple.
 *
 * Cost: O(pairs x rows) look-ups over tables of <= 16 rows, plus the values;
 * a list is O(elements) callback calls.
 */
#include <math.h>
#include <string.h>

#include "vg_error.h"
#include "vg_model.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

/* Address of row f's member inside obj. */
static void *msg__at(void *obj, const vg_msg_field *f)
{
    return (char *)obj + f->off;
}

/* Const twin of msg__at(). */
static const void *msg__cat(const void *obj, const vg_msg_field *f)
{
    return (const char *)obj + f->off;
}

/* True when row f of obj goes on the wire (optional rows may be empty). */
static bool msg__present(const vg_msg_field *f, const void *obj)
{
    if (f->required)
        return true;
    if (f->type == VG_MSG_PARAM)
        return !isnan(*(const double *)msg__cat(obj, f));
    if (f->type == VG_MSG_TEXT)
        return ((const char *)msg__cat(obj, f))[0] != '\0';
    return true;
}

/* ---- encoding ---- */

/* Writes a NUL-terminated string member of capacity `size` as tstr after
 * checking it: terminated, valid UTF-8, and an id/name when so typed. */
static int msg__put_string(vg_cbor_writer *w, const vg_msg_field *f, const char *s)
{
    size_t n = strnlen(s, f->size);
    if (n == f->size)
        return VG_EINVAL;
    if (f->type == VG_MSG_DEVICE && !vg_valid_device(s, n))
        return VG_EINVAL;
    if (f->type == VG_MSG_CHANNEL && !vg_valid_channel(s, n))
        return VG_EINVAL;
    if (!vg_cbor_utf8_valid((const uint8_t *)s, n))
        return VG_EINVAL;
    return vg_cbor_put_text(w, s, n);
}

/* Writes a double member under the rules of its row type. */
static int msg__put_real(vg_cbor_writer *w, const vg_msg_field *f, double v)
{
    if (f->type != VG_MSG_REAL && !isfinite(v))
        return VG_ENAN;
    if (f->type == VG_MSG_SCORE && (v < 0.0 || v > 1.0))
        return VG_EINVAL;
    return vg_cbor_put_float(w, v);
}

/* Writes a uint8_t member that is a flag or a detector id. */
static int msg__put_small(vg_cbor_writer *w, const vg_msg_field *f, uint8_t v)
{
    if (f->type == VG_MSG_BOOL) {
        if (v > 1)
            return VG_EINVAL;
        return vg_cbor_put_bool(w, v != 0);
    }
    const char *name = vg_detector_name(v);
    if (!name)
        return VG_EINVAL;
    return vg_cbor_put_text(w, name, strlen(name));
}

/* Writes the value of row f of obj. */
static int msg__put_value(vg_cbor_writer *w, const vg_msg_field *f, const void *obj)
{
    const void *p = msg__cat(obj, f);
    switch (f->type) {
    case VG_MSG_VERSION:
        return vg_cbor_put_uint(w, VG_SCHEMA_VERSION);
    case VG_MSG_UINT:
        return vg_cbor_put_uint(w, *(const uint64_t *)p);
    case VG_MSG_INT:
        return vg_cbor_put_int(w, *(const int64_t *)p);
    case VG_MSG_BOOL:
    case VG_MSG_DETECTOR:
        return msg__put_small(w, f, *(const uint8_t *)p);
    case VG_MSG_DEVICE:
    case VG_MSG_CHANNEL:
    case VG_MSG_TEXT:
        return msg__put_string(w, f, (const char *)p);
    case VG_MSG_SCORE:
    case VG_MSG_REAL:
    case VG_MSG_PARAM:
        return msg__put_real(w, f, *(const double *)p);
    default:
        return f->enc(w, obj);
    }
}

/* Contract in vg_msg_table.h; obj is only read. */
int vg_msg__put_map(vg_cbor_writer *w, const vg_msg_schema *s, const void *obj)
{
    size_t n = 0;
    for (uint32_t i = 0; i < s->nfield; i++)
        n += msg__present(&s->field[i], obj);
    int rc = vg_cbor_put_map(w, n);
    for (uint32_t i = 0; i < s->nfield && rc == VG_OK; i++) {
        const vg_msg_field *f = &s->field[i];
        if (!msg__present(f, obj))
            continue;
        rc = vg_cbor_put_uint(w, f->key);
        if (rc == VG_OK)
            rc = msg__put_value(w, f, obj);
    }
    return rc;
}

/* Contract in vg_msg_table.h; *len is set only on VG_OK. */
int vg_msg__encode(const vg_msg_schema *s, const void *obj, uint8_t *buf, size_t cap, size_t *len)
{
    if (!obj || !len || (!buf && cap))
        return VG_EINVAL;
    vg_cbor_writer w;
    vg_cbor_writer_init(&w, buf, cap);
    int rc = vg_msg__put_map(&w, s, obj);
    size_t n = 0;
    if (rc == VG_OK)
        rc = vg_cbor_writer_finish(&w, &n);
    if (rc == VG_OK && n > VG_MSG_MAX_BYTES)
        rc = VG_ETOOBIG;
    if (rc == VG_OK)
        *len = n;
    return rc;
}

/* ---- decoding ---- */

/* Copies text s[0..n) into dst[cap] after checking it has no NUL and fits. */
static int msg__copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        return VG_ETOOBIG;
    if (memchr(s, '\0', n))
        return VG_EDECODE;
    memcpy(dst, s, n);
    dst[n] = '\0';
    return VG_OK;
}

/* Reads a tstr into a string member under the rules of its row type. */
static int msg__get_string(vg_cbor_reader *r, const vg_msg_field *f, char *dst)
{
    const char *s;
    size_t n;
    int rc = vg_cbor_read_text(r, &s, &n);
    if (rc != VG_OK)
        return rc;
    if (f->type == VG_MSG_DEVICE && !vg_valid_device(s, n))
        return VG_EDECODE;
    if (f->type == VG_MSG_CHANNEL && !vg_valid_channel(s, n))
        return VG_EDECODE;
    return msg__copy_text(dst, f->size, s, n);
}

/* Reads a detector name into a uint8_t member. */
static int msg__get_detector(vg_cbor_reader *r, uint8_t *dst)
{
    const char *s;
    size_t n;
    int rc = vg_cbor_read_text(r, &s, &n);
    if (rc != VG_OK)
        return rc;
    int d = vg_detector_from_name(s, n);
    if (d == VG_DET_NONE && !(n == 4 && memcmp(s, "none", 4) == 0))
        return VG_EDECODE;
    *dst = (uint8_t)d;
    return VG_OK;
}

/* Reads a float into a double member under the rules of its row type. */
static int msg__get_real(vg_cbor_reader *r, const vg_msg_field *f, double *dst)
{
    double v;
    int rc = vg_cbor_read_float(r, &v);
    if (rc != VG_OK)
        return rc;
    if (f->type != VG_MSG_REAL && !isfinite(v))
        return VG_ENAN;
    if (f->type == VG_MSG_SCORE && (v < 0.0 || v > 1.0))
        return VG_EDECODE;
    *dst = v;
    return VG_OK;
}

/* Reads a bool into a uint8_t member. */
static int msg__get_bool(vg_cbor_reader *r, uint8_t *dst)
{
    bool b;
    int rc = vg_cbor_read_bool(r, &b);
    if (rc == VG_OK)
        *dst = b ? 1 : 0;
    return rc;
}

/* Reads the value of row f into obj. */
static int msg__get_value(vg_cbor_reader *r, const vg_msg_field *f, void *obj)
{
    void *p = msg__at(obj, f);
    switch (f->type) {
    case VG_MSG_UINT:
        return vg_cbor_read_uint(r, (uint64_t *)p);
    case VG_MSG_INT:
        return vg_cbor_read_int(r, (int64_t *)p);
    case VG_MSG_BOOL:
        return msg__get_bool(r, (uint8_t *)p);
    case VG_MSG_DETECTOR:
        return msg__get_detector(r, (uint8_t *)p);
    case VG_MSG_DEVICE:
    case VG_MSG_CHANNEL:
    case VG_MSG_TEXT:
        return msg__get_string(r, f, (char *)p);
    case VG_MSG_SCORE:
    case VG_MSG_REAL:
    case VG_MSG_PARAM:
        return msg__get_real(r, f, (double *)p);
    case VG_MSG_CUSTOM:
        return f->dec(r, obj);
    default:
        return VG_EDECODE; /* a version row anywhere but first */
    }
}

/* Reads the first pair of a top-level map: key 0, VG_SCHEMA_VERSION. */
static int msg__get_version(vg_cbor_reader *r, uint64_t npairs)
{
    vg_cbor_item key, val;
    if (npairs == 0)
        return VG_ESCHEMA;
    int rc = vg_cbor_next(r, &key);
    if (rc != VG_OK)
        return rc;
    if (key.type != VG_CBOR_UINT || key.val != 0)
        return VG_ESCHEMA;
    rc = vg_cbor_next(r, &val);
    if (rc != VG_OK)
        return rc;
    if (val.type != VG_CBOR_UINT)
        return VG_EDECODE;
    return val.val == VG_SCHEMA_VERSION ? VG_OK : VG_ESCHEMA;
}

/* Index of the row with key `key` in s, or -1. */
static int msg__find(const vg_msg_schema *s, uint64_t key)
{
    for (uint32_t i = 0; i < s->nfield; i++)
        if (s->field[i].key == key)
            return (int)i;
    return -1;
}

/* Reads one key and its value; *seen gets the row's bit. */
static int msg__get_pair(vg_cbor_reader *r, const vg_msg_schema *s, void *obj, uint32_t *seen)
{
    uint64_t key;
    int rc = vg_cbor_read_uint(r, &key);
    if (rc != VG_OK)
        return rc;
    int i = msg__find(s, key);
    if (i < 0 || s->field[i].type == VG_MSG_VERSION || (*seen & (1u << i)))
        return VG_EDECODE; /* unknown, version not first, or duplicate */
    *seen |= 1u << i;
    return msg__get_value(r, &s->field[i], obj);
}

/* Contract in vg_msg_table.h; strings and values are copied into obj,
 * custom callbacks may keep pointers into the reader's buffer. */
int vg_msg__get_map(vg_cbor_reader *r, const vg_msg_schema *s, void *obj)
{
    uint64_t n;
    uint32_t seen = 0; /* bit k: row k was present */
    if (s->nfield > 32)
        return VG_EINVAL;
    int rc = vg_cbor_read_map(r, &n);
    if (rc != VG_OK)
        return rc;
    uint64_t i = 0;
    if (s->nfield > 0 && s->field[0].type == VG_MSG_VERSION) {
        rc = msg__get_version(r, n);
        seen = 1;
        i = 1;
    }
    for (; i < n && rc == VG_OK; i++)
        rc = msg__get_pair(r, s, obj, &seen);
    for (uint32_t k = 0; k < s->nfield && rc == VG_OK; k++)
        if (s->field[k].required && !(seen & (1u << k)))
            rc = VG_EMISSING;
    return rc;
}

/* Contract in vg_msg_table.h. */
int vg_msg__decode(const vg_msg_schema *s, const uint8_t *buf, size_t len, void *obj)
{
    if (!buf || !obj)
        return VG_EINVAL;
    if (len > VG_MSG_MAX_BYTES)
        return VG_ETOOBIG;
    vg_cbor_reader r;
    vg_cbor_reader_init(&r, buf, len);
    int rc = vg_msg__get_map(&r, s, obj);
    if (rc == VG_OK && vg_cbor_remaining(&r) != 0)
        rc = VG_EDECODE;
    return rc;
}

/* Contract in vg_msg_table.h. */
int vg_msg__decode_clear(const vg_msg_schema *s, const uint8_t *buf, size_t len, void *out,
                         size_t size)
{
    if (!out)
        return VG_EINVAL;
    memset(out, 0, size);
    return vg_msg__decode(s, buf, len, out);
}

/* ---- lists ---- */

/* Contract in vg_msg_table.h; obj and items are only read. */
int vg_msg__put_list(vg_cbor_writer *w, const vg_msg_list *l, const void *items, uint64_t n,
                     const void *obj)
{
    if (n > l->max)
        return VG_ETOOBIG;
    if (!items && n)
        return VG_EINVAL;
    int rc = l->map ? vg_cbor_put_map(w, n) : vg_cbor_put_array(w, n);
    for (uint64_t i = 0; i < n && rc == VG_OK; i++)
        rc = l->put(w, obj, (uint32_t)i);
    return rc;
}

/* Contract in vg_msg_table.h; elements are written into obj by l->get. */
int vg_msg__get_list(vg_cbor_reader *r, const vg_msg_list *l, uint64_t cap, void *obj,
                     uint32_t *count)
{
    uint64_t n;
    int rc = l->map ? vg_cbor_read_map(r, &n) : vg_cbor_read_array(r, &n);
    if (rc == VG_OK && n > l->max)
        rc = VG_ETOOBIG;
    if (rc == VG_OK && n > cap)
        rc = VG_ENOSPC;
    for (uint64_t i = 0; i < n && rc == VG_OK; i++)
        rc = l->get(r, obj, (uint32_t)i);
    if (rc == VG_OK)
        *count = (uint32_t)n;
    return rc;
}

/* Contract in vg_msg_table.h. */
int vg_msg__get_tuple(vg_cbor_reader *r, uint64_t want)
{
    uint64_t n;
    int rc = vg_cbor_read_array(r, &n);
    if (rc == VG_OK && n != want)
        rc = VG_EDECODE;
    return rc;
}
