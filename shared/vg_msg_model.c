/*
 * vg_msg_model.c - the model payload signed inside a bundle (vg_bundle.h):
 * two field tables, one for the model and one for each channel's
 * parameters, which nest as an array of maps.
 *
 *   { 0: 1, 1: device, 2: version, 3: created, 4: train_from, 5: train_to,
 *     6: [* { 0: name, ? 1: lo, ? 2: hi, ? 3: loc, ? 4: scale, ? 5: z_thr,
 *             ? 6: ewma_lambda, ? 7: ewma_l, ? 8: cusum_k, ? 9: cusum_h,
 *             ? 10: rate_max, ? 11: stuck_eps, ? 12: stuck_n,
 *             ? 13: stale_s }],
 *     ? 7: { 0: [* name], 1: k, 2: [p * loc], 3: [p * scale], 4: [k * eig],
 *            5: [p*k * load], 6: lambda, 7: t2_mean, 8: q_mean, 9: t2_lim,
 *            10: q_lim, 11: drift } }
 *
 * Key 7 is the optional multivariate part (vg_mvar_model, vg_mvar.h),
 * written only when it has channels (p > 0).  Its arrays' lengths follow
 * from the names (p) and k, so keys 0 and 1 must come before them (as the
 * encoder writes them; else VG_EDECODE); a wrong length is VG_EDECODE, a
 * non-finite value VG_ENAN, a part that vg_mvar_check() refuses VG_EDECODE
 * (and VG_EINVAL on encode).
 *
 * A parameter that is NaN ("unset, use the default") is omitted; on decode
 * an absent parameter is NaN (vg_chan_model_clear()).  A parameter that is
 * present must be finite (VG_ENAN).  Channel names are unique in a model.
 *
 * Cost: O(channels^2) name comparisons (at most 64^2/2 + 16^2/2) plus the
 * bytes (at most about 11 KiB, plus 3 KiB for the multivariate part).
 */
#include <math.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "vg_msg_table.h"
#include "vg_mvar.h"

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

/* Writes channel i of the vg_model at obj; its name must be new. */
static int model__put_chan(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const vg_model *m = obj;
    if (model__dup(m, i))
        return VG_EINVAL;
    return vg_msg__put_map(w, &model__chan_schema, &m->chan[i]);
}

/* Reads channel i (unset parameters NaN) into the vg_model at obj; its
 * name must be new. */
static int model__get_chan(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_model *m = obj;
    vg_chan_model_clear(&m->chan[i], NULL);
    int rc = vg_msg__get_map(r, &model__chan_schema, &m->chan[i]);
    if (rc == VG_OK && model__dup(m, i))
        rc = VG_EDECODE;
    return rc;
}

static const vg_msg_list model__chans = {
    .map = 0, .max = VG_MODEL_MAX_CHANNEL, .put = model__put_chan, .get = model__get_chan};

/* Writes the channel array of the vg_model at obj. */
static int model__put_chans(vg_cbor_writer *w, const void *obj)
{
    const vg_model *m = obj;
    return vg_msg__put_list(w, &model__chans, m->chan, m->nchan, obj);
}

/* Reads the channel array into the vg_model at obj. */
static int model__get_chans(vg_cbor_reader *r, void *obj)
{
    vg_model *m = obj;
    return vg_msg__get_list(r, &model__chans, UINT64_MAX, obj, &m->nchan);
}

/* ---- the multivariate part ---- */

/* Writes channel name i of the vg_mvar_model at obj. */
static int mvar__put_name(vg_cbor_writer *w, const void *obj, uint32_t i)
{
    const vg_mvar_model *m = obj;
    return vg_cbor_put_text(w, m->name[i], strlen(m->name[i]));
}

/* Reads channel name i into the vg_mvar_model at obj. */
static int mvar__get_name(vg_cbor_reader *r, void *obj, uint32_t i)
{
    vg_mvar_model *m = obj;
    const char *s;
    size_t len;
    int rc = vg_cbor_read_text(r, &s, &len);
    if (rc == VG_OK && !vg_valid_channel(s, len))
        rc = VG_EDECODE;
    if (rc == VG_OK) {
        memcpy(m->name[i], s, len);
        m->name[i][len] = '\0';
    }
    return rc;
}

static const vg_msg_list mvar__names = {
    .map = 0, .max = VG_MVAR_MAX, .put = mvar__put_name, .get = mvar__get_name};

/* Writes the channel names of the vg_mvar_model at obj (vg_mvar_check()
 * has bounded p). */
static int mvar__put_names(vg_cbor_writer *w, const void *obj)
{
    const vg_mvar_model *m = obj;
    return vg_msg__put_list(w, &mvar__names, m->name, m->p, obj);
}

/* Reads the channel names (and so p, at least 1) into the vg_mvar_model
 * at obj. */
static int mvar__get_names(vg_cbor_reader *r, void *obj)
{
    vg_mvar_model *m = obj;
    int rc = vg_msg__get_list(r, &mvar__names, UINT64_MAX, obj, &m->p);
    if (rc == VG_OK && m->p == 0)
        rc = VG_EDECODE;
    return rc;
}

static int mvar__put_k(vg_cbor_writer *w, const void *obj)
{
    return vg_cbor_put_uint(w, ((const vg_mvar_model *)obj)->k);
}

/* Reads k: 1..p, after the names. */
static int mvar__get_k(vg_cbor_reader *r, void *obj)
{
    vg_mvar_model *m = obj;
    uint64_t k;
    int rc = vg_cbor_read_uint(r, &k);
    if (rc == VG_OK && (m->p == 0 || k < 1 || k > m->p))
        rc = VG_EDECODE;
    if (rc == VG_OK)
        m->k = (uint32_t)k;
    return rc;
}

/* Writes v[0..n) as an array of floats. */
static int mvar__put_vec(vg_cbor_writer *w, const double *v, uint32_t n)
{
    int rc = vg_cbor_put_array(w, n);
    for (uint32_t i = 0; i < n && rc == VG_OK; i++)
        rc = isfinite(v[i]) ? vg_cbor_put_float(w, v[i]) : VG_ENAN;
    return rc;
}

/* Reads an array of exactly `want` (> 0) finite floats into v. */
static int mvar__get_vec(vg_cbor_reader *r, double *v, uint32_t want)
{
    int rc = vg_msg__get_tuple(r, want);
    if (rc == VG_OK && want == 0)
        rc = VG_EDECODE;
    for (uint32_t i = 0; i < want && rc == VG_OK; i++) {
        rc = vg_cbor_read_float(r, &v[i]);
        if (rc == VG_OK && !isfinite(v[i]))
            rc = VG_ENAN;
    }
    return rc;
}

/* One vector member: its offset and its length in terms of p and k. */
#define MVAR__VEC(nm, lenexpr)                                                                     \
    static int mvar__put_##nm(vg_cbor_writer *w, const void *obj)                                  \
    {                                                                                              \
        const vg_mvar_model *m = obj;                                                              \
        return mvar__put_vec(w, m->nm, lenexpr);                                                   \
    }                                                                                              \
    static int mvar__get_##nm(vg_cbor_reader *r, void *obj)                                        \
    {                                                                                              \
        vg_mvar_model *m = obj;                                                                    \
        return mvar__get_vec(r, m->nm, lenexpr);                                                   \
    }
MVAR__VEC(loc, m->p)
MVAR__VEC(scale, m->p)
MVAR__VEC(eig, m->k)
MVAR__VEC(load, m->p * m->k)

#define MVAR__PARAM(k, m) VG_MSG_ROW(k, VG_MSG_PARAM, 1, vg_mvar_model, m, #m)

static const vg_msg_field mvar__rows[] = {
    VG_MSG_CUSTOM_ROW(0, 1, "names", mvar__put_names, mvar__get_names),
    VG_MSG_CUSTOM_ROW(1, 1, "k", mvar__put_k, mvar__get_k),
    VG_MSG_CUSTOM_ROW(2, 1, "loc", mvar__put_loc, mvar__get_loc),
    VG_MSG_CUSTOM_ROW(3, 1, "scale", mvar__put_scale, mvar__get_scale),
    VG_MSG_CUSTOM_ROW(4, 1, "eig", mvar__put_eig, mvar__get_eig),
    VG_MSG_CUSTOM_ROW(5, 1, "load", mvar__put_load, mvar__get_load),
    MVAR__PARAM(6, lambda),
    MVAR__PARAM(7, t2_mean),
    MVAR__PARAM(8, q_mean),
    MVAR__PARAM(9, t2_lim),
    MVAR__PARAM(10, q_lim),
    MVAR__PARAM(11, drift),
};

static const vg_msg_schema mvar__schema = VG_MSG_SCHEMA("model.mvar", mvar__rows);

/* Writes the multivariate part of the vg_model at obj. */
static int model__put_mvar(vg_cbor_writer *w, const void *obj)
{
    const vg_model *m = obj;
    if (vg_mvar_check(&m->mvar) != VG_OK)
        return VG_EINVAL;
    return vg_msg__put_map(w, &mvar__schema, &m->mvar);
}

/* Reads the multivariate part into the vg_model at obj. */
static int model__get_mvar(vg_cbor_reader *r, void *obj)
{
    vg_model *m = obj;
    memset(&m->mvar, 0, sizeof m->mvar);
    int rc = vg_msg__get_map(r, &mvar__schema, &m->mvar);
    if (rc == VG_OK && vg_mvar_check(&m->mvar) != VG_OK)
        rc = VG_EDECODE;
    return rc;
}

/* ---- the model ---- */

/* The model's rows; model__plain is the same without the multivariate
 * part (key 7), for encoding a model that has none. */
#define MODEL__COMMON_ROWS                                                                         \
    VG_MSG_VERSION_ROW, VG_MSG_ROW(1, VG_MSG_DEVICE, 1, vg_model, device, "device"),               \
        VG_MSG_ROW(2, VG_MSG_UINT, 1, vg_model, version, "version"),                               \
        VG_MSG_ROW(3, VG_MSG_INT, 1, vg_model, created_us, "created"),                             \
        VG_MSG_ROW(4, VG_MSG_INT, 1, vg_model, train_from_us, "train_from"),                       \
        VG_MSG_ROW(5, VG_MSG_INT, 1, vg_model, train_to_us, "train_to"),                           \
        VG_MSG_CUSTOM_ROW(6, 1, "channels", model__put_chans, model__get_chans)

static const vg_msg_field model__plain_rows[] = {MODEL__COMMON_ROWS};
static const vg_msg_schema model__plain = VG_MSG_SCHEMA("model", model__plain_rows);

static const vg_msg_field model__rows[] = {
    MODEL__COMMON_ROWS,
    VG_MSG_CUSTOM_ROW(7, 0, "mvar", model__put_mvar, model__get_mvar),
};

static const vg_msg_schema model__schema = VG_MSG_SCHEMA("model", model__rows);

/* Contract in vg_msg.h; *m is only read. */
int vg_model_encode(const vg_model *m, uint8_t *buf, size_t cap, size_t *len)
{
    if (!m)
        return VG_EINVAL;
    return vg_msg__encode(m->mvar.p ? &model__schema : &model__plain, m, buf, cap, len);
}

/* Contract in vg_msg.h; *out is cleared first (unused channels are zero),
 * unspecified on error. */
int vg_model_decode(const uint8_t *buf, size_t len, vg_model *out)
{
    return vg_msg__decode_clear(&model__schema, buf, len, out, sizeof *out);
}
