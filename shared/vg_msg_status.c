/*
 * vg_msg_status.c - the status payload (vigil/v1/<dev>/status, retained,
 * also the MQTT Last Will): a field table plus a callback pair for the
 * counters.
 *
 *   { 0: 1, 1: device, 2: online, 3: latched, 4: t, 5: model_version,
 *     6: { * counter-name => uint } }
 *
 * Counter names are [A-Za-z0-9_.:-]{1,47} and unique within a status; the
 * map may be empty (an "offline" Last Will carries no counters).
 *
 * Cost: O(counters^2) name comparisons, at most 48^2/2, plus the bytes.
 *
 * Also the samples ack (vigil/v1/<dev>/samples/ack, vigild's committed
 * mark for the device), one flat map described by its field table:
 *
 *   { 0: 1, 1: device, 2: seq, 3: t }
 *
 * Cost: O(1), at most about 110 bytes.
 */
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

/* True when s[0..n) is a valid counter name. */
static bool status__valid_name(const char *s, size_t n)
{
    if (n == 0 || n > VG_COUNTER_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == ':' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* True when counter i's name equals one of counters 0..i-1. */
static bool status__dup(const vg_status *s, uint32_t i)
{
    for (uint32_t k = 0; k < i; k++)
        if (strcmp(s->counter[k].name, s->counter[i].name) == 0)
            return true;
    return false;
}

/* Writes counter i of the vg_status at obj as name => value. */
static int status__put_counter(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const vg_status *s = obj;
    const vg_counter *c = &s->counter[i];
    size_t n = strnlen(c->name, sizeof c->name);
    if (!status__valid_name(c->name, n) || status__dup(s, i))
        return VG_EINVAL;
    vg_cbor_put_text(w, c->name, n);
    return vg_cbor_put_uint(w, c->value);
}

/* Reads counter i (name and value) into the vg_status at obj. */
static int status__get_counter(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_status *s = obj;
    const char *name;
    size_t n;
    int rc = vg_cbor_read_text(r, &name, &n);
    if (rc != VG_OK)
        return rc;
    if (!status__valid_name(name, n))
        return VG_EDECODE;
    memcpy(s->counter[i].name, name, n);
    s->counter[i].name[n] = '\0';
    if (status__dup(s, i))
        return VG_EDECODE;
    return vg_cbor_read_uint(r, &s->counter[i].value);
}

static const vg_msg_list status__counters = {
    .map = 1, .max = VG_STATUS_MAX_COUNTER, .put = status__put_counter, .get = status__get_counter};

/* Writes the counters of the vg_status at obj. */
static int status__put_counters(vg_cbor_writer *w, const void *obj)
{
    const vg_status *s = obj;
    return vg_msg__put_list(w, &status__counters, s->counter, s->ncounter, obj);
}

/* Reads the counters into the vg_status at obj. */
static int status__get_counters(vg_cbor_reader *r, void *obj)
{
    vg_status *s = obj;
    return vg_msg__get_list(r, &status__counters, UINT64_MAX, obj, &s->ncounter);
}

static const vg_msg_field status__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_status, device, "device"),
    VG_MSG_ROW(2, VG_MSG_BOOL, 1, vg_status, online, "online"),
    VG_MSG_ROW(3, VG_MSG_BOOL, 1, vg_status, latched, "latched"),
    VG_MSG_ROW(4, VG_MSG_INT, 1, vg_status, t_us, "t"),
    VG_MSG_ROW(5, VG_MSG_UINT, 1, vg_status, model_version, "model_version"),
    VG_MSG_CUSTOM_ROW(6, 1, "counters", status__put_counters, status__get_counters),
};

static const vg_msg_schema status__schema = VG_MSG_SCHEMA("status", status__rows);

/* Contract in vg_msg.h; *s is only read. */
int vg_status_encode(const vg_status *s, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&status__schema, s, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_status_decode(const uint8_t *buf, size_t len, vg_status *out)
{
    return vg_msg__decode_clear(&status__schema, buf, len, out, sizeof *out);
}

static const vg_msg_field samples_ack__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_samples_ack, device, "device"),
    VG_MSG_ROW(2, VG_MSG_UINT, 1, vg_samples_ack, seq, "seq"),
    VG_MSG_ROW(3, VG_MSG_INT, 1, vg_samples_ack, t_us, "t"),
};

static const vg_msg_schema samples_ack__schema = VG_MSG_SCHEMA("samples-ack", samples_ack__rows);

/* Contract in vg_msg.h; *a is only read. */
int vg_samples_ack_encode(const vg_samples_ack *a, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&samples_ack__schema, a, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_samples_ack_decode(const uint8_t *buf, size_t len, vg_samples_ack *out)
{
    return vg_msg__decode_clear(&samples_ack__schema, buf, len, out, sizeof *out);
}
