/*
 * vg_msg_archive.c - the archive chunk (vigil/v1/<dev>/archive): a field
 * table plus a callback pair for the items.
 *
 *   { 0: 1, 1: device, 2: chunk_seq,
 *     3: [* [kind, seq, model_version, rx, payload: bstr]] }
 *
 * Payloads are carried opaque (the spooled bytes as received or produced)
 * and are not decoded here: the consumer decodes each by its kind.  Decoded
 * items point into the chunk buffer; nothing is copied.
 *
 * Cost: O(items) plus the payload copies on encode.
 */
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

/* Writes item i of the vg_archive at obj. */
static int archive__put_item(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const vg_archive_item *it = &((const vg_archive *)obj)->item[i];
    if (it->kind > VG_ARCH_MODEL || (!it->payload && it->len))
        return VG_EINVAL;
    vg_cbor_put_array(w, 5);
    vg_cbor_put_uint(w, it->kind);
    vg_cbor_put_uint(w, it->seq);
    vg_cbor_put_uint(w, it->model_version);
    vg_cbor_put_int(w, it->rx_us);
    return vg_cbor_put_bytes(w, it->payload, it->len);
}

/* Reads item i into the caller's array of the vg_archive at obj. */
static int archive__get_item(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_archive_item *it = &((vg_archive *)obj)->item[i];
    uint64_t kind;
    int rc = vg_msg__get_tuple(r, 5);
    if (rc == VG_OK)
        rc = vg_cbor_read_uint(r, &kind);
    if (rc == VG_OK && kind > VG_ARCH_MODEL)
        rc = VG_EDECODE;
    if (rc == VG_OK)
        rc = vg_cbor_read_uint(r, &it->seq);
    if (rc == VG_OK)
        rc = vg_cbor_read_uint(r, &it->model_version);
    if (rc == VG_OK)
        rc = vg_cbor_read_int(r, &it->rx_us);
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(r, &it->payload, &it->len);
    it->kind = (uint8_t)(rc == VG_OK ? kind : 0);
    return rc;
}

/* No limit of its own: the caller's item_cap bounds a decoded chunk. */
static const vg_msg_list archive__items = {
    .map = 0, .max = UINT64_MAX, .put = archive__put_item, .get = archive__get_item};

/* Writes the items of the vg_archive at obj. */
static int archive__put_items(vg_cbor_writer *w, const void *obj)
{
    const vg_archive *a = obj;
    return vg_msg__put_list(w, &archive__items, a->item, a->nitem, obj);
}

/* Reads the items into the caller's array of the vg_archive at obj. */
static int archive__get_items(vg_cbor_reader *r, void *obj)
{
    vg_archive *a = obj;
    return vg_msg__get_list(r, &archive__items, a->item_cap, obj, &a->nitem);
}

static const vg_msg_field archive__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_archive, device, "device"),
    VG_MSG_ROW(2, VG_MSG_UINT, 1, vg_archive, chunk_seq, "chunk_seq"),
    VG_MSG_CUSTOM_ROW(3, 1, "items", archive__put_items, archive__get_items),
};

static const vg_msg_schema archive__schema = VG_MSG_SCHEMA("archive", archive__rows);

/* Contract in vg_msg.h; *a and its items are only read. */
int vg_archive_encode(const vg_archive *a, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&archive__schema, a, buf, cap, len);
}

/* Contract in vg_msg.h: out->item / out->item_cap are the caller's; items
 * point into buf, which must outlive *out.  More items than item_cap is
 * VG_ENOSPC. */
int vg_archive_decode(const uint8_t *buf, size_t len, vg_archive *out)
{
    if (!out)
        return VG_EINVAL;
    vg_archive_item *item = out->item;
    uint32_t cap = item ? out->item_cap : 0;
    memset(out, 0, sizeof(*out));
    out->item = item;
    out->item_cap = cap;
    return vg_msg__decode(&archive__schema, buf, len, out);
}
