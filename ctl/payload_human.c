/*
 * payload_human.c - a decoded payload as one aligned human-readable line
 * (ctl_payload_human in payload.h): one summary per kind, selected by
 * switch on the decoded kind.  Cost: O(output).
 */
#include <inttypes.h>

#include "payload.h"
#include "payload_priv.h"
#include "vg_error.h"
#include "vg_msg.h"

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
                      ctl_det_name(a->detector), a->model_version, a->seq);
        break;
    case CTL_K_SHUTDOWN:
        ctl_sb_printf(o, "TRIP %" PRIu64 " %s detector=%s reason=\"%s\" model=%" PRIu64, s->trip_id,
                      s->channel, ctl_det_name(s->detector), s->reason, s->model_version);
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
