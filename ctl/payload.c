/*
 * payload.c - topic -> kind -> strict decode (contract in payload.h; the
 * renderers are in payload_json.c, payload_human.c and payload_diag.c,
 * bundle peeking in payload_bundle.c).
 *
 * Design: one table row per kind (name, topic suffix); one decode call per
 * kind, selected by switch; an unknown payload is tried against every kind
 * in guess_order and the first strict success wins.
 * Cost: O(suffixes) to parse a topic, O(payload) to decode; the scratch
 * (about 250 KiB) is one calloc per ctl_payload_new.
 */
#include "payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vg_error.h"
#include "vg_msg.h"
#include "payload_priv.h"

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

const char *ctl_det_name(int d)
{
    const char *n = vg_detector_name(d);
    return n ? n : "?";
}
