/*
 * agent_conf.c - vigild's settings tables, file and command line (see
 * agent_conf.h).  Adding a setting = adding a row.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent_conf.h"
#include "conf_file.h"
#include "log.h"
#include "vg_error.h"

#define AC(f)    offsetof(vgd_conf, f)
#define NO_FIELD ((size_t)-1)

const vgd_conf_key vgd_conf_keys[] = {
    {"agent", "broker", VGD_CT_STR, AC(broker), "", "broker URI (--broker)"},
    {"agent", "device", VGD_CT_STR, AC(device), "", "device id (--device)"},
    {"agent", "data_dir", VGD_CT_STR, AC(data_dir), "", "spool/model/latch dir (--data-dir)"},
    {"agent", "trust_key", VGD_CT_STR, AC(trust_key), "", "bundle public key file (hex)"},
    {"agent", "metrics_file", VGD_CT_STR, AC(metrics_file), "", "Prometheus textfile path"},
    {"agent", "log_level", VGD_CT_STR, AC(log_level), "info", "error|warning|info|debug"},
    {"agent", "log_target", VGD_CT_STR, AC(log_target), "stderr", "stderr|syslog"},
    {"agent", "root", VGD_CT_STR, AC(root), "vigil/v1", "topic root"},
    {"agent", "tick_ms", VG_CT_U32, AC(tick_ms), "100", "stale watchdog/housekeeping period"},
    {"agent", "status_ms", VG_CT_U32, AC(status_ms), "10000", "status heartbeat period"},
    {"agent", "metrics_ms", VG_CT_U32, AC(metrics_ms), "5000", "metrics file period"},
    {"mqtt", "username", VGD_CT_STR, AC(username), "", "broker user name"},
    {"mqtt", "password", VGD_CT_STR, AC(password), "", "broker password"},
    {"mqtt", "ca_file", VGD_CT_STR, AC(ca_file), "", "TLS CA bundle (PEM)"},
    {"mqtt", "cert_file", VGD_CT_STR, AC(cert_file), "", "TLS client certificate (PEM)"},
    {"mqtt", "key_file", VGD_CT_STR, AC(key_file), "", "TLS client key (PEM)"},
    {"mqtt", "keepalive_s", VG_CT_U32, AC(keepalive_s), "20", "MQTT keep-alive, s"},
    {"mqtt", "retry_min_s", VG_CT_U32, AC(retry_min_s), "1", "reconnect backoff start, s"},
    {"mqtt", "retry_max_s", VG_CT_U32, AC(retry_max_s), "30", "reconnect backoff cap, s"},
    {"mqtt", "max_buffered", VG_CT_U32, AC(max_buffered), "1000",
     "publishes kept while disconnected"},
    {"spool", "quota_bytes", VGD_CT_U64, AC(quota_bytes), "0", "spool disk quota (0: none)"},
    {"spool", "commit_every", VG_CT_U32, AC(commit_every), "256",
     "most records per group commit of the spool writer"},
    {"spool", "gather_us", VG_CT_U32, AC(gather_us), "2000",
     "longest a group of sample batches waits for more before its commit, us"},
    {"spool", "commit_ms", VG_CT_U32, AC(commit_ms), "1000",
     "unused: the spool writer commits as soon as it can (kept for old files)"},
    {"spool", "sync_full", VG_CT_BOOL, AC(sync_full), "false", "fsync every commit"},
    {"spool", "uplink_items", VG_CT_U32, AC(uplink_items), "256", "records per archive chunk"},
    {"spool", "uplink_bytes", VG_CT_U32, AC(uplink_bytes), "262144",
     "payload bytes per archive chunk"},
    {"spool", "uplink_inflight", VG_CT_U32, AC(uplink_inflight), "8",
     "archive chunks awaiting PUBACK"},
    {"spool", "uplink_rate", VGD_CT_U64, AC(uplink_rate), "0",
     "backfill bytes/s; alerts and trips exempt (0: unlimited)"},
    {"action", "command", VGD_CT_STR, AC(command), "", "shell command run on a trip"},
    {"action", "timeout_ms", VG_CT_U32, AC(action_timeout_ms), "5000",
     "the command is killed after this"},
    {"action", "sysfs_path", VGD_CT_STR, AC(sysfs_path), "", "file (GPIO/sysfs) written on trip"},
    {"action", "sysfs_value", VGD_CT_STR, AC(sysfs_value), "1", "value written there"},
    {NULL, NULL, 0, 0, NULL, NULL},
};

const vgd_cli_opt vgd_cli_opts[] = {
    {"broker", AC(broker), "URI",
     "broker, tcp:// or mqtt://host:port; ssl:// or mqtts:// for TLS (required)"},
    {"device", AC(device), "ID", "device id [A-Za-z0-9_-]{1,64} (required)"},
    {"data-dir", AC(data_dir), "DIR", "spool, last good model, latch (required)"},
    {"config", AC(config), "FILE", "INI config file (see --help-config)"},
    {"trust-key", AC(trust_key), "FILE", "Ed25519 public key (hex) that signs bundles"},
    {"metrics-file", AC(metrics_file), "FILE", "write Prometheus metrics there"},
    {"log-level", AC(log_level), "LEVEL", "error, warning, info (default) or debug"},
    {"help", NO_FIELD, NULL, "this text"},
    {"help-config", NO_FIELD, NULL, "every config key with its default"},
    {NULL, 0, NULL, NULL},
};

_Static_assert(offsetof(vgd_conf, det) == 0, "vgd_conf_init zeroes what follows det");

void vgd_conf_init(vgd_conf *c)
{
    /* det is first and vg_conf_init() sets it (without touching its unused
     * channel slots); everything after it is zeroed here */
    memset((char *)c + sizeof c->det, 0, sizeof(*c) - sizeof c->det);
    vg_conf_init(&c->det);
    for (const vgd_conf_key *k = vgd_conf_keys; k->name; k++)
        vgd_conf_set(c, k->section, k->name, k->dflt);
}

/* Converts one value by type into its field. */
static int conf__convert(const vgd_conf_key *k, vgd_conf *c, const char *value)
{
    char *field = (char *)c + k->offset;
    if (k->type == VGD_CT_STR) {
        size_t n = strlen(value);
        if (n >= VGD_STR_MAX)
            return VG_ETOOBIG;
        memcpy(field, value, n + 1);
        return VG_OK;
    }
    if (k->type == VGD_CT_U64) {
        char *end;
        if (*value == '-' || *value == '\0')
            return VG_ESYNTAX;
        unsigned long long u = strtoull(value, &end, 10);
        if (*end != '\0')
            return VG_ESYNTAX;
        uint64_t v = u;
        memcpy(field, &v, sizeof v);
        return VG_OK;
    }
    vg_conf_key core = {k->name, k->type, k->offset, k->dflt, k->desc};
    return vg_conf_convert(&core, c, value);
}

int vgd_conf_set(vgd_conf *c, const char *section, const char *key, const char *value)
{
    int known = 0;
    for (const vgd_conf_key *k = vgd_conf_keys; k->name; k++) {
        if (strcmp(k->section, section) != 0)
            continue;
        known = 1;
        if (strcmp(k->name, key) == 0)
            return conf__convert(k, c, value);
    }
    return known ? VG_EMISSING : VG_ECHANNEL;
}

/* libinih callback for the daemon's sections (conf_file.h). */
static int conf__other(void *user, const char *section, const char *key, const char *value)
{
    return vgd_conf_set(user, section, key, value);
}

static const vgd_cli_opt *conf__find_opt(const char *name, size_t len)
{
    for (const vgd_cli_opt *o = vgd_cli_opts; o->name; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

/* Walks argv: --name VALUE or --name=VALUE.  With `apply` 0 only --config
 * and the help flags are taken; with 1 every option is stored. */
static int conf__argv(vgd_conf *c, int argc, char **argv, int apply, int *what, char *err,
                      size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, errlen, "unexpected argument '%s' (try --help)", a);
            return VG_ESYNTAX;
        }
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const vgd_cli_opt *o = conf__find_opt(a + 2, len);
        if (!o) {
            snprintf(err, errlen, "unknown option '%s' (try --help)", a);
            return VG_ESYNTAX;
        }
        if (o->offset == NO_FIELD) {
            *what = strcmp(o->name, "help") == 0 ? VGD_CLI_HELP : VGD_CLI_HELP_CONFIG;
            continue;
        }
        const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!v) {
            snprintf(err, errlen, "option --%s needs a value", o->name);
            return VG_ESYNTAX;
        }
        if (strlen(v) >= VGD_STR_MAX) {
            snprintf(err, errlen, "--%s: value too long", o->name);
            return VG_ETOOBIG;
        }
        if (apply || strcmp(o->name, "config") == 0)
            strcpy((char *)c + o->offset, v);
    }
    return VG_OK;
}

/* Checks the settings that need more than a type. */
static int conf__check(const vgd_conf *c, char *err, size_t errlen)
{
    int level;
    const char *bad = NULL;
    if (!c->broker[0])
        bad = "--broker is required";
    else if (!vg_valid_device(c->device, strlen(c->device)))
        bad = "--device must be [A-Za-z0-9_-]{1,64}";
    else if (!c->data_dir[0])
        bad = "--data-dir is required";
    else if (vgd_log_parse_level(c->log_level, &level) != VG_OK)
        bad = "log level must be error, warning, info or debug";
    else if (strcmp(c->log_target, "stderr") != 0 && strcmp(c->log_target, "syslog") != 0)
        bad = "[agent] log_target must be stderr or syslog";
    else if (!c->root[0] || strchr(c->root, '+') || strchr(c->root, '#'))
        bad = "[agent] root must be a topic without wildcards";
    else if (c->tick_ms < 1 || c->tick_ms > 10000)
        bad = "[agent] tick_ms must be 1..10000";
    else if (c->retry_min_s < 1 || c->retry_max_s < c->retry_min_s)
        bad = "[mqtt] retry_min_s must be >= 1 and <= retry_max_s";
    else if (c->gather_us < 1 || c->gather_us > 1000000)
        bad = "[spool] gather_us must be 1..1000000 (1: commit at once)";
    else if (c->uplink_items < 1 || c->uplink_items > 4096 || c->uplink_inflight < 1)
        bad = "[spool] uplink_items must be 1..4096 and uplink_inflight >= 1";
    if (!bad)
        return VG_OK;
    snprintf(err, errlen, "%s", bad);
    return VG_EINVAL;
}

int vgd_conf_load(vgd_conf *c, int argc, char **argv, int *what, char *err, size_t errlen)
{
    vgd_conf_init(c);
    *what = VGD_CLI_RUN;
    int rc = conf__argv(c, argc, argv, 0, what, err, errlen);
    if (rc != VG_OK || *what != VGD_CLI_RUN)
        return rc;
    if (c->config[0]) {
        char path[VGD_STR_MAX];
        strcpy(path, c->config);
        rc = vg_conf_load(&c->det, path, conf__other, c, err, errlen);
        if (rc != VG_OK)
            return rc;
    }
    rc = conf__argv(c, argc, argv, 1, what, err, errlen);
    return rc != VG_OK ? rc : conf__check(c, err, errlen);
}

void vgd_conf_usage(FILE *f)
{
    fputs("usage: vigild --broker URI --device ID --data-dir DIR [--config FILE]\n"
          "              [--trust-key FILE] [--metrics-file FILE] [--log-level LEVEL]\n\n"
          "The edge agent: scores the device's samples, trips the safety shutdown,\n"
          "raises alerts, spools everything to SQLite and forwards it on archive.\n\n",
          f);
    for (const vgd_cli_opt *o = vgd_cli_opts; o->name; o++) {
        char left[40];
        snprintf(left, sizeof left, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-22s %s\n", left, o->help);
    }
    fputs("\nCommand-line values beat the config file's.  SIGTERM/SIGINT flush and exit,\n"
          "SIGHUP reloads the config file.  Exit status: 0 clean stop, 1 runtime error,\n"
          "2 bad usage or config.  See docs/OPERATIONS.md.\n",
          f);
}

void vgd_conf_print_keys(FILE *f)
{
    vg_conf_print_keys(f);
    const char *sec = "";
    for (const vgd_conf_key *k = vgd_conf_keys; k->name; k++) {
        if (strcmp(sec, k->section) != 0) {
            sec = k->section;
            fprintf(f, "%s[%s]\n", k == vgd_conf_keys ? "" : "\n", sec);
        }
        fprintf(f, "  %-16s %-8s %-9s %s\n", k->name,
                k->type == VGD_CT_STR   ? "string"
                : k->type == VGD_CT_U64 ? "uint64"
                : k->type == VG_CT_BOOL ? "bool"
                                        : "uint32",
                k->dflt[0] ? k->dflt : "\"\"", k->desc);
    }
}
