/*
 * reset.c - `vigilctl reset --device ID`: publish a vg_reset on
 * ROOT/ID/cmd/reset and report whether the agent cleared the latch.
 *
 * How vigild answers (agent/pipeline.c, agent/vigild_io.c): an accepted
 * reset clears the retained cmd/shutdown (an empty retained message) and
 * publishes a status at once with latched = 0.  A refused reset (cause still
 * present, wrong trip id) also publishes a status at once, whose counter
 * resets_refused has gone up and whose reset_refused_reason holds the
 * vg_error code (20 "active": the cause is still present).  So the verdict
 * is: cleared as soon as the empty shutdown or a latched = 0 status arrives
 * after our publish; refused, with the reason, as soon as a status shows
 * one more refusal than before; and, for an agent that predates those
 * counters, refused when --timeout passes with the status still latched.
 *
 * Design: subscribe to the device's status and cmd/shutdown first, give
 * the broker a moment to deliver the retained state (what is latched, is
 * the agent online), then publish at QoS 1 and watch.
 * The reset names its operator (vg_reset.operator_id, logged by vigild):
 * --operator NAME, else the broker user name (--username or the --config's
 * [mqtt] username), else $USER, else empty.
 * Cost: one connection, a few messages, at most --timeout seconds.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "ctl.h"
#include "payload.h"
#include "vg_error.h"
#include "vg_msg.h"

#define RESET_RETAINED_MS 700 /* time given to retained messages to arrive */

/* What we know about the device. */
typedef struct reset_view {
    int have_status;       /* a status was seen */
    vg_status status;      /* the latest one */
    int have_trip;         /* a non-empty shutdown was seen */
    vg_shutdown trip;      /* the latest one */
    int cleared;           /* the agent cleared the latch after our reset */
    int answered;          /* the agent published a status after our reset */
    uint64_t refused_base; /* resets_refused before our reset */
    int refused;           /* a status showed one more refusal */
    uint64_t reason;       /* its reset_refused_reason (vg_error code) */
} reset_view;

/* Value of status counter `name`, or 0 when the agent does not send it. */
static uint64_t reset__counter(const vg_status *s, const char *name)
{
    for (uint32_t i = 0; i < s->ncounter; i++)
        if (strcmp(s->counter[i].name, name) == 0)
            return s->counter[i].value;
    return 0;
}

/* Folds one message into the view; `after` is 1 once our reset is out. */
static void reset__fold(reset_view *v, const ctl_msg *m, int after)
{
    int kind = ctl_topic_parse(m->topic, NULL, 0);
    if (kind == CTL_K_SHUTDOWN && m->len == 0) {
        v->cleared |= after;
        v->have_trip = 0;
    } else if (kind == CTL_K_SHUTDOWN && vg_shutdown_decode(m->payload, m->len, &v->trip) == 0) {
        v->have_trip = 1;
    } else if (kind == CTL_K_STATUS && vg_status_decode(m->payload, m->len, &v->status) == 0) {
        v->have_status = 1;
        if (after && !m->retained && v->status.online) {
            v->answered = 1;
            v->cleared |= !v->status.latched;
            if (reset__counter(&v->status, "resets_refused") > v->refused_base) {
                v->refused = 1;
                v->reason = reset__counter(&v->status, "reset_refused_reason");
            }
        }
    }
}

/* Collects messages for up to ms (or until the latch is cleared). */
static int reset__watch(ctl_conn *c, reset_view *v, int64_t ms, int after)
{
    int64_t end = ctl_mono_us() + ms * 1000;
    while (!ctl_stop && !v->cleared && !v->refused && ctl_mono_us() < end) {
        ctl_msg *m;
        int rc = ctl_conn_next(c, 100, &m);
        if (rc != CTL_EXIT_OK)
            return rc;
        if (m)
            reset__fold(v, m, after);
        ctl_msg_free(m);
    }
    return CTL_EXIT_OK;
}

/* Subscribes to the device's status and shutdown topics. */
static int reset__subscribe(const ctl_opts *o, ctl_conn *c)
{
    char t[512];
    snprintf(t, sizeof t, "%s/%s/status", o->root, o->device);
    int rc = ctl_conn_subscribe(c, t);
    snprintf(t, sizeof t, "%s/%s/cmd/shutdown", o->root, o->device);
    return rc == CTL_EXIT_OK ? ctl_conn_subscribe(c, t) : rc;
}

/* Encodes and publishes the reset. */
static int reset__publish(const ctl_opts *o, ctl_conn *c)
{
    vg_reset r;
    uint8_t buf[512];
    size_t len;
    char t[512];
    memset(&r, 0, sizeof r);
    snprintf(r.device, sizeof r.device, "%s", o->device);
    snprintf(r.operator_id, sizeof r.operator_id, "%s", o->operator_id ? o->operator_id : "");
    r.t_us = ctl_wall_us();
    r.trip_id = o->trip_id;
    if (vg_reset_encode(&r, buf, sizeof buf, &len) != VG_OK) {
        fprintf(stderr, "vigilctl reset: cannot encode the reset\n");
        return CTL_EXIT_USAGE;
    }
    snprintf(t, sizeof t, "%s/%s/cmd/reset", o->root, o->device);
    return ctl_conn_publish(c, t, buf, len, 0);
}

/* Prints the verdict and returns the exit code. */
static int reset__verdict(const ctl_opts *o, const reset_view *v, int was_latched)
{
    const char *d = o->device;
    if (v->cleared) {
        printf("%s: %s\n", d, was_latched ? "latch cleared by the agent" : "nothing was latched");
        return CTL_EXIT_OK;
    }
    if (!v->have_status) {
        fprintf(stderr,
                "%s: not confirmed: no status from this device (agent never connected, "
                "or wrong --device / --root)\n",
                d);
        return CTL_EXIT_FAIL;
    }
    if (!v->status.online) {
        fprintf(stderr,
                "%s: not confirmed: the agent is offline (the broker keeps the reset "
                "for it)\n",
                d);
        return CTL_EXIT_FAIL;
    }
    if (v->refused) {
        fprintf(stderr, "%s: refused by the agent: %s", d,
                v->reason == VG_EACTIVE ? "the cause is still present"
                                        : vg_strerror((int)v->reason));
        if (v->have_trip)
            fprintf(stderr, " (trip %" PRIu64 " on %s: %s)", v->trip.trip_id, v->trip.channel,
                    v->trip.reason);
        fputc('\n', stderr);
        return CTL_EXIT_FAIL;
    }
    if (!v->status.latched && !v->have_trip) {
        printf("%s: nothing was latched\n", d);
        return CTL_EXIT_OK;
    }
    fprintf(stderr, "%s: refused: still latched", d);
    if (v->have_trip)
        fprintf(stderr, " (trip %" PRIu64 " on %s: %s)", v->trip.trip_id, v->trip.channel,
                v->trip.reason);
    fprintf(stderr,
            "; the cause is still present%s (no refusal counter in the agent's status: "
            "see its log or vigild_resets_refused_total)\n",
            o->trip_id ? " or the trip id does not match" : "");
    return CTL_EXIT_FAIL;
}

int ctl_cmd_reset(ctl_opts *o)
{
    if (!o->broker || !o->device) {
        fprintf(stderr, "vigilctl reset: --broker URI and --device ID are required\n");
        return CTL_EXIT_USAGE;
    }
    if (!vg_valid_device(o->device, strlen(o->device))) {
        fprintf(stderr, "vigilctl reset: '%s' is not a device id ([A-Za-z0-9_-]{1,64})\n",
                o->device);
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_conn_options(o); /* fills username from --config too */
    if (!o->operator_id)          /* --operator, else the login name, else $USER */
        o->operator_id = o->username && o->username[0] ? o->username : getenv("USER");
    static reset_view v; /* vg_status is a few KiB */
    ctl_conn *c = NULL;
    if (rc == CTL_EXIT_OK && (rc = ctl_conn_open(o, &c)) == CTL_EXIT_OK &&
        (rc = reset__subscribe(o, c)) == CTL_EXIT_OK &&
        (rc = reset__watch(c, &v, RESET_RETAINED_MS, 0)) == CTL_EXIT_OK) {
        int was_latched = v.have_trip || (v.have_status && v.status.latched);
        v.refused_base = v.have_status ? reset__counter(&v.status, "resets_refused") : 0;
        if ((rc = reset__publish(o, c)) == CTL_EXIT_OK &&
            (rc = reset__watch(c, &v, (int64_t)(o->timeout_s * 1000), 1)) == CTL_EXIT_OK)
            rc = reset__verdict(o, &v, was_latched);
    }
    ctl_conn_close(c);
    return rc;
}
