/*
 * sim_main.c - vigil-sim's command line: a declarative option table, the
 * --help text generated from it, validation, and dispatch to a mode.
 *
 * Each row of sim__options names an option, the type of its value and the
 * sim_config field it fills (offsetof), so adding an option is one row.
 * "--name value" and "--name=value" are both accepted.  The broker
 * password may come from $VIGIL_PASSWORD instead of --password (the flag
 * wins), as for vigilctl and vigil-batch.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "physics.h"
#include "scenario.h"
#include "simtime.h"
#include "vg_csv.h"
#include "vg_error.h"
#include "vg_model.h"
#include "vg_msg.h"

volatile sig_atomic_t sim_stop_flag = 0;

enum sim_opt_kind { OPT_FLAG, OPT_STR, OPT_U32, OPT_U64, OPT_DBL };

/* One command-line option. */
typedef struct sim_opt {
    const char *name;    /* without the leading "--" */
    int kind;            /* enum sim_opt_kind */
    size_t offset;       /* field of sim_config it sets */
    const char *metavar; /* shown in --help, NULL for flags */
    const char *help;    /* one line */
} sim_opt;

#define OPT(n, k, f, m, h)                                                                         \
    {                                                                                              \
        n, k, offsetof(sim_config, f), m, h                                                        \
    }
#define OPT_GROUP(title)                                                                           \
    {                                                                                              \
        NULL, 0, 0, NULL, title                                                                    \
    }

static const sim_opt sim__options[] = {
    OPT_GROUP("Simulated fleet"),
    OPT("broker", OPT_STR, broker, "URI",
        "MQTT broker, e.g. tcp://127.0.0.1:1883;\nssl:// or mqtts:// for TLS"),
    OPT("devices", OPT_U32, devices, "N", "number of devices (default 1)"),
    OPT("prefix", OPT_STR, prefix, "P", "devices are named P-0 .. P-<N-1> (default sim)"),
    OPT("rate", OPT_DBL, rate_hz, "HZ", "samples per second per channel (default 10)"),
    OPT("batch", OPT_U32, batch, "ROWS", "samples per channel per batch (default 10)"),
    OPT("duration", OPT_DBL, duration_s, "S", "simulated seconds to run (default 60)"),
    OPT("seed", OPT_U64, seed, "K", "random seed; same seed, same bytes (default 1)"),
    OPT("scenario", OPT_STR, scenario_text, "NAME[:CH]", "fault scenario (default normal), below"),
    OPT("truth", OPT_STR, truth, "FILE", "write the injected faults as CSV"),
    OPT("start", OPT_STR, start_text, "TIME",
        "simulated start, YYYY-MM-DD HH:MM:SS or epoch\n"
        "seconds, UTC (default 2024-01-01 08:00:00)"),
    OPT("restart-temp", OPT_DBL, restart_temp_c, "C",
        "a reset restarts a stopped machine only below C\n(default 60)"),
    OPT_GROUP("Replay"),
    OPT("device", OPT_STR, device, "ID", "device id for --replay (or the one fleet device)"),
    OPT("replay", OPT_STR, replay, "FILE.csv", "publish a vigil-replay CSV file as device ID"),
    OPT_GROUP("Pacing and publishing"),
    OPT("speed", OPT_DBL, speed, "X",
        "simulated/recorded time runs X times wall time;\n0 = as fast as acked (default 1)"),
    OPT("max-rate", OPT_FLAG, max_rate, NULL,
        "benchmark: publish as fast as the in-flight\nwindow allows and report the rates"),
    OPT("inflight", OPT_U32, inflight, "W", "unacknowledged batches per device (default 32)"),
    OPT("device-ack", OPT_FLAG, device_ack, NULL,
        "a batch is acknowledged when vigild's\nROOT/DEV/samples/ack covers it (not at PUBACK)"),
    OPT("ack-timeout", OPT_DBL, ack_timeout_s, "S",
        "--device-ack: re-send PUBACKed batches\nstill not covered after S s (default 2)"),
    OPT("drain", OPT_DBL, drain_s, "S", "at the end wait up to S s for PUBACKs (default 30)"),
    OPT("connect-timeout", OPT_DBL, connect_s, "S", "give up connecting after S s (default 10)"),
    OPT("root", OPT_STR, root, "TOPIC", "topic root (default vigil/v1)"),
    OPT_GROUP("Broker login and TLS"),
    OPT("username", OPT_STR, auth.username, "NAME",
        "broker user name (default: each simulated\ndevice's id; the tools: none)"),
    OPT("password", OPT_STR, auth.password, "PW", "broker password (prefer $VIGIL_PASSWORD)"),
    OPT("ca-file", OPT_STR, auth.ca_file, "PEM",
        "TLS CA bundle the broker's certificate\nchains to"),
    OPT("cert-file", OPT_STR, auth.cert_file, "PEM", "TLS client certificate"),
    OPT("key-file", OPT_STR, auth.key_file, "PEM", "TLS client key"),
    OPT("dump", OPT_STR, dump, "FILE", "write every published payload to FILE (--decode)"),
    OPT("dry-run", OPT_FLAG, dry_run, NULL, "simulate and --dump, unpaced, without a broker"),
    OPT("quiet", OPT_FLAG, quiet, NULL, "no per-event log lines on stderr"),
    OPT_GROUP("Test tools"),
    OPT("listen", OPT_FLAG, listen, NULL,
        "print received samples as CSV\n(device,seq,channel,t_us,value)"),
    OPT("topic", OPT_STR, topic, "FILTER", "--listen topic filter (default ROOT/+/samples)"),
    OPT("out", OPT_STR, out, "FILE", "--listen writes to FILE (default stdout)"),
    OPT("ready-file", OPT_STR, ready_file, "FILE", "--listen creates FILE once subscribed"),
    OPT("idle", OPT_DBL, idle_s, "S", "--listen stops after S s without messages"),
    OPT("expect", OPT_U64, expect, "N", "--listen stops after N samples"),
    OPT("send-shutdown", OPT_STR, send_shutdown, "DEV", "publish a shutdown command to DEV"),
    OPT("channel", OPT_STR, channel, "CH", "channel named in --send-shutdown (default temp)"),
    OPT("retain", OPT_FLAG, retain, NULL, "publish the --send-shutdown retained (latched)"),
    OPT("clear-shutdown", OPT_STR, clear_shutdown, "DEV", "clear DEV's retained shutdown"),
    OPT("send-reset", OPT_STR, send_reset, "DEV", "publish a reset command to DEV"),
    OPT("decode", OPT_STR, decode, "FILE", "print a --dump FILE as --listen CSV"),
    OPT("help", OPT_FLAG, help, NULL, "this text"),
};

#define SIM_NOPT (sizeof sim__options / sizeof sim__options[0])

static const char sim__usage[] =
    "usage: vigil-sim --broker URI --devices N --rate HZ --duration S [--seed K]\n"
    "                 [--scenario NAME[:CHANNEL]] [--truth FILE] [options]\n"
    "       vigil-sim --broker URI --device ID --replay FILE.csv [--speed X]\n"
    "       vigil-sim --broker URI --listen | --send-shutdown DEV | --send-reset DEV\n"
    "       vigil-sim --decode DUMP\n";

static const char sim__notes[] =
    "Channels: temp (C), vib (mm/s RMS), pressure (bar), load (0..1), in batches\n"
    "on ROOT/<dev>/samples at QoS 1.  Each device obeys ROOT/<dev>/cmd/shutdown\n"
    "(the machine stops and cools towards ambient) and ROOT/<dev>/cmd/reset\n"
    "(restarts it once the cause has cleared and temp < --restart-temp).\n"
    "\n"
    "Scenarios: normal, overheat, drift, spike, stuck, dropout, noisy, or mixed\n"
    "(device i gets the (i mod 7)-th of those, in that order).  :CHANNEL moves a\n"
    "sensor fault; defaults: drift and spike temp, stuck pressure, noisy vib,\n"
    "dropout * (the whole device).\n"
    "\n"
    "Fault timing (n = duration * rate ticks; windows on ticks, [start, end)):\n"
    "  every fault starts at 25% of the run; stuck, dropout and noisy end at 60%,\n"
    "  drift at 85% (linear, +12 C on temp); spike: up to 5 single samples\n"
    "  (+60 C on temp) over 25%..60%, at least 10 samples apart; overheat\n"
    "  (cooling failure) lasts until a shutdown stops the machine: from the\n"
    "  default start temp passes 95 C ~15-21 s and the 120 C damage limit\n"
    "  ~27-34 s after onset (sooner at the 14:00 load peak, later at night;\n"
    "  always 8 s or more apart).  --truth lists the actual windows.\n"
    "\n"
    "Simulated time starts at --start and advances 1/rate per tick; with --speed\n"
    "0, --max-rate or --dry-run it runs as fast as acknowledgements allow.  Same\n"
    "seed and no command received: byte-identical payloads (compare --dump files).\n"
    "\n"
    "Login: without --username every simulated device logs in as its own id, as\n"
    "the deploy ACL expects (one password file entry per device; all devices\n"
    "share --password); --username NAME logs every device in as NAME, for a\n"
    "permissive test broker.  Environment: VIGIL_PASSWORD (when no --password).\n"
    "\n"
    "Exit status: 0 ok, 1 error (also: the broker refused the login or TLS\n"
    "failed), 2 bad usage, 3 some batches not acknowledged.\n";

/* Prints an option's help text, indenting its continuation lines. */
static void sim__help_text(FILE *f, const char *h)
{
    for (; *h; h++) {
        if (*h == '\n')
            fprintf(f, "\n%29s", "");
        else
            fputc(*h, f);
    }
}

/* Prints --help. */
static void sim__help(FILE *f)
{
    fputs(sim__usage, f);
    for (size_t i = 0; i < SIM_NOPT; i++) {
        const sim_opt *o = &sim__options[i];
        if (!o->name) {
            fprintf(f, "\n%s:\n", o->help);
            continue;
        }
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->metavar ? " " : "",
                 o->metavar ? o->metavar : "");
        fprintf(f, "  %-26s ", left);
        sim__help_text(f, o->help);
        fputc('\n', f);
    }
    fputc('\n', f);
    fputs(sim__notes, f);
}

/* Sets the defaults. */
static void sim__defaults(sim_config *c)
{
    memset(c, 0, sizeof *c);
    c->root = "vigil/v1";
    c->devices = 1;
    c->prefix = "sim";
    c->rate_hz = 10.0;
    c->batch = 10;
    c->duration_s = 60.0;
    c->seed = 1;
    c->scenario_text = "normal";
    c->start_us = SIM_DEFAULT_START_US;
    c->restart_temp_c = 60.0;
    c->speed = 1.0;
    c->inflight = 32;
    c->ack_timeout_s = 2.0;
    c->drain_s = 30.0;
    c->connect_s = 10.0;
}

/* Finds the option named s[0..len). */
static const sim_opt *sim__find(const char *s, size_t len)
{
    for (size_t i = 0; i < SIM_NOPT; i++) {
        const char *n = sim__options[i].name;
        if (n && strlen(n) == len && memcmp(n, s, len) == 0)
            return &sim__options[i];
    }
    return NULL;
}

/* Parses an unsigned decimal into *out (max `max`). */
static int sim__parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return VG_ESYNTAX;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return VG_ESYNTAX;
    *out = v;
    return VG_OK;
}

/* Stores value text v into the field of option o. */
static int sim__store(sim_config *c, const sim_opt *o, const char *v)
{
    char *field = (char *)c + o->offset;
    uint64_t u;
    char *end;
    switch (o->kind) {
    case OPT_STR:
        memcpy(field, &v, sizeof v);
        return VG_OK;
    case OPT_U32:
        if (sim__parse_uint(v, UINT32_MAX, &u) != VG_OK)
            return VG_ESYNTAX;
        *(uint32_t *)(void *)field = (uint32_t)u;
        return VG_OK;
    case OPT_U64:
        if (sim__parse_uint(v, UINT64_MAX, &u) != VG_OK)
            return VG_ESYNTAX;
        memcpy(field, &u, sizeof u);
        return VG_OK;
    default:
        errno = 0;
        double d = strtod(v, &end);
        if (errno || *end || end == v || d != d)
            return VG_ESYNTAX;
        memcpy(field, &d, sizeof d);
        return VG_OK;
    }
}

/* Parses argv into *c.  VG_OK or VG_EINVAL (message printed). */
static int sim__parse(int argc, char **argv, sim_config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            fprintf(stderr, "vigil-sim: unexpected argument \"%s\"\n", a);
            return VG_EINVAL;
        }
        const char *eq = strchr(a + 2, '=');
        size_t nlen = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const sim_opt *o = sim__find(a + 2, nlen);
        if (!o) {
            fprintf(stderr, "vigil-sim: unknown option \"%s\" (see --help)\n", a);
            return VG_EINVAL;
        }
        if (o->kind == OPT_FLAG) {
            *((bool *)(void *)((char *)c + o->offset)) = true;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v || sim__store(c, o, v) != VG_OK) {
            fprintf(stderr, "vigil-sim: --%s needs %s\n", o->name, o->metavar);
            return VG_EINVAL;
        }
    }
    return VG_OK;
}

/* Number of modes selected. */
static int sim__modes(const sim_config *c)
{
    return (c->replay != NULL) + c->listen + (c->send_shutdown != NULL) + (c->send_reset != NULL) +
           (c->clear_shutdown != NULL) + (c->decode != NULL);
}

/* Checks a device id option. */
static int sim__check_device(const char *what, const char *id)
{
    if (id && !vg_valid_device(id, strlen(id))) {
        fprintf(stderr, "vigil-sim: %s \"%s\" is not a valid device id ([A-Za-z0-9_-]{1,64})\n",
                what, id);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* Checks the options of a fleet run and parses scenario and start. */
static int sim__check_fleet(sim_config *c)
{
    char err[128];
    if (c->devices == 0 || c->rate_hz <= 0 || c->duration_s <= 0 ||
        c->duration_s * c->rate_hz < 1) {
        fprintf(stderr, "vigil-sim: --devices, --rate and --duration must give at least one "
                        "sample\n");
        return VG_EINVAL;
    }
    if (c->device && c->devices != 1) {
        fprintf(stderr, "vigil-sim: --device names a single device; use --prefix for a fleet\n");
        return VG_EINVAL;
    }
    if (sim_scenario_parse(c->scenario_text, &c->scenario, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-sim: --scenario: %s\n", err);
        return VG_EINVAL;
    }
    if (c->start_text && vg_csv_parse_time(c->start_text, strlen(c->start_text), &c->start_us)) {
        fprintf(stderr, "vigil-sim: --start: bad time \"%s\"\n", c->start_text);
        return VG_EINVAL;
    }
    return VG_OK;
}

/* Checks option combinations.  VG_OK or VG_EINVAL (message printed). */
static int sim__check(sim_config *c)
{
    if (sim__modes(c) > 1) {
        fprintf(stderr, "vigil-sim: choose one of --replay, --listen, --send-shutdown, "
                        "--send-reset, --clear-shutdown, --decode\n");
        return VG_EINVAL;
    }
    if (!c->broker && !c->decode && !(c->dry_run && sim__modes(c) == 0)) {
        fprintf(stderr, "vigil-sim: --broker URI is required\n");
        return VG_EINVAL;
    }
    if (c->batch == 0 || c->batch > VG_BATCH_MAX_SAMPLES || c->inflight == 0 ||
        c->inflight > 65535 || c->speed < 0) {
        fprintf(stderr, "vigil-sim: --batch 1..%u, --inflight 1..65535, --speed >= 0\n",
                VG_BATCH_MAX_SAMPLES);
        return VG_EINVAL;
    }
    if (sim__check_device("--device", c->device) ||
        sim__check_device("--send-shutdown", c->send_shutdown) ||
        sim__check_device("--send-reset", c->send_reset) ||
        sim__check_device("--clear-shutdown", c->clear_shutdown))
        return VG_EINVAL;
    if (c->replay && !c->device) {
        fprintf(stderr, "vigil-sim: --replay needs --device ID\n");
        return VG_EINVAL;
    }
    if (c->replay && c->dry_run) {
        fprintf(stderr, "vigil-sim: --replay needs a broker (no --dry-run)\n");
        return VG_EINVAL;
    }
    return sim__modes(c) == 0 ? sim__check_fleet(c) : VG_OK;
}

/* SIGINT/SIGTERM: the first asks every loop to stop, drain and report; a
 * second one also cuts the drain short. */
static void sim__on_signal(int sig)
{
    (void)sig;
    if (sim_stop_flag < 2)
        sim_stop_flag = sim_stop_flag + 1;
}

/* Installs the signal handlers (no SA_RESTART: sleeps are interrupted). */
static void sim__signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = sim__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Parses and checks the command line, then runs the one mode it selects;
 * returns that mode's exit status (2 for bad usage). */
int main(int argc, char **argv)
{
    sim_config cfg;
    sim__defaults(&cfg);
    if (sim__parse(argc, argv, &cfg) != VG_OK)
        return 2;
    const char *env_pw = getenv("VIGIL_PASSWORD");
    if (!cfg.auth.password && env_pw && env_pw[0])
        cfg.auth.password = env_pw; /* the flag wins */
    if (cfg.help) {
        sim__help(stdout);
        return 0;
    }
    if (sim__check(&cfg) != VG_OK)
        return 2;
    sim__signals();
    if (cfg.replay)
        return sim_run_replay(&cfg);
    if (cfg.listen)
        return sim_tool_listen(&cfg);
    if (cfg.send_shutdown || cfg.send_reset || cfg.clear_shutdown)
        return sim_tool_send(&cfg);
    if (cfg.decode)
        return sim_tool_decode(&cfg);
    return sim_run_fleet(&cfg);
}
