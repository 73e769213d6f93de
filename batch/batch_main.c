/*
 * batch_main.c - vigil-batch's command line: a table of subcommands, a
 * table of options (each naming the subcommands that take it), --help per
 * subcommand, and exit codes (cli.h: 0 ok, 1 failure, 2 usage, 3 broker
 * unreachable, 4 broker refused the login).  The broker options (TLS files,
 * user name, password; $VIGIL_PASSWORD when --password is not given) are
 * shared by ingest, publish and run and named as vigilctl's.
 *
 *   vigil-batch ingest  --broker URI --warehouse FILE
 *   vigil-batch import  --warehouse FILE SPOOL.db...
 *   vigil-batch retrain --warehouse FILE --out DIR [--sign-key FILE] [--shard I/N]
 *   vigil-batch publish --broker URI --bundles DIR [--sign-key FILE | --verify-key FILE]
 *   vigil-batch report  --warehouse FILE --out report.html
 *   vigil-batch run     --warehouse FILE --out DIR --broker URI --sign-key FILE --report FILE
 *   vigil-batch keygen  PREFIX
 *   vigil-batch label   --warehouse FILE --device ID --from S --to S [--channel C]
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf_file.h"
#include "import.h"
#include "keys.h"
#include "progress.h"
#include "vg_error.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

static int cmd_import(vb_cli *c);
static int cmd_keygen(vb_cli *c);
static int cmd_label(vb_cli *c);

/* A subcommand. */
typedef struct vb_cmd {
    const char *name;     /* as typed */
    const char *usage;    /* synopsis after the name */
    const char *summary;  /* one line */
    const char *required; /* option names that must be given, space separated */
    int min_files;        /* positional arguments at least */
    int (*fn)(vb_cli *c); /* runner */
} vb_cmd;

static const vb_cmd commands[] = {
    {"ingest", "--broker URI --warehouse FILE [options]",
     "long-running archive sink (MQTT 5 persistent session and subscriptions)", "broker warehouse",
     0, vb_cmd_ingest},
    {"import", "--warehouse FILE [--device ID] SPOOL.db...",
     "load device spool files carried by other means", "warehouse", 1, cmd_import},
    {"retrain", "--warehouse FILE --out DIR [--sign-key FILE] [--shard I/N] [options]",
     "fit, backtest and write candidate bundles", "warehouse out", 0, vb_cmd_retrain},
    {"publish",
     "--broker URI --bundles DIR [--sign-key FILE | --verify-key FILE] [--warehouse FILE]",
     "sign, publish retained and record in the model registry", "broker bundles", 0,
     vb_cmd_publish},
    {"report", "--warehouse FILE --out report.html [--json FILE]",
     "self-contained HTML report and JSON summary", "warehouse out", 0, vb_cmd_report},
    {"run", "--warehouse FILE --out DIR --broker URI --sign-key FILE --report FILE [options]",
     "the nightly job: retrain, publish, report", "warehouse out broker sign-key report", 0,
     vb_cmd_run},
    {"keygen", "PREFIX", "make an Ed25519 key pair PREFIX.key / PREFIX.pub", "", 1, cmd_keygen},
    {"label", "--warehouse FILE --device ID --from S --to S [--channel C] [--note TEXT]",
     "record a labelled incident (excluded from training, scored in backtests)",
     "warehouse device from to", 0, cmd_label},
};

/* An option: long name, argument, the subcommands that take it, help. */
typedef struct vb_opt {
    const char *name; /* --name */
    const char *arg;  /* argument placeholder, NULL for a flag */
    const char *cmds; /* subcommands, space separated */
    const char *help; /* one line */
} vb_opt;

static const vb_opt options[] = {
    {"broker", "URI", "ingest publish run",
     "MQTT broker, tcp://host:port; ssl:// or mqtts:// for TLS"},
    {"username", "NAME", "ingest publish run", "broker user name (deploy ACL: batch)"},
    {"password", "PW", "ingest publish run", "broker password (prefer $VIGIL_PASSWORD)"},
    {"ca-file", "PEM", "ingest publish run", "TLS CA bundle the broker's certificate chains to"},
    {"cert-file", "PEM", "ingest publish run", "TLS client certificate"},
    {"key-file", "PEM", "ingest publish run", "TLS client key"},
    {"warehouse", "FILE", "ingest import retrain publish report run label",
     "warehouse SQLite file"},
    {"out", "DIR|FILE", "retrain report run",
     "bundle directory (retrain, run) or HTML file (report)"},
    {"bundles", "DIR", "publish", "directory written by retrain"},
    {"sign-key", "FILE", "retrain publish run", "Ed25519 secret key file (hex)"},
    {"verify-key", "FILE", "publish", "Ed25519 public key to verify signed bundles"},
    {"shard", "I/N", "retrain run", "only devices with hash(id) mod N == I"},
    {"config", "FILE", "retrain run", "envelopes and detector config (INI, as vigild's)"},
    {"devices", "FILE", "ingest", "allow-list of device ids, one a line"},
    {"device", "ID", "import label", "device id (import: else read from the spool)"},
    {"channel", "NAME", "label", "channel of the incident (default: all)"},
    {"note", "TEXT", "label", "free text"},
    {"from", "S", "retrain run label", "start, epoch seconds (retrain: training range)"},
    {"to", "S", "retrain run label", "end (exclusive), epoch seconds"},
    {"days", "D", "retrain run", "automatic training range: D days up to the newest sample (28)"},
    {"alarms-per-week", "X", "retrain run", "target false alarms per device-week (1)"},
    {"max-alert-ratio", "R", "retrain run", "guardrail: hold back above R x current alerts (2)"},
    {"min-alerts", "N", "retrain run", "guardrail: floor of the ratio's base (5)"},
    {"prior-n0", "N", "retrain run", "shrinkage toward the fleet prior, samples (5000)"},
    {"trip-margin", "S", "retrain run", "seconds excluded around each trip (3600)"},
    {"report", "FILE", "run", "HTML report path"},
    {"json", "FILE", "report", "JSON summary path (default: the HTML path with .json)"},
    {"recent-hours", "H", "report run", "chart window per channel (24)"},
    {"topic-root", "ROOT", "ingest publish run", "topic root (vigil/v1)"},
    {"client-id", "ID", "ingest", "MQTT client id, stable per worker (vigil-batch-ingest)"},
    {"session-expiry", "S", "ingest", "persistent session lifetime on the broker (3600)"},
    {"share", "GROUP", "ingest",
     "shared subscription $share/GROUP/... for several workers (see docs/BATCH.md)"},
    {"idle-exit", "S", "ingest", "exit after S seconds without messages (0: never)"},
    {"ready-file", "FILE", "ingest", "touched once subscribed"},
    {"help", NULL, "", "this help"},
};

#define NOPT (sizeof options / sizeof options[0])

/* True when word `w` is in the space-separated list. */
static int in_list(const char *list, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return 1;
    return 0;
}

/* Prints the help of one subcommand (or the overview when NULL). */
static void usage(FILE *f, const vb_cmd *cmd)
{
    if (!cmd) {
        fprintf(f, "vigil-batch %s - the nightly companion of vigild\n\nusage:\n", VIGIL_VERSION);
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
            fprintf(f, "  vigil-batch %-8s %s\n", commands[i].name, commands[i].summary);
        fprintf(f, "\n'vigil-batch CMD --help' lists CMD's options.  Exit: 0 ok, 1 failure, "
                   "2 usage,\n3 broker unreachable (connection, TLS, timeout), 4 broker refused "
                   "the login.\n");
        return;
    }
    fprintf(f, "usage: vigil-batch %s %s\n  %s\n\noptions:\n", cmd->name, cmd->usage, cmd->summary);
    for (size_t i = 0; i < NOPT; i++)
        if (in_list(options[i].cmds, cmd->name))
            fprintf(f, "  --%-16s %-9s %s\n", options[i].name, options[i].arg ? options[i].arg : "",
                    options[i].help);
    if (in_list("ingest publish run", cmd->name))
        fprintf(f, "\nenvironment: VIGIL_PASSWORD (broker password when --password is not "
                   "given)\nexit: 0 ok, 1 failure, 2 usage, 3 broker unreachable (connection, "
                   "TLS, timeout),\n      4 broker refused the login (not authorised)\n");
}

/* Parses a finite number; VG_ESYNTAX if not. */
static int num(const char *s, double *out)
{
    char *e;
    errno = 0;
    *out = strtod(s, &e);
    return errno || e == s || *e || !isfinite(*out) ? VG_ESYNTAX : VG_OK;
}

/* Stores option `name`'s value into the cli. */
static int set_opt(vb_cli *c, const char *name, const char *v)
{
    double x = 0;
    static const struct {
        const char *name; /* option */
        size_t off;       /* string field in vb_cli */
    } strs[] = {
        {"broker", offsetof(vb_cli, broker)},
        {"warehouse", offsetof(vb_cli, warehouse)},
        {"out", offsetof(vb_cli, out)},
        {"bundles", offsetof(vb_cli, bundles)},
        {"sign-key", offsetof(vb_cli, sign_key)},
        {"verify-key", offsetof(vb_cli, verify_key)},
        {"config", offsetof(vb_cli, config)},
        {"devices", offsetof(vb_cli, devices)},
        {"device", offsetof(vb_cli, device)},
        {"channel", offsetof(vb_cli, channel)},
        {"note", offsetof(vb_cli, note)},
        {"report", offsetof(vb_cli, report)},
        {"json", offsetof(vb_cli, json)},
        {"topic-root", offsetof(vb_cli, root)},
        {"client-id", offsetof(vb_cli, client_id)},
        {"share", offsetof(vb_cli, share)},
        {"username", offsetof(vb_cli, auth.username)},
        {"password", offsetof(vb_cli, auth.password)},
        {"ca-file", offsetof(vb_cli, auth.ca_file)},
        {"cert-file", offsetof(vb_cli, auth.cert_file)},
        {"key-file", offsetof(vb_cli, auth.key_file)},
        {"ready-file", offsetof(vb_cli, ready_file)},
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strcmp(strs[i].name, name) == 0) {
            memcpy((char *)c + strs[i].off, &v, sizeof v);
            return VG_OK;
        }
    if (strcmp(name, "shard") == 0)
        return vb_shard_parse(v, &c->rt.shard);
    if (num(v, &x) != VG_OK || x < 0)
        return VG_ESYNTAX;
    if (strcmp(name, "from") == 0)
        c->from_us = (int64_t)llround(x * 1e6);
    else if (strcmp(name, "to") == 0)
        c->to_us = (int64_t)llround(x * 1e6);
    else if (strcmp(name, "days") == 0)
        c->rt.days = x;
    else if (strcmp(name, "alarms-per-week") == 0)
        c->rt.alarms_per_week = x;
    else if (strcmp(name, "max-alert-ratio") == 0)
        c->rt.guard.max_alert_ratio = x;
    else if (strcmp(name, "min-alerts") == 0)
        c->rt.guard.min_alerts = (int64_t)x;
    else if (strcmp(name, "prior-n0") == 0)
        c->rt.prior_n0 = x;
    else if (strcmp(name, "trip-margin") == 0)
        c->rt.trip_margin_us = (int64_t)(x * 1e6);
    else if (strcmp(name, "recent-hours") == 0)
        c->recent_hours = x;
    else if (strcmp(name, "session-expiry") == 0)
        c->session_expiry = (uint32_t)x;
    else if (strcmp(name, "idle-exit") == 0)
        c->idle_exit = x;
    return VG_OK;
}

/* Checks that every required option of cmd was given. */
static int check_required(const vb_cli *c, const vb_cmd *cmd, char **given, int ngiven)
{
    char req[128];
    snprintf(req, sizeof req, "%s", cmd->required);
    for (char *w = strtok(req, " "); w; w = strtok(NULL, " ")) {
        int ok = 0;
        for (int i = 0; i < ngiven; i++)
            ok |= strcmp(given[i], w) == 0;
        if (!ok) {
            fprintf(stderr, "vigil-batch %s: --%s is required (see --help)\n", cmd->name, w);
            return VB_EXIT_USAGE;
        }
    }
    if (c->nfiles < cmd->min_files) {
        fprintf(stderr, "vigil-batch %s: missing argument: %s\n", cmd->name, cmd->usage);
        return VB_EXIT_USAGE;
    }
    return VB_EXIT_OK;
}

/* Parses argv after the subcommand into *c. */
static int parse(vb_cli *c, const vb_cmd *cmd, int argc, char **argv)
{
    struct option lo[NOPT + 1];
    char *given[NOPT];
    int ngiven = 0;
    for (size_t i = 0; i < NOPT; i++)
        lo[i] = (struct option){options[i].name, options[i].arg ? required_argument : no_argument,
                                NULL, (int)i + 1};
    lo[NOPT] = (struct option){0, 0, 0, 0};
    int ch, idx;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "+", lo, &idx)) != -1) {
        if (ch == '?' || ch == ':')
            return VB_EXIT_USAGE;
        const vb_opt *o = &options[ch - 1];
        if (strcmp(o->name, "help") == 0) {
            usage(stdout, cmd);
            return -1;
        }
        if (!in_list(o->cmds, cmd->name)) {
            fprintf(stderr, "vigil-batch %s: --%s does not apply here (see --help)\n", cmd->name,
                    o->name);
            return VB_EXIT_USAGE;
        }
        if (set_opt(c, o->name, optarg) != VG_OK) {
            fprintf(stderr, "vigil-batch %s: bad value for --%s: '%s'\n", cmd->name, o->name,
                    optarg);
            return VB_EXIT_USAGE;
        }
        given[ngiven++] = (char *)o->name;
    }
    c->files = argv + optind;
    c->nfiles = argc - optind;
    const char *env_pw = getenv("VIGIL_PASSWORD");
    if (!c->auth.password && env_pw && env_pw[0] && in_list("ingest publish run", cmd->name))
        c->auth.password = env_pw; /* the flag wins */
    return check_required(c, cmd, given, ngiven);
}

/* Accepts the sections that only vigild reads ([agent], [mqtt], [spool],
 * [action]) so that one file serves the device and the nightly job: the
 * envelopes must be the same on both sides.  Other sections stay errors. */
static int agent_section(void *user, const char *section, const char *key, const char *value)
{
    static const char *const agent_only[] = {"agent", "mqtt", "spool", "action"};
    (void)user, (void)key, (void)value;
    for (size_t i = 0; i < sizeof agent_only / sizeof agent_only[0]; i++)
        if (strcmp(section, agent_only[i]) == 0)
            return VG_OK;
    return VG_ECHANNEL;
}

/* Loads --config into c->conf (defaults when absent). */
static int load_conf(vb_cli *c)
{
    static vg_conf conf;
    char err[512];
    vg_conf_init(&conf);
    c->conf = &conf;
    if (!c->config)
        return VB_EXIT_OK;
    const char *what = NULL;
    if (vg_conf_load(&conf, c->config, agent_section, NULL, err, sizeof err) != VG_OK ||
        (vg_conf_validate(&conf, &what) != VG_OK &&
         snprintf(err, sizeof err, "%s: invalid setting %s", c->config, what) > 0)) {
        fprintf(stderr, "vigil-batch %s: %s\n", c->cmd, err);
        return VB_EXIT_FAIL;
    }
    return VB_EXIT_OK;
}

/* `import`: each spool file through the ingest path; a refused file does
 * not stop the others, but makes the exit status 1. */
static int cmd_import(vb_cli *c)
{
    char err[1024];
    vb_wh *w = NULL;
    if (vb_wh_open(c->warehouse, NULL, &w, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-batch import: %s\n", err);
        return VB_EXIT_FAIL;
    }
    vb_ingest *g = vb_ingest_create(w, NULL);
    int failed = !g;
    vb_progress p; /* a live line on a terminal, silent in logs */
    vb_progress_start(&p, "import", "files", (uint64_t)c->nfiles);
    for (int i = 0; g && i < c->nfiles; i++) {
        if (vb_import_spool(g, w, c->files[i], c->device, err, sizeof err) != VG_OK) {
            fprintf(stderr, "vigil-batch import: %s\n", err);
            failed++;
        }
        vb_progress_step(&p, (uint64_t)i + 1);
    }
    vb_progress_end(&p);
    if (g) {
        const vb_ingest_stats *st = vb_ingest_stats_get(g);
        fprintf(stderr,
                "vigil-batch import: %d files, %d refused; records new=%llu dup=%llu "
                "samples=%llu",
                c->nfiles, failed, (unsigned long long)st->records_new,
                (unsigned long long)st->records_dup, (unsigned long long)st->samples);
        for (int r = 0; r < VB_REJ_COUNT; r++)
            fprintf(stderr, " rejected_%s=%llu", vb_reject_name(r),
                    (unsigned long long)st->rejected[r]);
        fputc('\n', stderr);
    }
    vb_ingest_destroy(g);
    vb_wh_close(w);
    return failed ? VB_EXIT_FAIL : VB_EXIT_OK;
}

/* `keygen PREFIX`. */
static int cmd_keygen(vb_cli *c)
{
    char err[512];
    if (vb_keygen_files(c->files[0], err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-batch keygen: %s\n", err);
        return VB_EXIT_FAIL;
    }
    fprintf(stderr, "vigil-batch keygen: wrote %s.key and %s.pub\n", c->files[0], c->files[0]);
    return VB_EXIT_OK;
}

/* `label`: one incident into the warehouse. */
static int cmd_label(vb_cli *c)
{
    char err[512];
    vb_wh *w = NULL;
    if (!vg_valid_device(c->device, strlen(c->device)) || c->to_us <= c->from_us ||
        (c->channel && !vg_valid_channel(c->channel, strlen(c->channel)))) {
        fprintf(stderr, "vigil-batch label: need a valid --device, --channel and --from < --to\n");
        return VB_EXIT_USAGE;
    }
    int rc = vb_wh_open(c->warehouse, NULL, &w, err, sizeof err);
    if (rc == VG_OK && (rc = vb_wh_begin(w)) == VG_OK &&
        (rc = vb_wh_put_label(w, c->device, c->channel, c->from_us, c->to_us, c->note)) == VG_OK)
        rc = vb_wh_commit(w);
    if (rc != VG_OK)
        fprintf(stderr, "vigil-batch label: %s\n", w ? vb_wh_errmsg(w) : err);
    vb_wh_close(w);
    return rc == VG_OK ? VB_EXIT_OK : VB_EXIT_FAIL;
}

/* Defaults of every option. */
static void defaults(vb_cli *c)
{
    memset(c, 0, sizeof *c);
    vb_retrain_opts_init(&c->rt);
    c->root = "vigil/v1";
    c->client_id = "vigil-batch-ingest";
    c->session_expiry = 3600;
    c->recent_hours = 24;
}

int main(int argc, char **argv)
{
    static vb_cli cli;
    defaults(&cli);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? VB_EXIT_USAGE : VB_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vigil-batch %s\n", VIGIL_VERSION);
        return VB_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (strcmp(argv[1], commands[i].name) != 0)
            continue;
        cli.cmd = commands[i].name;
        int rc = parse(&cli, &commands[i], argc - 1, argv + 1);
        if (rc < 0)
            return VB_EXIT_OK;
        if (rc != VB_EXIT_OK)
            return rc;
        if (load_conf(&cli) != VB_EXIT_OK)
            return VB_EXIT_FAIL;
        return commands[i].fn(&cli);
    }
    fprintf(stderr, "vigil-batch: unknown command '%s' (see vigil-batch --help)\n", argv[1]);
    return VB_EXIT_USAGE;
}
