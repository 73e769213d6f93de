/*
 * vg_msg_model.c - the model payload signed inside a bundle (vg_bundle.h):
 * two field tables, one for the model and one for each channel's
 * parameters, which nest as an array of maps.
 *
 *   { 0: 1, 1: device, 2: version, 3: created, 4: train_from, 5: train_to,
 *     6: [* { 0: name, ? 1: lo, ? 2: hi, ? 3: loc, ? 4: scale, ? 5: z_thr,
 *             ? 6: ewma_lambda, ? 7: ewma_l, ? 8: cusum_k, ? 9: cusum_h,
 *             ? 10: rate_max, ? 11: stuck_eps, ? 12: stuck_n,
 *             ? 13: stale_s }] }
 *
 * A parameter that is NaN ("unset, use the default") is omitted; on decode
 * an absent parameter is NaN (vg_chan_model_clear()).  A parameter that is
 * present must be finite (VG_ENAN).  Channel names are unique in a model.
 *
 * Cost: O(channels^2) name comparisons (at most 64^2/2) plus the bytes
 * (at most about 11 KiB).
 */
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"

#define MODEL__PARAM(k, m) VG_MSG_ROW(k, VG_MSG_PARAM, 0, vg_chan_model, m, #m)

static const vg_msg_field model__chan_rows[] = {
    VG_MSG_ROW(0, VG_MSG_CHANNEL, 1, vg_chan_model, name, "name"),
    MODEL__PARAM(1, lo),
    MODEL__PARAM(2, hi),
    MODEL__PARAM(3, loc),
    MODEL__PARAM(4, scale),
    MODEL__PARAM(5, z_thr),
    MODEL__PARAM(6, ewma_lambda),
    MODEL__PARAM(7, ewma_l),
    MODEL__PARAM(8, cusum_k),
    MODEL__PARAM(9, cusum_h),
    MODEL__PARAM(10, rate_max),
    MODEL__PARAM(11, stuck_eps),
    MODEL__PARAM(12, stuck_n),
    MODEL__PARAM(13, stale_s),
};

static const vg_msg_schema model__chan_schema = VG_MSG_SCHEMA("model.channel", model__chan_rows);

/* True when channel i's name equals one of channels 0..i-1. */
static bool model__dup(const vg_model *m, uint32_t i)
{
    for (uint32_t k = 0; k < i; k++)
        if (strncmp(m->chan[k].name, m->chan[i].name, sizeof m->chan[i].name) == 0)
            return true;
    return false;
}

/* Writes the channel array of the vg_model at obj. */
static int model__put_chans(vg_cbor_writer *w, const void *obj)
{
    const vg_model *m = obj;
    if (m->nchan > VG_MODEL_MAX_CHANNEL)
        return VG_ETOOBIG;
    int rc = vg_cbor_put_array(w, m->nchan);
    for (uint32_t i = 0; i < m->nchan && rc == VG_OK; i++) {
        if (model__dup(m, i))
            return VG_EINVAL;
        rc = vg_msg__put_map(w, &model__chan_schema, &m->chan[i]);
    }
    return rc;
}

/* Reads the channel array into the vg_model at obj. */
static int model__get_chans(vg_cbor_reader *r, void *obj)
{
    vg_model *m = obj;
    uint64_t n;
    int rc = vg_cbor_read_array(r, &n);
    if (rc == VG_OK && n > VG_MODEL_MAX_CHANNEL)
        rc = VG_ETOOBIG;
    for (uint32_t i = 0; i < n && rc == VG_OK; i++) {
        vg_chan_model_clear(&m->chan[i], NULL);
        rc = vg_msg__get_map(r, &model__chan_schema, &m->chan[i]);
        if (rc == VG_OK && model__dup(m, i))
            rc = VG_EDECODE;
    }
    if (rc == VG_OK)
        m->nchan = (uint32_t)n;
    return rc;
}

static const vg_msg_field model__rows[] = {
    VG_MSG_VERSION_ROW,
    VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_model, device, "device"),
    VG_MSG_ROW(2, VG_MSG_UINT, 1, vg_model, version, "version"),
    VG_MSG_ROW(3, VG_MSG_INT, 1, vg_model, created_us, "created"),
    VG_MSG_ROW(4, VG_MSG_INT, 1, vg_model, train_from_us, "train_from"),
    VG_MSG_ROW(5, VG_MSG_INT, 1, vg_model, train_to_us, "train_to"),
    VG_MSG_CUSTOM_ROW(6, 1, "channels", model__put_chans, model__get_chans),
};

static const vg_msg_schema model__schema = VG_MSG_SCHEMA("model", model__rows);

/* Contract in vg_msg.h; *m is only read. */
int vg_model_encode(const vg_model *m, uint8_t *buf, size_t cap, size_t *len)
{
    return vg_msg__encode(&model__schema, m, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first (unused channels are zero),
 * unspecified on error. */
int vg_model_decode(const uint8_t *buf, size_t len, vg_model *out)
{
    if (!out)
        return VG_EINVAL;
    memset(out, 0, sizeof(*out));
    return vg_msg__decode(&model__schema, buf, len, out);
}
