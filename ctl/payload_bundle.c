/*
 * payload_bundle.c - an unverified look inside a COSE_Sign1 model bundle
 * (ctl_bundle_peek) and a model's JSON members (ctl_model_json); contracts
 * in payload.h.  Verifying the signature needs a trust key and is
 * bundle.c's job; here the structure is parsed with the strict CBOR
 * reader and the payload decoded with vg_model_decode.
 * Cost: O(bundle) to peek, O(channels) to render.
 */
#include <math.h>
#include <string.h>

#include "payload.h"
#include "vg_bundle.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

/* Reads the protected header {1: alg} from its bstr. */
static int bundle__protected(const uint8_t *p, size_t n, int64_t *alg)
{
    vg_cbor_reader r;
    uint64_t pairs, key;
    vg_cbor_reader_init(&r, p, n);
    int rc = vg_cbor_read_map(&r, &pairs);
    for (uint64_t i = 0; rc == VG_OK && i < pairs; i++) {
        rc = vg_cbor_read_uint(&r, &key);
        if (rc == VG_OK && key == 1)
            rc = vg_cbor_read_int(&r, alg);
        else if (rc == VG_OK)
            rc = vg_cbor_skip(&r, 4);
    }
    return rc;
}

/* Reads the unprotected header map, keeping the kid (label 4). */
static int bundle__unprotected(vg_cbor_reader *r, ctl_bundle_info *info)
{
    uint64_t pairs, key;
    int rc = vg_cbor_read_map(r, &pairs);
    for (uint64_t i = 0; rc == VG_OK && i < pairs; i++) {
        const uint8_t *kid;
        size_t n;
        rc = vg_cbor_read_uint(r, &key);
        if (rc == VG_OK && key == 4 && (rc = vg_cbor_read_bytes(r, &kid, &n)) == VG_OK) {
            info->kid_len = n < sizeof info->kid ? n : sizeof info->kid;
            memcpy(info->kid, kid, info->kid_len);
        } else if (rc == VG_OK) {
            rc = vg_cbor_skip(r, 4);
        }
    }
    return rc;
}

int ctl_bundle_peek(const uint8_t *buf, size_t len, ctl_bundle_info *info, vg_model *m)
{
    vg_cbor_reader r;
    uint64_t tag, n;
    const uint8_t *prot, *payload, *sig;
    size_t prot_len, payload_len;
    memset(info, 0, sizeof *info);
    if (len > VG_BUNDLE_MAX_BYTES)
        return VG_ETOOBIG;
    vg_cbor_reader_init(&r, buf, len);
    int rc = vg_cbor_read_tag(&r, &tag);
    if (rc == VG_OK && tag != 18)
        rc = VG_EDECODE;
    if (rc == VG_OK && (rc = vg_cbor_read_array(&r, &n)) == VG_OK && n != 4)
        rc = VG_EDECODE;
    if (rc == VG_OK && (rc = vg_cbor_read_bytes(&r, &prot, &prot_len)) == VG_OK)
        rc = bundle__protected(prot, prot_len, &info->alg);
    if (rc == VG_OK)
        rc = bundle__unprotected(&r, info);
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(&r, &payload, &payload_len);
    if (rc == VG_OK)
        rc = vg_cbor_read_bytes(&r, &sig, &info->sig_len);
    if (rc == VG_OK && vg_cbor_remaining(&r))
        rc = VG_EDECODE;
    return rc == VG_OK ? vg_model_decode(payload, payload_len, m) : rc;
}

/* A threshold member, omitted when unset (NaN). */
static void model__thr(ctl_json *j, const char *name, double v)
{
    if (isnan(v))
        return;
    ctl_json_knum(j, name, v);
}

void ctl_model_json(const vg_model *m, ctl_json *j)
{
    ctl_json_kstr(j, "device", m->device);
    ctl_json_kuint(j, "version", m->version);
    ctl_json_kint(j, "created_us", m->created_us);
    ctl_json_kint(j, "train_from_us", m->train_from_us);
    ctl_json_kint(j, "train_to_us", m->train_to_us);
    ctl_json_key(j, "channels");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < m->nchan; i++) {
        const vg_chan_model *c = &m->chan[i];
        ctl_json_obj(j);
        ctl_json_kstr(j, "name", c->name);
        model__thr(j, "lo", c->lo);
        model__thr(j, "hi", c->hi);
        model__thr(j, "loc", c->loc);
        model__thr(j, "scale", c->scale);
        model__thr(j, "z_thr", c->z_thr);
        model__thr(j, "ewma_lambda", c->ewma_lambda);
        model__thr(j, "ewma_l", c->ewma_l);
        model__thr(j, "cusum_k", c->cusum_k);
        model__thr(j, "cusum_h", c->cusum_h);
        model__thr(j, "rate_max", c->rate_max);
        model__thr(j, "stuck_eps", c->stuck_eps);
        model__thr(j, "stuck_n", c->stuck_n);
        model__thr(j, "stale_s", c->stale_s);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
}
