/*
 * vigilctl_main.c - vigilctl's entry point: the subcommand table, the one
 * option table every subcommand draws from, usage and exit codes.
 *
 * Design: both tables are declarative.  An option row names its field in
 * ctl_opts (by offset), its type and the set of subcommands it applies to;
 * getopt_long's table is generated from it, so --help, parsing and the
 * "option not valid for this subcommand" check cannot disagree.  Options
 * may come before or after positional arguments (GNU getopt permutes).
 * Cost: O(argc * options) once at start.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "dev"
#endif

volatile sig_atomic_t ctl_stop;

/* Subcommand bits, for the option table's `cmds`. */
enum {
    C_TAIL = 1 << 0,
    C_TOP = 1 << 1,
    C_RESET = 1 << 2,
    C_SPOOL = 1 << 3,
    C_BUNDLE = 1 << 4,
    C_DECODE = 1 << 5,
    C_NET = C_TAIL | C_TOP | C_RESET,
    C_ALL = 0x3f
};

/* One subcommand. */
typedef struct ctl_cmd {
    const char *name;        /* as typed */
    int bit;                 /* its C_* bit */
    int (*run)(ctl_opts *o); /* entry point */
    int min_args, max_args;  /* positional arguments accepted */
    const char *synopsis;    /* usage line after "vigilctl" */
    const char *summary;     /* one line */
} ctl_cmd;

static const ctl_cmd cmds[] = {
    {"tail", C_TAIL, ctl_cmd_tail, 0, 1, "tail --broker URI [--json|--human] [TOPIC-FILTER]",
     "print every vigil message decoded (default filter ROOT/#)"},
    {"top", C_TOP, ctl_cmd_top, 0, 0, "top --broker URI [--interval S] [--plain]",
     "live fleet view from the retained status and the alert stream; q quits"},
    {"reset", C_RESET, ctl_cmd_reset, 0, 0, "reset --broker URI --device ID [--trip-id N]",
     "ask the agent to clear a latched trip and report whether it did"},
    {"spool", C_SPOOL, ctl_cmd_spool, 1, 1,
     "spool DIR|FILE [--json] [--export CSV --channel NAME [--from T] [--to T]]",
     "inspect an agent's spool offline; export one channel as CSV"},
    {"bundle", C_BUNDLE, ctl_cmd_bundle, 1, 1, "bundle FILE [--trust-key KEYFILE] [--json]",
     "decode a model bundle, verify its signature, print thresholds"},
    {"decode", C_DECODE, ctl_cmd_decode, 0, 1, "decode [FILE|-] [--kind KIND] [--diag]",
     "decode one payload to JSON (or CBOR diagnostic notation)"},
};

enum opt_type { T_STR, T_FLAG, T_LONG, T_DOUBLE, T_U64 };

/* One command-line option. */
typedef struct ctl_opt {
    const char *name; /* long name without "--" */
    int type;         /* enum opt_type */
    size_t offset;    /* field in ctl_opts */
    int cmds;         /* C_* bits of the subcommands that take it */
    const char *arg;  /* metavariable for --help (NULL for flags) */
    const char *help; /* one line */
} ctl_opt;

#define OF(f) offsetof(ctl_opts, f)
static const ctl_opt opts[] = {
    {"broker", T_STR, OF(broker), C_NET, "URI", "tcp://HOST:PORT, ssl:// or mqtts:// (TLS)"},
    {"username", T_STR, OF(username), C_NET, "NAME", "broker user name"},
    {"password", T_STR, OF(password), C_NET, "PW", "broker password (prefer $VIGIL_PASSWORD)"},
    {"client-id", T_STR, OF(client_id), C_NET, "ID", "MQTT client id (default vigilctl-PID)"},
    {"ca-file", T_STR, OF(ca_file), C_NET, "PEM", "TLS CA bundle (vigild [mqtt] ca_file)"},
    {"cert-file", T_STR, OF(cert_file), C_NET, "PEM", "TLS client certificate ([mqtt] cert_file)"},
    {"key-file", T_STR, OF(key_file), C_NET, "PEM", "TLS client key ([mqtt] key_file)"},
    {"config", T_STR, OF(config), C_NET, "FILE",
     "take [mqtt] settings and root from vigild's config"},
    {"root", T_STR, OF(root), C_NET, "ROOT", "topic root (default vigil/v1)"},
    {"connect-timeout", T_DOUBLE, OF(connect_timeout_s), C_NET, "S", "connect timeout (default 5)"},
    {"json", T_FLAG, OF(json), C_TAIL | C_SPOOL | C_BUNDLE, NULL,
     "JSON output (one object per line)"},
    {"human", T_FLAG, OF(human), C_TAIL, NULL, "aligned human-readable lines"},
    {"count", T_LONG, OF(count), C_TAIL, "N", "exit after N messages"},
    {"wait", T_DOUBLE, OF(wait_s), C_TAIL, "S", "exit after S seconds"},
    {"interval", T_DOUBLE, OF(interval_s), C_TOP, "S", "refresh period (default 1)"},
    {"iterations", T_LONG, OF(iterations), C_TOP, "N", "plain mode: exit after N tables"},
    {"plain", T_FLAG, OF(plain), C_TOP, NULL, "periodic plain tables even on a terminal"},
    {"device", T_STR, OF(device), C_RESET, "ID", "device whose trip to reset"},
    {"operator", T_STR, OF(operator_id), C_RESET, "NAME",
     "operator recorded (default --username, else $USER)"},
    {"trip-id", T_U64, OF(trip_id), C_RESET, "N", "trip to clear (default: the latched one)"},
    {"timeout", T_DOUBLE, OF(timeout_s), C_RESET, "S", "wait this long for the agent (default 5)"},
    {"export", T_STR, OF(export_path), C_SPOOL, "CSV", "write one channel as CSV (- = stdout)"},
    {"channel", T_STR, OF(channel), C_SPOOL, "NAME", "channel to export"},
    {"from", T_STR, OF(from), C_SPOOL, "T", "export from T (epoch s or YYYY-MM-DD HH:MM:SS)"},
    {"to", T_STR, OF(to), C_SPOOL, "T", "export up to T (exclusive)"},
    {"trust-key", T_STR, OF(trust_key), C_BUNDLE, "KEYFILE", "Ed25519 public key (64 hex digits)"},
    {"kind", T_STR, OF(kind), C_DECODE, "KIND",
     "samples|alert|shutdown|reset|status|archive|model|model_ack"},
    {"diag", T_FLAG, OF(diag), C_DECODE, NULL, "CBOR diagnostic notation instead of JSON"},
};
#define NOPTS (sizeof opts / sizeof opts[0])
#define NCMDS (sizeof cmds / sizeof cmds[0])

/* Prints the full usage to f. */
static void main__usage(FILE *f)
{
    fprintf(f, "usage: vigilctl COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(f, "  %-8s %s\n           vigilctl %s\n", cmds[i].name, cmds[i].summary,
                cmds[i].synopsis);
    fprintf(f, "\noptions (commands that take them in brackets):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char lhs[64], which[64] = "";
        snprintf(lhs, sizeof lhs, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        for (size_t c = 0; c < NCMDS; c++)
            if ((opts[i].cmds & cmds[c].bit) && opts[i].cmds != C_NET)
                snprintf(which + strlen(which), sizeof which - strlen(which), "%s%s",
                         which[0] ? "," : "", cmds[c].name);
        fprintf(f, "  %-26s %s [%s]\n", lhs, opts[i].help,
                opts[i].cmds == C_NET ? "tail,top,reset" : which);
    }
    fprintf(f, "\nenvironment: VIGIL_PASSWORD (broker password when --password is not given)\n"
               "\nexit status:\n"
               "  0  success (reset: the latch was cleared, or none was set)\n"
               "  1  operation failed (reset refused or not confirmed, signature invalid)\n"
               "  2  usage error\n"
               "  3  broker unreachable (connection, TLS or timeout)\n"
               "  4  broker refused the credentials or client id\n"
               "  5  bad input file (missing, unreadable, not a vigil payload/spool/bundle)\n"
               "\nSee vigilctl(1).\n");
}

/* Stores one option's argument into *o. */
static int main__store(const ctl_opt *d, const char *arg, ctl_opts *o)
{
    char *p = (char *)o + d->offset, *end = NULL;
    errno = 0;
    switch (d->type) {
    case T_STR:
        *(const char **)(void *)p = arg;
        return 0;
    case T_FLAG:
        *(int *)(void *)p = 1;
        return 0;
    case T_LONG:
        *(long *)(void *)p = strtol(arg, &end, 10);
        break;
    case T_DOUBLE:
        *(double *)(void *)p = strtod(arg, &end);
        break;
    default:
        *(uint64_t *)(void *)p = strtoull(arg, &end, 10);
        break;
    }
    if (errno || end == arg || *end || arg[0] == '-') {
        fprintf(stderr, "vigilctl: --%s: '%s' is not a valid number\n", d->name, arg);
        return -1;
    }
    return 0;
}

/* Parses argv[1..] for command `c`; 0 or -1 after a message. */
static int main__parse(const ctl_cmd *c, int argc, char **argv, ctl_opts *o)
{
    struct option lo[NOPTS + 2];
    for (size_t i = 0; i < NOPTS; i++)
        lo[i] =
            (struct option){opts[i].name, opts[i].type == T_FLAG ? no_argument : required_argument,
                            NULL, (int)(i + 256)};
    lo[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lo[NOPTS + 1] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (ch == 'h') {
            main__usage(stdout);
            exit(CTL_EXIT_OK);
        }
        if (ch < 256)
            return -1; /* getopt printed why */
        const ctl_opt *d = &opts[ch - 256];
        if (!(d->cmds & c->bit)) {
            fprintf(stderr, "vigilctl %s: --%s does not apply to this command\n", c->name, d->name);
            return -1;
        }
        if (main__store(d, optarg, o) != 0)
            return -1;
    }
    o->nargs = argc - optind;
    o->args = argv + optind;
    if (o->nargs < c->min_args || o->nargs > c->max_args) {
        fprintf(stderr, "usage: vigilctl %s\n", c->synopsis);
        return -1;
    }
    return 0;
}

static void main__on_signal(int sig)
{
    (void)sig;
    ctl_stop = 1;
}

/* Defaults before parsing. */
static void main__defaults(ctl_opts *o)
{
    memset(o, 0, sizeof *o);
    o->connect_timeout_s = 5;
    o->interval_s = 1;
    o->timeout_s = 5;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        main__usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CTL_EXIT_USAGE : CTL_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vigilctl %s\n", VIGIL_VERSION);
        return CTL_EXIT_OK;
    }
    const ctl_cmd *c = NULL;
    for (size_t i = 0; i < NCMDS; i++)
        if (strcmp(argv[1], cmds[i].name) == 0)
            c = &cmds[i];
    if (!c) {
        fprintf(stderr, "vigilctl: unknown command '%s' (try vigilctl --help)\n", argv[1]);
        return CTL_EXIT_USAGE;
    }
    ctl_opts o;
    main__defaults(&o);
    if (main__parse(c, argc - 1, argv + 1, &o) != 0)
        return CTL_EXIT_USAGE;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = main__on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return c->run(&o);
}

/* ---- helpers shared by the subcommands ---------------------------------- */

int ctl_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    *buf = NULL;
    *len = 0;
    if (!f) {
        fprintf(stderr, "vigilctl: cannot open %s: %s\n", path, strerror(errno));
        return CTL_EXIT_INPUT;
    }
    uint8_t *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max + 1, f) : 0;
    int bad = !b || ferror(f);
    if (f != stdin)
        fclose(f);
    if (bad || n > max) {
        fprintf(stderr, "vigilctl: %s: %s\n", path,
                bad ? "read error" : "too large for a vigil payload");
        free(b);
        return CTL_EXIT_INPUT;
    }
    *buf = b;
    *len = n;
    return CTL_EXIT_OK;
}

int64_t ctl_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t ctl_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
