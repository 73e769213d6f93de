/*
 * payload.c - topic -> kind -> strict decode -> JSON / human / diagnostic
 * notation (contract in payload.h).
 *
 * Design: one table row per kind (name, topic suffix); one decode function
 * and one JSON and one human renderer per kind, selected by switch on the
 * decoded kind.  The diagnostic printer walks the CBOR with the core's
 * strict reader (vg_cbor.h) and an explicit stack instead of recursion, so
 * hostile nesting costs a bounded stack and ends in VG_ETOOBIG.
 * Cost: O(payload) to decode, O(output) to render.
 */
#include "payload.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_bundle.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

#define CTL_ARCH_ITEMS 4096 /* archive items decoded per chunk */
#define CTL_ERR_DIAG   512  /* string bytes shown in the diag of a bad payload */

/* One message kind. */
typedef struct ctl_kind_row {
    const char *name;   /* JSON "kind" */
    const char *suffix; /* topic suffix after ROOT/<dev>/ */
} ctl_kind_row;

static const ctl_kind_row kinds[CTL_K_COUNT] = {
    [CTL_K_UNKNOWN] = {"unknown", NULL},
    [CTL_K_SAMPLES] = {"samples", "samples"},
    [CTL_K_ALERT] = {"alert", "alerts"},
    [CTL_K_SHUTDOWN] = {"shutdown", "cmd/shutdown"},
    [CTL_K_RESET] = {"reset", "cmd/reset"},
    [CTL_K_STATUS] = {"status", "status"},
    [CTL_K_ARCHIVE] = {"archive", "archive"},
    [CTL_K_MODEL] = {"model", "model"},
    [CTL_K_MODEL_ACK] = {"model_ack", "model/ack"},
};

/* Order in which an unknown payload is tried (most specific first). */
static const int guess_order[] = {CTL_K_STATUS,    CTL_K_ALERT,   CTL_K_SHUTDOWN, CTL_K_RESET,
                                  CTL_K_MODEL_ACK, CTL_K_SAMPLES, CTL_K_ARCHIVE,  CTL_K_MODEL};

struct ctl_payload {
    int kind;           /* decoded (or asked-for) kind */
    int rc;             /* decode status */
    int empty;          /* zero-length payload */
    const uint8_t *buf; /* the payload (borrowed) */
    size_t len;         /* its length */
    union {
        vg_samples samples;
        vg_alert alert;
        vg_shutdown shutdown;
        vg_reset reset;
        vg_status status;
        vg_archive archive;
        vg_model_ack ack;
    } u;                                   /* the decoded message */
    vg_model model;                        /* a decoded bundle payload */
    ctl_bundle_info binfo;                 /* its unverified header */
    vg_block blocks[VG_BATCH_MAX_CHANNEL]; /* samples channel blocks */
    vg_block inner[VG_BATCH_MAX_CHANNEL];  /* blocks of an archived batch */
    vg_archive_item items[CTL_ARCH_ITEMS]; /* archive chunk items */
};

const char *ctl_kind_name(int kind)
{
    return kind > 0 && kind < CTL_K_COUNT ? kinds[kind].name : kinds[0].name;
}

int ctl_kind_from_name(const char *name)
{
    for (int k = 1; k < CTL_K_COUNT; k++)
        if (strcmp(name, kinds[k].name) == 0)
            return k;
    return CTL_K_UNKNOWN;
}

const char *ctl_kind_suffix(int kind)
{
    return kind > 0 && kind < CTL_K_COUNT ? kinds[kind].suffix : NULL;
}

int ctl_topic_parse(const char *topic, char *dev, size_t devcap)
{
    size_t tl = strlen(topic);
    int best = CTL_K_UNKNOWN;
    size_t best_len = 0;
    for (int k = 1; k < CTL_K_COUNT; k++) {
        size_t sl = strlen(kinds[k].suffix);
        if (tl > sl + 1 && topic[tl - sl - 1] == '/' &&
            strcmp(topic + tl - sl, kinds[k].suffix) == 0 && sl > best_len) {
            best = k; /* the longest suffix wins: model/ack over ack */
            best_len = sl;
        }
    }
    if (devcap)
        dev[0] = '\0';
    if (best == CTL_K_UNKNOWN)
        return best;
    size_t end = tl - best_len - 1, start = end;
    while (start > 0 && topic[start - 1] != '/')
        start--;
    if (devcap && end - start < devcap) {
        memcpy(dev, topic + start, end - start);
        dev[end - start] = '\0';
    }
    return best;
}

void ctl_fmt_time(int64_t t_us, char out[40])
{
    int64_t s = t_us >= 0 ? t_us / 1000000 : -((-t_us + 999999) / 1000000);
    int64_t frac = t_us - s * 1000000;
    time_t tt = (time_t)s;
    struct tm tm;
    if (!gmtime_r(&tt, &tm)) {
        snprintf(out, 40, "%" PRId64, t_us);
        return;
    }
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.19s.%06uZ", date, (unsigned)(frac % 1000000));
}

ctl_payload *ctl_payload_new(void)
{
    return calloc(1, sizeof(ctl_payload));
}

void ctl_payload_free(ctl_payload *p)
{
    free(p);
}

/* Decodes as exactly `kind`. */
static int payload__decode_as(ctl_payload *p, int kind)
{
    switch (kind) {
    case CTL_K_SAMPLES:
        p->u.samples.block = p->blocks;
        p->u.samples.block_cap = VG_BATCH_MAX_CHANNEL;
        return vg_samples_decode(p->buf, p->len, &p->u.samples);
    case CTL_K_ALERT:
        return vg_alert_decode(p->buf, p->len, &p->u.alert);
    case CTL_K_SHUTDOWN:
        return vg_shutdown_decode(p->buf, p->len, &p->u.shutdown);
    case CTL_K_RESET:
        return vg_reset_decode(p->buf, p->len, &p->u.reset);
    case CTL_K_STATUS:
        return vg_status_decode(p->buf, p->len, &p->u.status);
    case CTL_K_ARCHIVE:
        p->u.archive.item = p->items;
        p->u.archive.item_cap = CTL_ARCH_ITEMS;
        return vg_archive_decode(p->buf, p->len, &p->u.archive);
    case CTL_K_MODEL:
        return ctl_bundle_peek(p->buf, p->len, &p->binfo, &p->model);
    case CTL_K_MODEL_ACK:
        return vg_model_ack_decode(p->buf, p->len, &p->u.ack);
    default:
        return VG_EINVAL;
    }
}

int ctl_payload_decode(ctl_payload *p, int kind, const uint8_t *buf, size_t len)
{
    p->buf = buf;
    p->len = len;
    p->kind = kind;
    p->empty = len == 0;
    if (p->empty) {
        p->rc = kind == CTL_K_UNKNOWN ? VG_ETRUNC : VG_OK;
        return p->rc;
    }
    if (kind != CTL_K_UNKNOWN) {
        p->rc = payload__decode_as(p, kind);
        return p->rc;
    }
    int first_rc = VG_EDECODE;
    for (size_t i = 0; i < sizeof guess_order / sizeof guess_order[0]; i++) {
        int rc = payload__decode_as(p, guess_order[i]);
        if (rc == VG_OK) {
            p->kind = guess_order[i];
            p->rc = VG_OK;
            return VG_OK;
        }
        if (i == 0)
            first_rc = rc;
    }
    p->rc = first_rc;
    return p->rc;
}

int ctl_payload_kind(const ctl_payload *p)
{
    return p->kind;
}

const char *ctl_payload_device(const ctl_payload *p)
{
    if (p->rc != VG_OK || p->empty)
        return NULL;
    switch (p->kind) {
    case CTL_K_SAMPLES:
        return p->u.samples.device;
    case CTL_K_ALERT:
        return p->u.alert.device;
    case CTL_K_SHUTDOWN:
        return p->u.shutdown.device;
    case CTL_K_RESET:
        return p->u.reset.device;
    case CTL_K_STATUS:
        return p->u.status.device;
    case CTL_K_ARCHIVE:
        return p->u.archive.device;
    case CTL_K_MODEL:
        return p->model.device;
    case CTL_K_MODEL_ACK:
        return p->u.ack.device;
    default:
        return NULL;
    }
}

/* ---- diagnostic notation ------------------------------------------------ */

/* One open container or tag of the diagnostic printer. */
typedef struct diag_frame {
    uint64_t want; /* items it holds (2 per map pair, 1 for a tag) */
    uint64_t done; /* items printed so far */
    uint8_t type;  /* VG_CBOR_ARRAY, VG_CBOR_MAP or VG_CBOR_TAG */
} diag_frame;

/* Prints a float the way diagnostic notation spells it. */
static void diag__float(ctl_sb *out, double f)
{
    if (isnan(f))
        ctl_sb_puts(out, "NaN");
    else if (isinf(f))
        ctl_sb_puts(out, f > 0 ? "Infinity" : "-Infinity");
    else if (f == floor(f) && fabs(f) < 1e15)
        ctl_sb_printf(out, "%.1f", f);
    else {
        char b[32];
        snprintf(b, sizeof b, "%.15g", f);
        if (strtod(b, NULL) != f)
            snprintf(b, sizeof b, "%.17g", f);
        ctl_sb_puts(out, b);
    }
}

/* Prints a byte or text string, cut at max_str bytes (0 = never). */
static void diag__string(ctl_sb *out, const vg_cbor_item *it, size_t max_str)
{
    size_t n = max_str && it->len > max_str ? max_str : it->len;
    if (it->type == VG_CBOR_TEXT) {
        ctl_json_escape(out, (const char *)it->ptr, n);
    } else {
        ctl_sb_puts(out, "h'");
        for (size_t i = 0; i < n; i++)
            ctl_sb_printf(out, "%02x", it->ptr[i]);
        ctl_sb_puts(out, "'");
    }
    if (n < it->len)
        ctl_sb_printf(out, "...(%zu bytes)", it->len);
}

/* Prints an item head; returns 1 when it opened a container or tag. */
static int diag__head(ctl_sb *out, const vg_cbor_item *it, size_t max_str)
{
    switch (it->type) {
    case VG_CBOR_UINT:
        ctl_sb_printf(out, "%" PRIu64, it->val);
        return 0;
    case VG_CBOR_NEGINT:
        if (it->val == UINT64_MAX)
            ctl_sb_puts(out, "-18446744073709551616");
        else
            ctl_sb_printf(out, "-%" PRIu64, it->val + 1);
        return 0;
    case VG_CBOR_BYTES:
    case VG_CBOR_TEXT:
        diag__string(out, it, max_str);
        return 0;
    case VG_CBOR_ARRAY:
        ctl_sb_puts(out, "[");
        return 1;
    case VG_CBOR_MAP:
        ctl_sb_puts(out, "{");
        return 1;
    case VG_CBOR_TAG:
        ctl_sb_printf(out, "%" PRIu64 "(", it->val);
        return 1;
    case VG_CBOR_FLOAT:
        diag__float(out, it->f);
        return 0;
    case VG_CBOR_BOOL:
        ctl_sb_puts(out, it->val ? "true" : "false");
        return 0;
    case VG_CBOR_NULL:
        ctl_sb_puts(out, "null");
        return 0;
    default:
        ctl_sb_puts(out, "undefined");
        return 0;
    }
}

/* The closing bracket of a frame. */
static const char *diag__closer(const diag_frame *f)
{
    return f->type == VG_CBOR_ARRAY ? "]" : f->type == VG_CBOR_MAP ? "}" : ")";
}

/* The separator before the next item inside frame f. */
static void diag__sep(ctl_sb *out, const diag_frame *f)
{
    if (f->done == 0 || f->type == VG_CBOR_TAG)
        return;
    if (f->type == VG_CBOR_MAP)
        ctl_sb_puts(out, f->done % 2 ? ": " : ", ");
    else
        ctl_sb_puts(out, ", ");
}

int ctl_diag(ctl_sb *out, const uint8_t *buf, size_t len, int max_depth, size_t max_str)
{
    diag_frame st[CTL_DIAG_DEPTH];
    int sp = 0;
    if (max_depth > CTL_DIAG_DEPTH)
        max_depth = CTL_DIAG_DEPTH;
    vg_cbor_reader r;
    vg_cbor_reader_init(&r, buf, len);
    do {
        if (sp > 0)
            diag__sep(out, &st[sp - 1]);
        vg_cbor_item it;
        int rc = vg_cbor_next(&r, &it);
        if (rc != VG_OK)
            return rc;
        if (diag__head(out, &it, max_str)) {
            uint64_t want = it.type == VG_CBOR_MAP   ? it.val * 2
                            : it.type == VG_CBOR_TAG ? 1
                                                     : it.val;
            if (sp >= max_depth)
                return VG_ETOOBIG;
            st[sp++] = (diag_frame){want, 0, it.type};
            if (want > 0)
                continue; /* its first item comes next */
            ctl_sb_puts(out, diag__closer(&st[--sp]));
        }
        /* an item is complete: close every container it completes */
        while (sp > 0 && ++st[sp - 1].done == st[sp - 1].want)
            ctl_sb_puts(out, diag__closer(&st[--sp]));
    } while (sp > 0);
    return vg_cbor_remaining(&r) ? VG_EDECODE : VG_OK;
}

/* ---- bundles ------------------------------------------------------------ */

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

/* ---- JSON rendering ----------------------------------------------------- */

/* The detector's name ("?" when out of range). */
static const char *det_name(int d)
{
    const char *n = vg_detector_name(d);
    return n ? n : "?";
}

/* Channel blocks as [{name, n, t_us: [...], v: [...]}]. */
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
    ctl_json_kstr(j, "detector", det_name(a->detector));
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
    ctl_json_kstr(j, "detector", det_name(s->detector));
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

/* ---- human rendering ---------------------------------------------------- */

static void human__samples(const vg_samples *s, ctl_sb *o)
{
    ctl_sb_printf(o, "seq %" PRIu64, s->seq);
    for (uint32_t b = 0; b < s->nblock; b++) {
        const vg_block *blk = &s->block[b];
        ctl_sb_printf(o, "  %.*s n=%" PRIu32, (int)blk->name_len, blk->name, blk->n);
        if (blk->n)
            ctl_sb_printf(o, " last=%g", vg_block_value(blk, blk->n - 1));
    }
}

static void human__status(const vg_status *s, ctl_sb *o)
{
    ctl_sb_printf(o, "%s%s model=%" PRIu64, s->online ? "online" : "OFFLINE",
                  s->latched ? " LATCHED" : "", s->model_version);
    for (uint32_t i = 0; i < s->ncounter; i++)
        ctl_sb_printf(o, " %s=%" PRIu64, s->counter[i].name, s->counter[i].value);
}

static void human__archive(const vg_archive *a, ctl_sb *o)
{
    uint32_t n[4] = {0};
    for (uint32_t i = 0; i < a->nitem; i++)
        if (a->item[i].kind < 4)
            n[a->item[i].kind]++;
    ctl_sb_printf(
        o, "chunk %" PRIu64 " items=%" PRIu32 " (samples %u, alerts %u, trips %u, models %u)",
        a->chunk_seq, a->nitem, n[0], n[1], n[2], n[3]);
}

/* The decoded message's summary (rc is VG_OK and the payload not empty). */
static void human__decoded(const ctl_payload *p, ctl_sb *o)
{
    const vg_alert *a = &p->u.alert;
    const vg_shutdown *s = &p->u.shutdown;
    const vg_model_ack *k = &p->u.ack;
    switch (p->kind) {
    case CTL_K_SAMPLES:
        human__samples(&p->u.samples, o);
        break;
    case CTL_K_ALERT:
        ctl_sb_printf(o, "%s %s value=%g score=%.3f detector=%s model=%" PRIu64 " seq=%" PRIu64,
                      a->raised ? "RAISED " : "cleared", a->channel, a->value, a->score,
                      det_name(a->detector), a->model_version, a->seq);
        break;
    case CTL_K_SHUTDOWN:
        ctl_sb_printf(o, "TRIP %" PRIu64 " %s detector=%s reason=\"%s\" model=%" PRIu64, s->trip_id,
                      s->channel, det_name(s->detector), s->reason, s->model_version);
        break;
    case CTL_K_RESET:
        ctl_sb_printf(o, "reset trip=%" PRIu64 " operator=\"%s\"", p->u.reset.trip_id,
                      p->u.reset.operator_id);
        break;
    case CTL_K_STATUS:
        human__status(&p->u.status, o);
        break;
    case CTL_K_ARCHIVE:
        human__archive(&p->u.archive, o);
        break;
    case CTL_K_MODEL:
        ctl_sb_printf(
            o, "bundle version %" PRIu64 " for %s, %" PRIu32 " channels (signature not verified)",
            p->model.version, p->model.device, p->model.nchan);
        break;
    default:
        ctl_sb_printf(o, "%s version %" PRIu64 " running %" PRIu64 " reason=%s",
                      k->applied ? "APPLIED" : "REJECTED", k->version, k->running_version,
                      k->reason);
        break;
    }
}

void ctl_payload_human(const ctl_payload *p, ctl_sb *out)
{
    if (p->rc != VG_OK) {
        ctl_sb_printf(out, "UNDECODABLE (%s: %s), %zu bytes", vg_errname(p->rc), vg_strerror(p->rc),
                      p->len);
        return;
    }
    if (p->empty) {
        ctl_sb_puts(out, "(cleared: empty retained message)");
        return;
    }
    human__decoded(p, out);
}
