/*
 * config.h - vigil-sim's run configuration, filled from the command line
 * by sim_main.c's option table and read by the run modes.
 *
 * Modes (exactly one): synthetic fleet (default), --replay, and the test
 * tools --listen, --send-shutdown, --send-reset, --clear-shutdown, --decode.
 * String fields point into argv (or static defaults) and are never freed.
 * Each mode entry point owns everything it allocates and releases it
 * before returning; costs are described in run.c, run_replay.c, tools.c.
 */
#ifndef SIM_CONFIG_H
#define SIM_CONFIG_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "mqtt.h"
#include "scenario.h"

typedef struct sim_config {
    /* connection */
    const char *broker; /* --broker URI */
    const char *root;   /* --root topic prefix, default "vigil/v1" */
    sim_conn_auth auth; /* --username, --password ($VIGIL_PASSWORD), --ca-file,
                           --cert-file, --key-file; a fleet or replay device
                           logs in as its id when --username is not given */
    /* fleet */
    uint32_t devices;          /* --devices N */
    const char *prefix;        /* --prefix, device names PREFIX-i */
    const char *device;        /* --device ID (replay, tools) */
    double rate_hz;            /* --rate samples per second per channel */
    uint32_t batch;            /* --batch samples per channel per batch */
    double duration_s;         /* --duration simulated seconds */
    uint64_t seed;             /* --seed */
    const char *scenario_text; /* --scenario NAME[:CHANNEL] */
    sim_scenario scenario;     /* parsed */
    const char *truth;         /* --truth FILE */
    const char *start_text;    /* --start TIME */
    int64_t start_us;          /* parsed, default SIM_DEFAULT_START_US */
    double restart_temp_c;     /* --restart-temp */
    /* pacing and publishing */
    double speed;         /* --speed X; 0 = as fast as acks allow */
    bool max_rate;        /* --max-rate: speed 0 and report rates */
    uint32_t inflight;    /* --inflight window per device */
    bool device_ack;      /* --device-ack: keep batches until vigild's samples/ack covers them */
    double ack_timeout_s; /* --ack-timeout: re-send a PUBACKed, uncovered batch after S s */
    double drain_s;       /* --drain seconds to wait for acks at the end */
    double connect_s;     /* --connect-timeout seconds */
    const char *dump;     /* --dump FILE */
    bool dry_run;         /* --dry-run: no broker at all */
    bool quiet;           /* --quiet: no per-event log lines */
    /* replay */
    const char *replay; /* --replay FILE.csv */
    /* tools */
    bool listen;                /* --listen */
    const char *topic;          /* --topic filter for --listen */
    const char *out;            /* --out FILE for --listen (default stdout) */
    const char *ready_file;     /* --ready-file: created once subscribed */
    double idle_s;              /* --idle: --listen stops after this much silence */
    uint64_t expect;            /* --expect: --listen stops after N samples */
    const char *send_shutdown;  /* --send-shutdown DEVICE */
    const char *send_reset;     /* --send-reset DEVICE */
    const char *clear_shutdown; /* --clear-shutdown DEVICE */
    bool retain;                /* --retain for --send-shutdown */
    const char *channel;        /* --channel for --send-shutdown */
    const char *decode;         /* --decode FILE (a --dump file) */
    bool help;                  /* --help */
} sim_config;

/* Counts SIGINT/SIGTERM (up to 2): at 1 every mode stops, drains and
 * reports; at 2 the drain is cut short too. */
extern volatile sig_atomic_t sim_stop_flag;

/* Runs the synthetic fleet.  Returns the process exit status. */
int sim_run_fleet(const sim_config *cfg);

/* Replays cfg->replay as device cfg->device.  Returns the exit status. */
int sim_run_replay(const sim_config *cfg);

/* The test tools.  Each returns the exit status. */
int sim_tool_listen(const sim_config *cfg);
int sim_tool_send(const sim_config *cfg);
int sim_tool_decode(const sim_config *cfg);

#endif
