/*
 * actuator.c - command mailbox and shutdown/reset handling; see actuator.h.
 */
#include "actuator.h"

#include <string.h>

#include "simtime.h"
#include "vg_error.h"
#include "vg_msg.h"

/* See actuator.h. */
int sim_mailbox_init(sim_mailbox *mb)
{
    memset(mb, 0, sizeof *mb);
    return pthread_mutex_init(&mb->lock, NULL) == 0 ? VG_OK : VG_ENOMEM;
}

/* See actuator.h. */
void sim_mailbox_destroy(sim_mailbox *mb)
{
    pthread_mutex_destroy(&mb->lock);
}

/* See actuator.h. */
int sim_mailbox_post(sim_mailbox *mb, int kind, const void *payload, size_t len)
{
    int rc = VG_OK;
    pthread_mutex_lock(&mb->lock);
    if (len > SIM_CMD_PAYLOAD_MAX) {
        rc = VG_ETOOBIG;
    } else if (mb->count == SIM_MAILBOX_CAP) {
        rc = VG_ENOSPC;
    } else {
        sim_cmd *c = &mb->slot[(mb->head + mb->count) % SIM_MAILBOX_CAP];
        c->kind = (uint8_t)kind;
        c->len = (uint32_t)len;
        if (len)
            memcpy(c->payload, payload, len);
        mb->count++;
    }
    if (rc != VG_OK)
        mb->dropped++;
    pthread_mutex_unlock(&mb->lock);
    return rc;
}

/* See actuator.h. */
int sim_mailbox_take(sim_mailbox *mb, sim_cmd *out)
{
    int taken = 0;
    pthread_mutex_lock(&mb->lock);
    if (mb->count > 0) {
        sim_cmd *c = &mb->slot[mb->head];
        out->kind = c->kind;
        out->len = c->len;
        memcpy(out->payload, c->payload, c->len);
        mb->head = (mb->head + 1) % SIM_MAILBOX_CAP;
        mb->count--;
        taken = 1;
    }
    pthread_mutex_unlock(&mb->lock);
    return taken;
}

/* See actuator.h. */
void sim_actuator_init(sim_actuator *a, const char *device, double restart_below_c)
{
    memset(a, 0, sizeof *a);
    a->device = device;
    a->restart_below_c = restart_below_c;
    a->damage_us = SIM_T_NONE;
}

/* Copies NUL-terminated src into dst of capacity cap (always terminated). */
static void actuator__copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Records a stop at t_us caused by shutdown *s. */
static void actuator__record_stop(sim_actuator *a, const vg_shutdown *s, const sim_machine *m,
                                  int64_t t_us)
{
    a->stops_total++;
    if (a->nstop == SIM_STOPS_MAX)
        return;
    sim_stop *st = &a->stop[a->nstop++];
    st->t_us = t_us;
    st->restart_us = SIM_T_NONE;
    st->trip_id = s->trip_id;
    st->temp_c = m->temp_c;
    actuator__copy(st->channel, sizeof st->channel, s->channel);
    actuator__copy(st->reason, sizeof st->reason, s->reason);
}

/* Handles a shutdown payload. */
static int actuator__shutdown(sim_actuator *a, const sim_cmd *cmd, sim_machine *m, sim_plan *p,
                              int64_t t_us, FILE *log)
{
    char ts[SIM_TIME_TEXT_MAX];
    if (cmd->len == 0) {
        a->cleared++;
        return SIM_ACT_CLEARED;
    }
    vg_shutdown s;
    int rc = vg_shutdown_decode(cmd->payload, cmd->len, &s);
    if (rc != VG_OK) {
        a->bad++;
        if (log)
            fprintf(log, "vigil-sim: %s: bad shutdown payload (%s)\n", a->device, vg_strerror(rc));
        return SIM_ACT_BAD;
    }
    a->shutdowns++;
    if (strcmp(s.device, a->device) != 0 || !m->running) {
        a->ignored++;
        return SIM_ACT_IGNORED;
    }
    sim_machine_stop(m);
    sim_plan_machine_stopped(p, t_us);
    actuator__record_stop(a, &s, m, t_us);
    if (log)
        fprintf(log,
                "vigil-sim: %s: shutdown (trip %llu, channel %s: %s) at %s: machine stopped, "
                "temp %.1f C\n",
                a->device, (unsigned long long)s.trip_id, s.channel, s.reason,
                sim_time_format(t_us, ts), m->temp_c);
    return SIM_ACT_STOPPED;
}

/* True while an overheat of plan p is still open. */
static bool actuator__overheat_open(const sim_plan *p)
{
    for (uint32_t i = 0; i < p->nfault; i++) {
        const sim_fault *f = &p->fault[i];
        if (f->kind == SIM_FAULT_OVERHEAT && f->begun_us != SIM_T_NONE && f->ended_us == SIM_T_NONE)
            return true;
    }
    return false;
}

/* Handles a reset payload. */
static int actuator__reset(sim_actuator *a, const sim_cmd *cmd, sim_machine *m, sim_plan *p,
                           int64_t t_us, FILE *log)
{
    char ts[SIM_TIME_TEXT_MAX];
    vg_reset r;
    int rc = vg_reset_decode(cmd->payload, cmd->len, &r);
    if (rc != VG_OK) {
        a->bad++;
        if (log)
            fprintf(log, "vigil-sim: %s: bad reset payload (%s)\n", a->device, vg_strerror(rc));
        return SIM_ACT_BAD;
    }
    if (strcmp(r.device, a->device) != 0 || m->running) {
        a->ignored++;
        return SIM_ACT_IGNORED;
    }
    if (actuator__overheat_open(p) || m->temp_c >= a->restart_below_c) {
        a->resets_refused++;
        if (log)
            fprintf(log, "vigil-sim: %s: reset refused at %s: temp %.1f C not below %.1f C\n",
                    a->device, sim_time_format(t_us, ts), m->temp_c, a->restart_below_c);
        return SIM_ACT_REFUSED;
    }
    sim_machine_start(m);
    a->resets++;
    if (a->nstop > 0 && a->stop[a->nstop - 1].restart_us == SIM_T_NONE)
        a->stop[a->nstop - 1].restart_us = t_us;
    if (log)
        fprintf(log, "vigil-sim: %s: reset at %s: machine restarted\n", a->device,
                sim_time_format(t_us, ts));
    return SIM_ACT_RESTARTED;
}

/* See actuator.h. */
int sim_actuator_handle(sim_actuator *a, const sim_cmd *cmd, sim_machine *m, sim_plan *p,
                        int64_t t_us, FILE *log)
{
    if (cmd->kind == SIM_CMD_SHUTDOWN)
        return actuator__shutdown(a, cmd, m, p, t_us, log);
    return actuator__reset(a, cmd, m, p, t_us, log);
}

/* See actuator.h. */
void sim_actuator_observe(sim_actuator *a, const sim_machine *m, int64_t t_us)
{
    if (a->damage_us == SIM_T_NONE && m->running && m->temp_c >= SIM_TEMP_DAMAGE_C)
        a->damage_us = t_us;
}
