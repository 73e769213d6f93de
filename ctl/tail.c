/*
 * tail.c - `vigilctl tail`: subscribe and print every vigil message
 * decoded, as JSON lines (--json, the default when stdout is not a
 * terminal) or as aligned human-readable lines (the default on a terminal).
 *
 * Design: single-threaded loop over conn.c's queue; each message is decoded
 * by its topic's kind (payload.c) and written with one fwrite + fflush so
 * a pipe sees whole lines at once.  --count and --wait end the loop as in
 * mosquitto_sub (-C, -W); SIGINT/SIGTERM end it cleanly.  A payload that
 * does not decode is printed as such (ok=false with the reason), never
 * dropped and never fatal.
 * Cost: O(payload) per message; memory is one decode scratch and one line.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "ctl.h"
#include "payload.h"
#include "vg_error.h"

/* One JSON line for message m. */
static void tail__json(const ctl_msg *m, const ctl_payload *p, ctl_sb *out)
{
    char dev[VG_DEVICE_MAX + 1];
    ctl_json j;
    ctl_topic_parse(m->topic, dev, sizeof dev);
    ctl_json_init(&j, out);
    ctl_json_obj(&j);
    ctl_json_kstr(&j, "topic", m->topic);
    ctl_json_kint(&j, "rx_us", m->rx_us);
    ctl_json_kbool(&j, "retained", m->retained != 0);
    if (!ctl_payload_device(p)) {
        ctl_json_kstr(&j, "device", dev);
    }
    ctl_payload_json(p, &j);
    ctl_json_obj_end(&j);
}

/* One aligned human line for message m. */
static void tail__human(const ctl_msg *m, const ctl_payload *p, ctl_sb *out)
{
    char dev[VG_DEVICE_MAX + 1], t[40];
    ctl_topic_parse(m->topic, dev, sizeof dev);
    const char *d = ctl_payload_device(p) ? ctl_payload_device(p) : dev;
    ctl_fmt_time(m->rx_us, t);
    ctl_sb_printf(out, "%.23s  %-9s %-16s %s", t, ctl_kind_name(ctl_payload_kind(p)),
                  d[0] ? d : "-", m->retained ? "[retained] " : "");
    ctl_payload_human(p, out);
    if (ctl_payload_kind(p) == CTL_K_UNKNOWN)
        ctl_sb_printf(out, "  topic=%s", m->topic);
}

/* Decodes and prints one message. */
static void tail__one(const ctl_msg *m, ctl_payload *p, int json, ctl_sb *out)
{
    int kind = ctl_topic_parse(m->topic, NULL, 0);
    ctl_payload_decode(p, kind, m->payload, m->len);
    ctl_sb_clear(out);
    if (json)
        tail__json(m, p, out);
    else
        tail__human(m, p, out);
    ctl_sb_put(out, "\n", 1);
    fwrite(ctl_sb_str(out), 1, out->len, stdout);
    fflush(stdout);
}

/* The receive loop; returns the exit code. */
static int tail__loop(const ctl_opts *o, ctl_conn *c, ctl_payload *p, int json)
{
    ctl_sb out;
    ctl_sb_init(&out);
    long seen = 0;
    int64_t end = o->wait_s > 0 ? ctl_mono_us() + (int64_t)(o->wait_s * 1e6) : 0;
    int rc = CTL_EXIT_OK;
    while (!ctl_stop && (o->count <= 0 || seen < o->count) && (!end || ctl_mono_us() < end)) {
        ctl_msg *m;
        if ((rc = ctl_conn_next(c, 200, &m)) != CTL_EXIT_OK) {
            fprintf(stderr, "vigilctl tail: connection to %s lost\n", o->broker);
            break;
        }
        if (!m)
            continue;
        tail__one(m, p, json, &out);
        ctl_msg_free(m);
        seen++;
    }
    ctl_sb_free(&out);
    return rc;
}

int ctl_cmd_tail(ctl_opts *o)
{
    if (!o->broker) {
        fprintf(stderr, "vigilctl tail: --broker URI is required\n");
        return CTL_EXIT_USAGE;
    }
    int rc = ctl_conn_options(o);
    if (rc != CTL_EXIT_OK)
        return rc;
    char filter[512];
    if (o->nargs)
        snprintf(filter, sizeof filter, "%s", o->args[0]);
    else
        snprintf(filter, sizeof filter, "%s/#", o->root);
    int json = o->json || (!o->human && !isatty(STDOUT_FILENO));
    ctl_payload *p = ctl_payload_new();
    ctl_conn *c = NULL;
    if (!p)
        return CTL_EXIT_FAIL;
    if ((rc = ctl_conn_open(o, &c)) == CTL_EXIT_OK && (rc = ctl_conn_subscribe(c, filter)) == 0)
        rc = tail__loop(o, c, p, json);
    ctl_conn_close(c);
    ctl_payload_free(p);
    return rc;
}
