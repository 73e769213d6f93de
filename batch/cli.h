/*
 * cli.h - vigil-batch's command line: every option of every subcommand in
 * one struct, filled by batch_main.c's option table; the stage runners
 * (ingest_mqtt.c, run.c, batch_main.c) read it.  Strings point into argv.
 */
#ifndef VB_CLI_H
#define VB_CLI_H

#include <stdint.h>

#include "mqtt.h"
#include "retrain.h"
#include "vg_conf.h"

#define VB_EXIT_OK          0 /* success */
#define VB_EXIT_FAIL        1 /* a stage or an input failed (message on stderr) */
#define VB_EXIT_USAGE       2 /* bad command line */
#define VB_EXIT_UNREACHABLE 3 /* broker unreachable (connection, TLS handshake, timeout) */
#define VB_EXIT_AUTH        4 /* broker refused the login (not authorised) */

typedef struct vb_cli {
    const char *cmd;         /* subcommand */
    const char *broker;      /* --broker URI */
    const char *warehouse;   /* --warehouse FILE */
    const char *out;         /* --out DIR (retrain, run) or FILE (report) */
    const char *report;      /* --report FILE (run) */
    const char *bundles;     /* --bundles DIR */
    const char *sign_key;    /* --sign-key FILE */
    const char *verify_key;  /* --verify-key FILE */
    const char *config;      /* --config FILE: envelopes / detector config */
    const char *devices;     /* --devices FILE: ingest allow-list */
    const char *device;      /* --device ID */
    const char *channel;     /* --channel NAME (label) */
    const char *note;        /* --note TEXT (label) */
    const char *root;        /* --topic-root (vigil/v1) */
    const char *client_id;   /* --client-id */
    const char *share;       /* --share GROUP: $share/GROUP/ subscriptions (NULL: plain) */
    vb_mqtt_auth auth;       /* --username --password ($VIGIL_PASSWORD) --ca-file
                                --cert-file --key-file */
    const char *ready_file;  /* --ready-file: touched once subscribed */
    const char *json;        /* --json FILE (report) */
    const char *prefix;      /* keygen PREFIX */
    uint32_t session_expiry; /* --session-expiry S (3600) */
    double idle_exit;        /* --idle-exit S: ingest stops after S s of silence */
    double recent_hours;     /* --recent-hours H (report) */
    int64_t from_us, to_us;  /* --from / --to (epoch seconds on the line) */
    vb_retrain_opts rt;      /* retrain options (days, guardrails, shard...) */
    char **files;            /* positional arguments */
    int nfiles;
    vg_conf *conf; /* loaded --config (or defaults) */
} vb_cli;

/* The exit code of a failed vb_mqtt_open (enum vb_mqtt_fail). */
static inline int vb_exit_for_mqtt(int fail)
{
    return fail == VB_MQTT_FAIL_AUTH  ? VB_EXIT_AUTH
           : fail == VB_MQTT_FAIL_URI ? VB_EXIT_USAGE
                                      : VB_EXIT_UNREACHABLE;
}

/* Stages run by the subcommands; each returns a VB_EXIT_* code. */
int vb_cmd_ingest(vb_cli *c);
int vb_cmd_publish(vb_cli *c);
int vb_cmd_retrain(vb_cli *c);
int vb_cmd_report(vb_cli *c);
int vb_cmd_run(vb_cli *c);

#endif
