/*
 * agent_conf.h - vigild's configuration: the detection config of the core
 * (vg_conf: [detect], [channel.*]) plus the daemon's own sections [agent],
 * [mqtt], [spool] and [action], and the command line, whose values beat
 * the file's.
 *
 * Every daemon setting is one row of a declarative table (section, key,
 * type, offset into vgd_conf, default text, description), exactly like the
 * core's vg_conf tables: parsing is one lookup plus one typed conversion,
 * --help-config prints the tables, and the unit tests check that each
 * row's default text equals vgd_conf_init()'s value.  The command-line
 * options are a table too (name, field, help).
 *
 * Cost: loading is one pass over the file (libinih) plus O(keys) per line.
 * Memory: a vgd_conf is about 70 KiB (the core's 256-channel table); the
 * daemon keeps one on the heap (two during a SIGHUP reload).
 */
#ifndef VGD_AGENT_CONF_H
#define VGD_AGENT_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vg_conf.h"

#define VGD_STR_MAX 256 /* longest string setting (paths, URIs), bytes + NUL */

enum vgd_conf_type {
    VGD_CT_STR = 100, /* char[VGD_STR_MAX] */
    VGD_CT_U64        /* uint64_t */
};

typedef struct vgd_conf {
    vg_conf det; /* [detect] and [channel.*] (the core's tables) */
    /* command line (stable, DESIGN.md) and [agent] */
    char broker[VGD_STR_MAX];       /* broker URI: tcp://, ssl://, mqtts://, ws:// */
    char device[VGD_STR_MAX];       /* this device's id */
    char data_dir[VGD_STR_MAX];     /* spool, model and latch files */
    char config[VGD_STR_MAX];       /* config file path (command line only) */
    char trust_key[VGD_STR_MAX];    /* Ed25519 public key file (hex) for bundles */
    char metrics_file[VGD_STR_MAX]; /* Prometheus textfile target; "" = none */
    char log_level[VGD_STR_MAX];    /* error | warning | info | debug */
    char log_target[VGD_STR_MAX];   /* stderr | syslog */
    char root[VGD_STR_MAX];         /* topic root */
    uint32_t tick_ms;               /* stale watchdog / housekeeping period */
    uint32_t status_ms;             /* status heartbeat period */
    uint32_t metrics_ms;            /* metrics file period */
    /* [mqtt] */
    char username[VGD_STR_MAX];  /* "" = none */
    char password[VGD_STR_MAX];  /* "" = none */
    char ca_file[VGD_STR_MAX];   /* TLS trust store (PEM) */
    char cert_file[VGD_STR_MAX]; /* TLS client certificate (PEM) */
    char key_file[VGD_STR_MAX];  /* TLS client key (PEM) */
    uint32_t keepalive_s;        /* MQTT keep-alive */
    uint32_t retry_min_s;        /* reconnect backoff start */
    uint32_t retry_max_s;        /* reconnect backoff cap */
    uint32_t max_buffered;       /* publishes buffered while disconnected */
    /* [spool] (and the uplink that drains it) */
    uint64_t quota_bytes;     /* soft quota; 0 = none */
    uint32_t commit_every;    /* sample batches per commit */
    uint32_t gather_us;       /* longest a sample group waits for more, us */
    uint32_t commit_ms;       /* longest a batch stays uncommitted */
    bool sync_full;           /* fsync every commit */
    uint32_t uplink_items;    /* records per archive chunk */
    uint32_t uplink_bytes;    /* payload bytes per archive chunk */
    uint32_t uplink_inflight; /* chunks awaiting PUBACK */
    uint64_t uplink_rate;     /* backfill bytes/s (token bucket); 0 = unlimited */
    /* [action] */
    char command[VGD_STR_MAX];     /* shell command run on a trip; "" = none */
    uint32_t action_timeout_ms;    /* killed after this */
    char sysfs_path[VGD_STR_MAX];  /* file written on a trip; "" = none */
    char sysfs_value[VGD_STR_MAX]; /* value written */
} vgd_conf;

/* One daemon setting. */
typedef struct vgd_conf_key {
    const char *section; /* "agent", "mqtt", "spool", "action" */
    const char *name;    /* key as written in the file */
    int type;            /* enum vg_conf_type or enum vgd_conf_type */
    size_t offset;       /* byte offset in vgd_conf */
    const char *dflt;    /* default, as text */
    const char *desc;    /* one line of documentation */
} vgd_conf_key;

/* One command-line option (all take a value except --help*). */
typedef struct vgd_cli_opt {
    const char *name; /* long option without "--" */
    size_t offset;    /* string field of vgd_conf, or (size_t)-1 for flags */
    const char *arg;  /* metavariable for --help */
    const char *help; /* one line */
} vgd_cli_opt;

extern const vgd_conf_key vgd_conf_keys[]; /* NULL-name terminated */
extern const vgd_cli_opt vgd_cli_opts[];   /* NULL-name terminated */

/* Fills *c with every default (vg_conf_init for the detection part). */
void vgd_conf_init(vgd_conf *c);

/* Applies one `key = value` of a daemon section.  VG_ECHANNEL for a section
 * that is not the daemon's, VG_EMISSING for an unknown key, else the
 * conversion's status (VG_ESYNTAX, VG_EINVAL, VG_ETOOBIG for a long string). */
int vgd_conf_set(vgd_conf *c, const char *section, const char *key, const char *value);

/* What the command line asked for besides settings. */
enum vgd_cli_result { VGD_CLI_RUN = 0, VGD_CLI_HELP = 1, VGD_CLI_HELP_CONFIG = 2 };

/* Full configuration: defaults, the file named by --config (if any), then
 * the command line.  Returns VG_OK and *what (enum vgd_cli_result), or a
 * status with a message in err.  Checks the required options and values
 * (device id valid, data dir given, ...).  Re-entrant: SIGHUP reloads by
 * calling it again with the same argv. */
int vgd_conf_load(vgd_conf *c, int argc, char **argv, int *what, char *err, size_t errlen);

/* Prints usage (--help) and the key reference (--help-config). */
void vgd_conf_usage(FILE *f);
void vgd_conf_print_keys(FILE *f);

#endif
