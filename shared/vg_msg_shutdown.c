/*
 * vg_msg_shutdown.c - the shutdown command (vigil/v1/<dev>/cmd/shutdown):
 * a field table plus one callback pair for the triggering samples.
 *
 *   { 0: 1, 1: device, 2: channel, 3: reason, 4: detector, 5: trip_id,
 *     6: t, 7: model_version, 8: [* [t, value]] }
 *
 * The samples are evidence, oldest first, at most VG_SHUTDOWN_MAX_SAMPLES;
 * their values may be NaN or +-Inf (a NaN-reporting sensor can trip), so the
 * command can always be encoded.
 *
 * Cost: O(samples) (at most about 600 bytes).
 */
#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

/* Writes triggering sample i of the vg_shutdown at obj as [t, value]. */
static int shutdown__put_sample(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const vg_trigger *t = &((const vg_shutdown *)obj)->samples[i];
    vg_cbor_put_array(w, 2);
    vg_cbor_put_int(w, t->t_us);
    return vg_cbor_put_float(w, t->value);
}

/* Reads triggering sample i, a [t, value] pair, into the vg_shutdown at obj. */
static int shutdown__get_sample(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_trigger *t = &((vg_shutdown *)obj)->samples[i];
    int rc = vg_msg__get_tuple(r, 2);
    if (rc == VG_OK)
        rc = vg_cbor_read_int(r, &t->t_us);
    if (rc == VG_OK)
        rc = vg_cbor_read_float(r, &t->value);
    return rc;
}

static const vg_msg_list shutdown__samples = {.map = 0,
                                              .max = VG_SHUTDOWN_MAX_SAMPLES,
                                              .put = shutdown__put_sample,
                                              .get = shutdown__get_sample};

/* Writes the triggering samples of the vg_shutdown at obj. */
static int shutdown__put_samples(vg_cbor_writer *w, const void *obj)
{
    const vg_shutdown *s = obj;
    return vg_msg__put_list(w, &shutdown__samples, s->samples, s->nsamples, obj);
}

/* Reads the triggering samples into the vg_shutdown at obj. */
static int shutdown__get_samples(vg_cbor_reader *r, void *obj)
{
    vg_shutdown *s = obj;
    return vg_msg__get_list(r, &shutdown__samples, UINT64_MAX, obj, &s->nsamples);
}

static const vg_msg_field shutdown__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_shutdown, device, "device"),
    VG_MSG_ROW(2, VG_MSG_CHANNEL, 1, vg_shutdown, channel, "channel"),
    VG_MSG_ROW(3, VG_MSG_TEXT, 1, vg_shutdown, reason, "reason"),
    VG_MSG_ROW(4, VG_MSG_DETECTOR, 1, vg_shutdown, detector, "detector"),
    VG_MSG_ROW(5, VG_MSG_UINT, 1, vg_shutdown, trip_id, "trip_id"),
    VG_MSG_ROW(6, VG_MSG_INT, 1, vg_shutdown, t_us, "t"),
    VG_MSG_ROW(7, VG_MSG_UINT, 1, vg_shutdown, model_version, "model_version"),
    VG_MSG_CUSTOM_ROW(8, 1, "samples", shutdown__put_samples, shutdown__get_samples),
};

static const vg_msg_schema shutdown__schema = VG_MSG_SCHEMA("shutdown", shutdown__rows);

/* Contract in vg_msg.h; *s is only read. */
int vg_shutdown_encode(const vg_shutdown *s, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&shutdown__schema, s, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first, unspecified on error. */
int vg_shutdown_decode(const uint8_t *buf, size_t len, vg_shutdown *out)
{
    return vg_msg__decode_clear(&shutdown__schema, buf, len, out, sizeof *out);
}
