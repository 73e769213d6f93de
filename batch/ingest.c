/*
 * ingest.c - archive chunks, alerts, trips and acks into the warehouse (see
 * ingest.h).  Decoding goes through the core's strict codecs; this file
 * only routes by topic and kind, converts sample columns to the
 * warehouse's layout, and counts what it refuses.
 */
#include "ingest.h"

#include <stdlib.h>
#include <string.h>

#include "vg_error.h"
#include "vg_msg.h"

#define INGEST_MAX_ITEMS 65536 /* items decoded per archive chunk */

struct vb_ingest {
    vb_wh *w;                       /* warehouse (borrowed) */
    const char *const *allow;       /* device allow-list or NULL (borrowed) */
    vb_ingest_stats st;             /* counters */
    uint64_t pending[VB_REJ_COUNT]; /* rejects not yet written to the warehouse */
    vg_archive_item *items;         /* decode array for chunks (owned) */
    vg_block *blocks;               /* decode array for samples (owned) */
    int64_t *t;                     /* conversion arrays (owned) */
    double *v;
    uint32_t tv_cap; /* their capacity in samples */
};

static const char *const reject_names[VB_REJ_COUNT] = {
    [VB_REJ_DECODE] = "decode", [VB_REJ_DEVICE] = "device", [VB_REJ_UNKNOWN] = "unknown_device",
    [VB_REJ_KIND] = "kind",     [VB_REJ_TOPIC] = "topic",
};

const char *vb_reject_name(int r)
{
    return r >= 0 && r < VB_REJ_COUNT ? reject_names[r] : "?";
}

/* See ingest.h. */
vb_ingest *vb_ingest_create(vb_wh *w, const char *const *allow)
{
    vb_ingest *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->w = w;
    g->allow = allow;
    g->items = calloc(INGEST_MAX_ITEMS, sizeof *g->items);
    g->blocks = calloc(VG_BATCH_MAX_CHANNEL, sizeof *g->blocks);
    if (!g->items || !g->blocks) {
        vb_ingest_destroy(g);
        return NULL;
    }
    return g;
}

void vb_ingest_destroy(vb_ingest *g)
{
    if (!g)
        return;
    free(g->items);
    free(g->blocks);
    free(g->t);
    free(g->v);
    free(g);
}

const vb_ingest_stats *vb_ingest_stats_get(const vb_ingest *g)
{
    return &g->st;
}

/* Counts a refusal; returns VG_OK (a refusal is not a failure). */
static int ingest__reject(vb_ingest *g, int r, int *why)
{
    g->st.rejected[r]++;
    g->pending[r]++;
    if (why)
        *why = r;
    return VG_OK;
}

/* True when `dev` may be ingested. */
static int ingest__allowed(const vb_ingest *g, const char *dev)
{
    if (!g->allow)
        return 1;
    for (const char *const *a = g->allow; *a; a++)
        if (strcmp(*a, dev) == 0)
            return 1;
    return 0;
}

/* Grows the conversion arrays to n samples. */
static int ingest__reserve(vb_ingest *g, uint32_t n)
{
    if (n <= g->tv_cap)
        return VG_OK;
    int64_t *t = realloc(g->t, (size_t)n * sizeof *t);
    if (t)
        g->t = t;
    double *v = realloc(g->v, (size_t)n * sizeof *v);
    if (v)
        g->v = v;
    if (!t || !v)
        return VG_ENOMEM;
    g->tv_cap = n;
    return VG_OK;
}

/* Stores every block of a decoded samples batch. */
static int ingest__store_samples(vb_ingest *g, int64_t dev, const vg_samples *s,
                                 const vg_archive_item *it)
{
    for (uint32_t b = 0; b < s->nblock; b++) {
        const vg_block *bl = &s->block[b];
        int64_t chan;
        int rc = ingest__reserve(g, bl->n);
        if (rc == VG_OK)
            rc = vb_wh_channel_id(g->w, bl->name, bl->name_len, &chan);
        if (rc != VG_OK)
            return rc;
        for (uint32_t i = 0; i < bl->n; i++) {
            g->t[i] = vg_block_time(bl, s->t0_us, i);
            g->v[i] = vg_block_value(bl, i);
        }
        rc = vb_wh_put_block(g->w, dev, chan, it->seq, it->model_version, bl->n, g->t, g->v);
        if (rc != VG_OK)
            return rc;
        g->st.samples += bl->n;
    }
    return VG_OK;
}

/* Decoded payload of one record, by kind. */
typedef union ingest_payload {
    vg_samples samples;
    vg_alert alert;
    vg_shutdown trip;
    vg_model_ack ack;
} ingest_payload;

/* Decodes it->payload by kind; sets *dev_of to the device it names. */
static int ingest__decode(vb_ingest *g, const vg_archive_item *it, ingest_payload *p,
                          const char **dev_of)
{
    switch (it->kind) {
    case VG_ARCH_SAMPLES:
        p->samples.block = g->blocks;
        p->samples.block_cap = VG_BATCH_MAX_CHANNEL;
        *dev_of = p->samples.device;
        return vg_samples_decode(it->payload, it->len, &p->samples);
    case VG_ARCH_ALERT:
        *dev_of = p->alert.device;
        return vg_alert_decode(it->payload, it->len, &p->alert);
    case VG_ARCH_TRIP:
        *dev_of = p->trip.device;
        return vg_shutdown_decode(it->payload, it->len, &p->trip);
    default:
        *dev_of = p->ack.device;
        return vg_model_ack_decode(it->payload, it->len, &p->ack);
    }
}

/* Stores a decoded payload of a fresh record. */
static int ingest__store(vb_ingest *g, int64_t dev, const vg_archive_item *it,
                         const ingest_payload *p)
{
    switch (it->kind) {
    case VG_ARCH_SAMPLES:
        return ingest__store_samples(g, dev, &p->samples, it);
    case VG_ARCH_ALERT:
        return vb_wh_put_alert(g->w, dev, (int64_t)it->seq, &p->alert);
    case VG_ARCH_TRIP:
        return vb_wh_put_trip(g->w, dev, (int64_t)it->seq, &p->trip);
    default:
        return vb_wh_put_ack(g->w, dev, &p->ack);
    }
}

/* See ingest.h. */
int vb_ingest_record(vb_ingest *g, const char *device, const vg_archive_item *it, int *why)
{
    static _Thread_local ingest_payload p; /* large (shutdown samples): off the stack */
    const char *dev_of = NULL;
    if (why)
        *why = -1;
    g->st.messages++;
    if (it->kind > VG_ARCH_MODEL)
        return ingest__reject(g, VB_REJ_KIND, why);
    if (ingest__decode(g, it, &p, &dev_of) != VG_OK)
        return ingest__reject(g, VB_REJ_DECODE, why);
    if (strcmp(dev_of, device) != 0)
        return ingest__reject(g, VB_REJ_DEVICE, why);
    if (!ingest__allowed(g, device))
        return ingest__reject(g, VB_REJ_UNKNOWN, why);
    int64_t dev;
    int fresh = 0;
    int rc = vb_wh_device_id(g->w, device, &dev);
    if (rc == VG_OK)
        rc = vb_wh_claim(g->w, dev, it->kind, it->seq, it->model_version, it->rx_us, &fresh);
    if (rc != VG_OK)
        return rc;
    if (!fresh) {
        g->st.records_dup++;
        return VG_OK;
    }
    g->st.records_new++;
    return ingest__store(g, dev, it, &p);
}

/* Handles an archive chunk from topic device `tdev`. */
static int ingest__chunk(vb_ingest *g, const char *tdev, const uint8_t *buf, size_t len, int *why)
{
    vg_archive a;
    a.item = g->items;
    a.item_cap = INGEST_MAX_ITEMS;
    if (vg_archive_decode(buf, len, &a) != VG_OK) {
        g->st.messages++;
        return ingest__reject(g, VB_REJ_DECODE, why);
    }
    if (strcmp(a.device, tdev) != 0) {
        g->st.messages++;
        return ingest__reject(g, VB_REJ_DEVICE, why);
    }
    for (uint32_t i = 0; i < a.nitem; i++) {
        int rc = vb_ingest_record(g, a.device, &a.item[i], why);
        if (rc != VG_OK)
            return rc;
    }
    return VG_OK;
}

/* Handles a live alert / shutdown / model ack: the same path as an archive
 * record, keyed by its natural key (see warehouse.h), never claimed. */
static int ingest__live(vb_ingest *g, const char *tdev, int kind, const uint8_t *buf, size_t len,
                        int *why)
{
    static _Thread_local ingest_payload p;
    vg_archive_item it = {.kind = (uint8_t)kind, .payload = buf, .len = len};
    const char *dev_of = NULL;
    g->st.messages++;
    if (ingest__decode(g, &it, &p, &dev_of) != VG_OK)
        return ingest__reject(g, VB_REJ_DECODE, why);
    if (strcmp(dev_of, tdev) != 0)
        return ingest__reject(g, VB_REJ_DEVICE, why);
    if (!ingest__allowed(g, tdev))
        return ingest__reject(g, VB_REJ_UNKNOWN, why);
    int64_t dev;
    int rc = vb_wh_device_id(g->w, tdev, &dev);
    if (rc != VG_OK)
        return rc;
    if (kind == VG_ARCH_ALERT)
        return vb_wh_put_alert(g->w, dev, -1, &p.alert);
    if (kind == VG_ARCH_TRIP)
        return vb_wh_put_trip(g->w, dev, -1, &p.trip);
    return vb_wh_put_ack(g->w, dev, &p.ack);
}

/* Topic suffixes after "<root>/<dev>/" and what they carry. */
static const struct {
    const char *suffix; /* topic level(s) after the device */
    int kind;           /* -1 archive chunk, else enum vg_archive_kind */
} ingest_topics[] = {
    {"archive", -1},
    {"alerts", VG_ARCH_ALERT},
    {"cmd/shutdown", VG_ARCH_TRIP},
    {"model/ack", VG_ARCH_MODEL},
};

/* See ingest.h. */
int vb_ingest_message(vb_ingest *g, const char *root, const char *topic, size_t topic_len,
                      const uint8_t *payload, size_t len, int *why)
{
    if (why)
        *why = -1;
    size_t rl = strlen(root);
    if (topic_len <= rl + 1 || memcmp(topic, root, rl) != 0 || topic[rl] != '/') {
        g->st.messages++;
        return ingest__reject(g, VB_REJ_TOPIC, why);
    }
    const char *d = topic + rl + 1, *end = topic + topic_len;
    const char *slash = memchr(d, '/', (size_t)(end - d));
    if (!slash || !vg_valid_device(d, (unsigned long)(slash - d))) {
        g->st.messages++;
        return ingest__reject(g, VB_REJ_DEVICE, why);
    }
    char dev[VG_DEVICE_MAX + 1];
    memcpy(dev, d, (size_t)(slash - d));
    dev[slash - d] = '\0';
    size_t sl = (size_t)(end - slash - 1);
    for (size_t i = 0; i < sizeof ingest_topics / sizeof ingest_topics[0]; i++) {
        if (strlen(ingest_topics[i].suffix) != sl ||
            memcmp(ingest_topics[i].suffix, slash + 1, sl) != 0)
            continue;
        if (ingest_topics[i].kind < 0)
            return ingest__chunk(g, dev, payload, len, why);
        return ingest__live(g, dev, ingest_topics[i].kind, payload, len, why);
    }
    g->st.messages++;
    return ingest__reject(g, VB_REJ_TOPIC, why);
}

/* See ingest.h. */
int vb_ingest_flush_rejects(vb_ingest *g)
{
    for (int r = 0; r < VB_REJ_COUNT; r++) {
        if (!g->pending[r])
            continue;
        int rc = vb_wh_count_reject(g->w, reject_names[r], g->pending[r]);
        if (rc != VG_OK)
            return rc;
        g->pending[r] = 0;
    }
    return VG_OK;
}
