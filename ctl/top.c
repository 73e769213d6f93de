/*
 * top.c - `vigilctl top`: a live view of the fleet, one row per device,
 * built from the retained status messages, the alert stream and the
 * retained shutdown commands.
 *
 * Columns: device, online/offline, model version, samples/s, open alerts,
 * latched trip, spool backlog, age of the last status.  samples/s is the
 * difference of the status counter samples_in between the last two status
 * messages divided by the difference of their own timestamps, so it is as
 * fresh as vigild's status heartbeat ([agent] status_ms, 10 s by default)
 * and shows "-" until two statuses have been seen.  Open alerts are counted
 * from alert raised/cleared edges seen since vigilctl started (vigild does
 * not publish the set of open alerts, so alerts raised before start are
 * not known until they clear or re-raise).
 *
 * On a terminal (stdin and stdout): the alternate screen, the cursor
 * hidden, stdin in non-canonical no-echo mode to read 'q' without Enter; the
 * screen is redrawn in place every --interval.  The terminal is restored on
 * q, on SIGINT/SIGTERM (the handler only sets ctl_stop; the loop exits and
 * restores) and at exit.  Elsewhere (a pipe, a file, --plain): the same
 * table is printed every --interval, --iterations times (0 = forever).
 *
 * Cost: O(devices) per refresh, O(1) per message (linear device lookup
 * over at most TOP_MAX_DEV rows); memory is the fixed device table.
 */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "conn.h"
#include "ctl.h"
#include "payload.h"
#include "vg_error.h"
#include "vg_msg.h"

#define TOP_MAX_DEV  512 /* devices shown */
#define TOP_MAX_OPEN 32  /* open alert channels tracked per device */

/* One device row. */
typedef struct top_dev {
    char name[VG_DEVICE_MAX + 1];                /* device id */
    int have_status;                             /* a status was seen */
    int online, latched;                         /* from the last status */
    uint64_t model;                              /* model version */
    int64_t t_us, prev_t_us;                     /* last two status times */
    uint64_t samples, prev_samples;              /* their samples_in */
    int have_prev;                               /* two statuses with counters */
    uint64_t backlog;                            /* status counter backlog */
    int64_t seen_us;                             /* wall clock of the last status */
    uint64_t trip_id;                            /* retained shutdown's trip, 0 = none */
    char trip_chan[VG_CHANNEL_MAX + 1];          /* its channel */
    char open[TOP_MAX_OPEN][VG_CHANNEL_MAX + 1]; /* channels with a raised alert */
    int nopen;                                   /* entries used in open[] */
} top_dev;

/* The view. */
typedef struct top_view {
    top_dev dev[TOP_MAX_DEV]; /* rows, in order of first sight */
    int ndev;                 /* rows used */
    int tty;                  /* full-screen mode */
    struct termios saved;     /* terminal state to restore */
    int raw;                  /* saved is valid and must be restored */
} top_view;

static top_view view; /* one per process: the atexit restore needs it */

/* Finds or adds a device row; NULL when the table is full. */
static top_dev *top__dev(top_view *v, const char *name)
{
    for (int i = 0; i < v->ndev; i++)
        if (strcmp(v->dev[i].name, name) == 0)
            return &v->dev[i];
    if (v->ndev == TOP_MAX_DEV || !name[0])
        return NULL;
    top_dev *d = &v->dev[v->ndev++];
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    return d;
}

/* A status counter's value, or `dflt` when absent. */
static uint64_t top__counter(const vg_status *s, const char *name, uint64_t dflt)
{
    for (uint32_t i = 0; i < s->ncounter; i++)
        if (strcmp(s->counter[i].name, name) == 0)
            return s->counter[i].value;
    return dflt;
}

static void top__status(top_dev *d, const vg_status *s, int64_t rx_us)
{
    uint64_t n = top__counter(s, "samples_in", UINT64_MAX);
    d->online = s->online;
    d->latched = s->latched;
    d->model = s->model_version;
    d->backlog = top__counter(s, "backlog", 0);
    d->seen_us = rx_us;
    if (n != UINT64_MAX && d->have_status && s->t_us > d->t_us && n >= d->samples) {
        d->prev_t_us = d->t_us;
        d->prev_samples = d->samples;
        d->have_prev = 1;
    } else if (n == UINT64_MAX || (d->have_status && n < d->samples)) {
        d->have_prev = 0; /* restarted agent or no counter: start over */
    }
    if (n != UINT64_MAX) {
        d->samples = n;
        d->t_us = s->t_us;
    }
    if (!s->latched)
        d->trip_id = 0;
    d->have_status = 1;
}

static void top__alert(top_dev *d, const vg_alert *a)
{
    for (int i = 0; i < d->nopen; i++)
        if (strcmp(d->open[i], a->channel) == 0) {
            if (!a->raised)
                memcpy(d->open[i], d->open[--d->nopen], sizeof d->open[i]);
            return;
        }
    if (a->raised && d->nopen < TOP_MAX_OPEN)
        snprintf(d->open[d->nopen++], sizeof d->open[0], "%s", a->channel);
}

/* Folds one message into the view. */
static void top__fold(top_view *v, const ctl_msg *m)
{
    static union {
        vg_status s;
        vg_alert a;
        vg_shutdown t;
    } u;
    char name[VG_DEVICE_MAX + 1];
    int kind = ctl_topic_parse(m->topic, name, sizeof name);
    top_dev *d = top__dev(v, name);
    if (!d)
        return;
    if (kind == CTL_K_STATUS && vg_status_decode(m->payload, m->len, &u.s) == VG_OK)
        top__status(d, &u.s, m->rx_us);
    else if (kind == CTL_K_ALERT && vg_alert_decode(m->payload, m->len, &u.a) == VG_OK)
        top__alert(d, &u.a);
    else if (kind == CTL_K_SHUTDOWN && m->len == 0)
        d->trip_id = 0;
    else if (kind == CTL_K_SHUTDOWN && vg_shutdown_decode(m->payload, m->len, &u.t) == VG_OK) {
        d->trip_id = u.t.trip_id;
        snprintf(d->trip_chan, sizeof d->trip_chan, "%s", u.t.channel);
    }
}

/* Appends one device row. */
static void top__row(const top_dev *d, int64_t now_us, ctl_sb *o, const char *eol)
{
    char rate[24] = "-", trip[48] = "-", age[24] = "-", model[24] = "-";
    if (d->have_prev && d->t_us > d->prev_t_us)
        snprintf(rate, sizeof rate, "%.1f",
                 (double)(d->samples - d->prev_samples) * 1e6 / (double)(d->t_us - d->prev_t_us));
    if (d->trip_id)
        snprintf(trip, sizeof trip, "#%" PRIu64 " %s", d->trip_id, d->trip_chan);
    else if (d->latched)
        snprintf(trip, sizeof trip, "yes");
    if (d->have_status) {
        snprintf(age, sizeof age, "%.0fs", (double)(now_us - d->seen_us) / 1e6);
        snprintf(model, sizeof model, "%" PRIu64, d->model);
    }
    ctl_sb_printf(o, "%-20.20s %-8s %7s %10s %6d  %-18.18s %8" PRIu64 " %6s%s", d->name,
                  !d->have_status ? "?"
                  : d->online     ? "online"
                                  : "offline",
                  model, rate, d->nopen, trip, d->backlog, age, eol);
}

/* Renders the whole table into o. */
static void top__render(const top_view *v, const ctl_opts *opt, ctl_sb *o)
{
    const char *eol = v->tty ? "\033[K\r\n" : "\n";
    char t[40];
    int64_t now = ctl_wall_us();
    ctl_fmt_time(now, t);
    int online = 0, latched = 0;
    for (int i = 0; i < v->ndev; i++) {
        online += v->dev[i].online;
        latched += v->dev[i].trip_id || v->dev[i].latched;
    }
    ctl_sb_printf(o, "vigilctl top  %s  %.19s  devices %d  online %d  latched %d%s", opt->broker, t,
                  v->ndev, online, latched, eol);
    ctl_sb_printf(o, "%-20s %-8s %7s %10s %6s  %-18s %8s %6s%s", "DEVICE", "STATE", "MODEL",
                  "SAMPLES/S", "ALERTS", "LATCHED TRIP", "BACKLOG", "SEEN", eol);
    for (int i = 0; i < v->ndev; i++)
        top__row(&v->dev[i], now, o, eol);
    if (v->tty)
        ctl_sb_printf(o, "%s(q quits; samples/s from the status heartbeat)\033[J", eol);
}

/* Restores the terminal (idempotent; also registered with atexit). */
static void top__restore(void)
{
    if (!view.tty)
        return;
    if (view.raw)
        tcsetattr(STDIN_FILENO, TCSANOW, &view.saved);
    view.raw = 0;
    fputs("\033[?25h\033[?1049l", stdout);
    fflush(stdout);
    view.tty = 0;
}

/* Enters full-screen mode: alternate screen, no cursor, keys unbuffered. */
static void top__enter(void)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &view.saved) == 0) {
        t = view.saved;
        t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        t.c_cc[VMIN] = 0;
        t.c_cc[VTIME] = 0;
        view.raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
    }
    atexit(top__restore);
    fputs("\033[?1049h\033[?25l", stdout);
}

/* True when 'q' (or Q, or Ctrl-D) was typed. */
static int top__quit_key(void)
{
    struct pollfd p = {STDIN_FILENO, POLLIN, 0};
    char c[16];
    if (poll(&p, 1, 0) <= 0)
        return 0;
    ssize_t n = read(STDIN_FILENO, c, sizeof c);
    for (ssize_t i = 0; i < n; i++)
        if (c[i] == 'q' || c[i] == 'Q' || c[i] == 4)
            return 1;
    return 0;
}

/* Draws one frame (tty) or prints one table (plain). */
static void top__draw(const ctl_opts *o, ctl_sb *out)
{
    ctl_sb_clear(out);
    if (view.tty)
        ctl_sb_puts(out, "\033[H");
    top__render(&view, o, out);
    if (!view.tty)
        ctl_sb_puts(out, "\n");
    fwrite(ctl_sb_str(out), 1, out->len, stdout);
    fflush(stdout);
}

/* Main loop: fold messages, redraw every interval, watch for q. */
static int top__loop(const ctl_opts *o, ctl_conn *c)
{
    ctl_sb out;
    ctl_sb_init(&out);
    int64_t period = (int64_t)(o->interval_s * 1e6), next = ctl_mono_us() + 300000;
    long frames = 0;
    int rc = CTL_EXIT_OK;
    while (!ctl_stop && !(view.tty && top__quit_key())) {
        ctl_msg *m;
        if ((rc = ctl_conn_next(c, 100, &m)) != CTL_EXIT_OK)
            break;
        if (m)
            top__fold(&view, m);
        ctl_msg_free(m);
        if (ctl_mono_us() < next)
            continue;
        top__draw(o, &out);
        next = ctl_mono_us() + period;
        if (!view.tty && o->iterations > 0 && ++frames >= o->iterations)
            break;
    }
    ctl_sb_free(&out);
    top__restore();
    if (rc != CTL_EXIT_OK)
        fprintf(stderr, "vigilctl top: connection to %s lost\n", o->broker);
    return rc;
}

/* Subscribes to every device's status, alerts and shutdown. */
static int top__subscribe(const ctl_opts *o, ctl_conn *c)
{
    static const char *const suffix[] = {"status", "alerts", "cmd/shutdown"};
    char t[512];
    for (size_t i = 0; i < sizeof suffix / sizeof suffix[0]; i++) {
        snprintf(t, sizeof t, "%s/+/%s", o->root, suffix[i]);
        int rc = ctl_conn_subscribe(c, t);
        if (rc != CTL_EXIT_OK)
            return rc;
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_top(ctl_opts *o)
{
    if (!o->broker) {
        fprintf(stderr, "vigilctl top: --broker URI is required\n");
        return CTL_EXIT_USAGE;
    }
    if (o->interval_s < 0.1)
        o->interval_s = 0.1;
    int rc = ctl_conn_options(o);
    ctl_conn *c = NULL;
    if (rc == CTL_EXIT_OK && (rc = ctl_conn_open(o, &c)) == CTL_EXIT_OK &&
        (rc = top__subscribe(o, c)) == CTL_EXIT_OK) {
        view.tty = !o->plain && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        if (view.tty)
            top__enter();
        rc = top__loop(o, c);
    }
    ctl_conn_close(c);
    return rc;
}
