/*
 * ctl.h - what every vigilctl subcommand shares: exit codes, the parsed
 * command line (one struct filled from the declarative option table in
 * vigilctl_main.c) and the subcommand entry points.
 *
 * Exit codes are part of the interface (documented in --help and in
 * vigilctl(1)); scripts test them, so they never change meaning.
 */
#ifndef CTL_H
#define CTL_H

#include <signal.h>
#include <stdint.h>

enum ctl_exit {
    CTL_EXIT_OK = 0,          /* done; for reset: the latch was cleared (or none was set) */
    CTL_EXIT_FAIL = 1,        /* operation failed: reset refused, signature invalid, ... */
    CTL_EXIT_USAGE = 2,       /* bad command line */
    CTL_EXIT_UNREACHABLE = 3, /* broker unreachable (TCP / TLS / timeout) */
    CTL_EXIT_AUTH = 4,        /* broker refused our credentials or client id */
    CTL_EXIT_INPUT = 5        /* input file missing, unreadable or not what it should be */
};

#define CTL_ROOT_DEFAULT "vigil/v1"

/* Everything the command line (and --config) can set. */
typedef struct ctl_opts {
    /* connection (shared with vigild: its [mqtt] keys, or --config FILE) */
    const char *broker;    /* tcp://, ssl://, mqtts:// URI */
    const char *username;  /* NULL = none */
    const char *password;  /* NULL = none ($VIGIL_PASSWORD is read too) */
    const char *client_id; /* NULL = "vigilctl-<pid>" */
    const char *ca_file;   /* TLS trust store (PEM) */
    const char *cert_file; /* TLS client certificate (PEM) */
    const char *key_file;  /* TLS client key (PEM) */
    const char *config;    /* a vigild config file to take [mqtt] and root from */
    const char *root;      /* topic root */
    double connect_timeout_s;
    /* output */
    int json;  /* JSON lines */
    int human; /* aligned human-readable lines (default on a terminal) */
    int diag;  /* decode: CBOR diagnostic notation */
    /* tail */
    long count;    /* stop after this many messages; 0 = never */
    double wait_s; /* stop after this long; 0 = never */
    /* top */
    double interval_s; /* refresh period */
    long iterations;   /* plain mode: stop after this many tables; 0 = never */
    int plain;         /* plain periodic output even on a terminal */
    /* reset */
    const char *device;      /* device id */
    const char *operator_id; /* who asks (--operator, else the user name, else $USER) */
    uint64_t trip_id;        /* 0 = the latched one */
    double timeout_s;        /* how long to wait for the agent's answer */
    /* spool */
    const char *export_path; /* CSV output ("-" = stdout) */
    const char *channel;     /* channel to export */
    const char *from;        /* time range start (epoch s or ISO), inclusive */
    const char *to;          /* time range end, exclusive */
    /* bundle */
    const char *trust_key; /* Ed25519 public key file (hex) */
    /* decode */
    const char *kind; /* force a message kind */
    /* positional arguments after the subcommand */
    int nargs;
    char **args;
} ctl_opts;

/* Set by SIGINT / SIGTERM; long-running subcommands poll it. */
extern volatile sig_atomic_t ctl_stop;

/* Subcommands: each returns an enum ctl_exit code and prints its own
 * errors on stderr. */
int ctl_cmd_tail(ctl_opts *o);
int ctl_cmd_top(ctl_opts *o);
int ctl_cmd_reset(ctl_opts *o);
int ctl_cmd_spool(ctl_opts *o);
int ctl_cmd_bundle(ctl_opts *o);
int ctl_cmd_decode(ctl_opts *o);

/* Reads a whole file ("-" = stdin) of at most `max` bytes into a fresh
 * heap buffer.  CTL_EXIT_OK, or CTL_EXIT_INPUT with a message on stderr. */
int ctl_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* Monotonic and wall clocks in microseconds. */
int64_t ctl_mono_us(void);
int64_t ctl_wall_us(void);

#endif
