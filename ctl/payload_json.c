/*
 * payload_json.c - a decoded payload as JSON members (ctl_payload_json in
 * payload.h): one renderer per kind, selected by switch on the decoded
 * kind; an undecodable payload renders its error and, when it is
 * well-formed CBOR, its diagnostic notation (else a hex prefix).
 * Archive items are decoded and rendered nested, with one scratch kept for
 * the program's life.  Cost: O(output).
 */
#include <stdio.h>

#include "payload.h"
#include "payload_priv.h"
#include "vg_error.h"
#include "vg_msg.h"

static void json__blocks(ctl_json *j, const vg_samples *s)
{
    ctl_json_key(j, "channels");
    ctl_json_arr(j);
    for (uint32_t b = 0; b < s->nblock; b++) {
        const vg_block *blk = &s->block[b];
        ctl_json_obj(j);
        ctl_json_key(j, "name");
        ctl_json_str(j, blk->name, blk->name_len);
        ctl_json_kuint(j, "n", blk->n);
        ctl_json_key(j, "t_us");
        ctl_json_arr(j);
        for (uint32_t i = 0; i < blk->n; i++)
            ctl_json_int(j, vg_block_time(blk, s->t0_us, i));
        ctl_json_arr_end(j);
        ctl_json_key(j, "v");
        ctl_json_arr(j);
        for (uint32_t i = 0; i < blk->n; i++)
            ctl_json_num(j, vg_block_value(blk, i));
        ctl_json_arr_end(j);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
}

static void json__samples(const vg_samples *s, ctl_json *j)
{
    ctl_json_kstr(j, "device", s->device);
    ctl_json_kuint(j, "seq", s->seq);
    ctl_json_kint(j, "t0_us", s->t0_us);
    json__blocks(j, s);
}

static void json__alert(const vg_alert *a, ctl_json *j)
{
    ctl_json_kstr(j, "device", a->device);
    ctl_json_kstr(j, "channel", a->channel);
    ctl_json_kstr(j, "state", a->raised ? "raised" : "cleared");
    ctl_json_kstr(j, "detector", ctl_det_name(a->detector));
    ctl_json_kint(j, "t_us", a->t_us);
    ctl_json_knum(j, "value", a->value);
    ctl_json_knum(j, "score", a->score);
    ctl_json_kuint(j, "model_version", a->model_version);
    ctl_json_kuint(j, "seq", a->seq);
}

static void json__shutdown(const vg_shutdown *s, ctl_json *j)
{
    ctl_json_kstr(j, "device", s->device);
    ctl_json_kuint(j, "trip_id", s->trip_id);
    ctl_json_kstr(j, "channel", s->channel);
    ctl_json_kstr(j, "reason", s->reason);
    ctl_json_kstr(j, "detector", ctl_det_name(s->detector));
    ctl_json_kint(j, "t_us", s->t_us);
    ctl_json_kuint(j, "model_version", s->model_version);
    ctl_json_key(j, "samples");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < s->nsamples; i++) {
        ctl_json_obj(j);
        ctl_json_kint(j, "t_us", s->samples[i].t_us);
        ctl_json_knum(j, "value", s->samples[i].value);
        ctl_json_obj_end(j);
    }
    ctl_json_arr_end(j);
}

static void json__reset(const vg_reset *r, ctl_json *j)
{
    ctl_json_kstr(j, "device", r->device);
    ctl_json_kstr(j, "operator", r->operator_id);
    ctl_json_kint(j, "t_us", r->t_us);
    ctl_json_kuint(j, "trip_id", r->trip_id);
}

static void json__status(const vg_status *s, ctl_json *j)
{
    ctl_json_kstr(j, "device", s->device);
    ctl_json_kbool(j, "online", s->online);
    ctl_json_kbool(j, "latched", s->latched);
    ctl_json_kint(j, "t_us", s->t_us);
    ctl_json_kuint(j, "model_version", s->model_version);
    ctl_json_key(j, "counters");
    ctl_json_obj(j);
    for (uint32_t i = 0; i < s->ncounter; i++)
        ctl_json_kuint(j, s->counter[i].name, s->counter[i].value);
    ctl_json_obj_end(j);
}

static const char *const arch_kind[] = {"samples", "alert", "trip", "model"};

/* One archived record: header fields and its payload decoded in "payload"
 * (with one scratch kept for the program's life: archives do not nest). */
static void json__arch_item(const vg_archive_item *it, ctl_json *j)
{
    static ctl_payload *inner;
    static const int as_kind[] = {CTL_K_SAMPLES, CTL_K_ALERT, CTL_K_SHUTDOWN, CTL_K_MODEL_ACK};
    ctl_json_obj(j);
    ctl_json_kstr(j, "kind", it->kind < 4 ? arch_kind[it->kind] : "unknown");
    ctl_json_kuint(j, "seq", it->seq);
    ctl_json_kuint(j, "model_version", it->model_version);
    ctl_json_kint(j, "rx_us", it->rx_us);
    ctl_json_kuint(j, "bytes", it->len);
    if (!inner)
        inner = ctl_payload_new();
    if (it->kind < 4 && inner) {
        ctl_payload_decode(inner, as_kind[it->kind], it->payload, it->len);
        ctl_json_key(j, "payload");
        ctl_json_obj(j);
        ctl_payload_json(inner, j);
        ctl_json_obj_end(j);
    }
    ctl_json_obj_end(j);
}

static void json__archive(const ctl_payload *p, ctl_json *j)
{
    ctl_json_kstr(j, "device", p->u.archive.device);
    ctl_json_kuint(j, "chunk_seq", p->u.archive.chunk_seq);
    ctl_json_key(j, "items");
    ctl_json_arr(j);
    for (uint32_t i = 0; i < p->u.archive.nitem; i++)
        json__arch_item(&p->u.archive.item[i], j);
    ctl_json_arr_end(j);
}

static void json__ack(const vg_model_ack *a, ctl_json *j)
{
    ctl_json_kstr(j, "device", a->device);
    ctl_json_kbool(j, "applied", a->applied);
    ctl_json_kstr(j, "reason", a->reason);
    ctl_json_kuint(j, "version", a->version);
    ctl_json_kuint(j, "running_version", a->running_version);
    ctl_json_kint(j, "t_us", a->t_us);
}

static void json__model(const ctl_payload *p, ctl_json *j)
{
    ctl_json_kstr(j, "signature", "not verified");
    ctl_json_kint(j, "alg", p->binfo.alg);
    char kid[2 * sizeof p->binfo.kid + 1];
    for (size_t i = 0; i < p->binfo.kid_len; i++)
        snprintf(kid + 2 * i, 3, "%02x", p->binfo.kid[i]);
    kid[2 * p->binfo.kid_len] = '\0';
    ctl_json_kstr(j, "kid", kid);
    ctl_model_json(&p->model, j);
}

/* The error members of an undecodable payload. */
static void json__error(const ctl_payload *p, ctl_json *j)
{
    ctl_json_kstr(j, "error", vg_errname(p->rc));
    ctl_json_kstr(j, "reason", vg_strerror(p->rc));
    ctl_json_kuint(j, "bytes", p->len);
    ctl_sb d;
    ctl_sb_init(&d);
    if (ctl_diag(&d, p->buf, p->len, CTL_DIAG_DEPTH, CTL_ERR_DIAG) == VG_OK) {
        ctl_json_kstr(j, "diag", ctl_sb_str(&d));
    } else {
        ctl_sb_clear(&d);
        size_t n = p->len < 64 ? p->len : 64;
        for (size_t i = 0; i < n; i++)
            ctl_sb_printf(&d, "%02x", p->buf[i]);
        ctl_json_kstr(j, "hex", ctl_sb_str(&d));
    }
    ctl_sb_free(&d);
}

void ctl_payload_json(const ctl_payload *p, ctl_json *j)
{
    ctl_json_kstr(j, "kind", ctl_kind_name(p->kind));
    ctl_json_kbool(j, "ok", p->rc == VG_OK);
    if (p->rc != VG_OK) {
        json__error(p, j);
        return;
    }
    if (p->empty) {
        ctl_json_kbool(j, "cleared", 1); /* an empty retained message clears the topic */
        return;
    }
    switch (p->kind) {
    case CTL_K_SAMPLES:
        json__samples(&p->u.samples, j);
        break;
    case CTL_K_ALERT:
        json__alert(&p->u.alert, j);
        break;
    case CTL_K_SHUTDOWN:
        json__shutdown(&p->u.shutdown, j);
        break;
    case CTL_K_RESET:
        json__reset(&p->u.reset, j);
        break;
    case CTL_K_STATUS:
        json__status(&p->u.status, j);
        break;
    case CTL_K_ARCHIVE:
        json__archive(p, j);
        break;
    case CTL_K_MODEL:
        json__model(p, j);
        break;
    default:
        json__ack(&p->u.ack, j);
        break;
    }
}
