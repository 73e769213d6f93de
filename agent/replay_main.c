/*
 * replay_main.c - vigil-replay: run the agent's detection over a CSV file.
 *
 *   vigil-replay [--config FILE] [--model FILE] [--train-rows N]
 *                [--mvar joint|max|off|only] FILE.csv
 *
 * Options are one declarative table; main() only wires the table, the
 * config, the model and replay.c together.  Exit status: 0 success,
 * 1 bad input (message names file, line and column), 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf_file.h"
#include "replay.h"
#include "vg_bundle.h"
#include "vg_error.h"
#include "vg_hex.h"
#include "vg_msg.h"

struct replay_cli {
    const char *config;     /* --config */
    const char *model;      /* --model */
    const char *trust_key;  /* --trust-key */
    const char *save_model; /* --save-model */
    uint64_t train_rows;    /* --train-rows */
    int summary;            /* --summary */
    int mvar;               /* --mvar (enum vg_replay_mvar) */
};

/* --mvar values, by enum vg_replay_mvar. */
static const char *const replay_mvar_modes[] = {[VG_REPLAY_MVAR_JOINT] = "joint",
                                                [VG_REPLAY_MVAR_MAX] = "max",
                                                [VG_REPLAY_MVAR_OFF] = "off",
                                                [VG_REPLAY_MVAR_ONLY] = "only"};

enum {
    OPT_CONFIG = 'c',
    OPT_MODEL = 'm',
    OPT_TRAIN = 't',
    OPT_KEY = 'k',
    OPT_SAVE = 's',
    OPT_SUMMARY = 'S',
    OPT_MVAR = 'v',
    OPT_HELP = 'h',
    OPT_VERSION = 'V',
    OPT_HELP_CONFIG = 'C'
};

static const struct replay_opt {
    struct option lo; /* getopt_long entry */
    const char *arg;  /* argument name for --help, NULL for flags */
    const char *help; /* one line */
} replay_opts[] = {
    {{"config", required_argument, NULL, OPT_CONFIG}, "FILE", "detection config (INI)"},
    {{"model", required_argument, NULL, OPT_MODEL},
     "FILE",
     "model to run with: CBOR model, or a signed bundle with --trust-key"},
    {{"trust-key", required_argument, NULL, OPT_KEY}, "FILE", "public key to verify --model"},
    {{"train-rows", required_argument, NULL, OPT_TRAIN},
     "N",
     "fit a model on the first N rows, then score every row with it"},
    {{"save-model", required_argument, NULL, OPT_SAVE}, "FILE", "write the fitted model (CBOR)"},
    {{"mvar", required_argument, NULL, OPT_MVAR},
     "MODE",
     "T^2/Q detector: joint (default), max, off, only"},
    {{"summary", no_argument, NULL, OPT_SUMMARY}, NULL, "print a summary to stderr at the end"},
    {{"help", no_argument, NULL, OPT_HELP}, NULL, "show this help"},
    {{"help-config", no_argument, NULL, OPT_HELP_CONFIG},
     NULL,
     "list every config key with its default"},
    {{"version", no_argument, NULL, OPT_VERSION}, NULL, "show the version"},
};
#define N_OPTS (sizeof(replay_opts) / sizeof(replay_opts[0]))

static void replay__usage(FILE *f)
{
    fputs("usage: vigil-replay [--config FILE] [--model FILE] [--train-rows N]\n"
          "                    [--mvar joint|max|off|only] FILE.csv\n\n"
          "Runs vigild's detection pipeline over FILE.csv (\"-\" for stdin) with no broker.\n"
          "Input: header row; first column a timestamp (YYYY-MM-DD HH:MM:SS[.ffffff] UTC, or\n"
          "epoch seconds); other columns numeric channels named by the header.  An empty or\n"
          "NaN cell is a missing sample.  Output on stdout, one row per input row:\n"
          "    timestamp,anomaly_score,alert,trip\n\noptions:\n",
          f);
    for (size_t i = 0; i < N_OPTS; i++) {
        char left[40];
        snprintf(left, sizeof left, "--%s%s%s", replay_opts[i].lo.name,
                 replay_opts[i].arg ? " " : "", replay_opts[i].arg ? replay_opts[i].arg : "");
        fprintf(f, "  %-24s %s\n", left, replay_opts[i].help);
    }
    fputs("\nexit status: 0 ok, 1 bad input, 2 usage error\n", f);
}

/* Reads a whole (small) file into a malloc'd buffer. */
static uint8_t *replay__slurp(const char *path, size_t max, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
    fclose(f);
    if (!buf || n > max) {
        free(buf);
        errno = EFBIG;
        return NULL;
    }
    *len = n;
    return buf;
}

/* Loads --model: a plain CBOR model, or a bundle verified with --trust-key. */
static int replay__load_model(const struct replay_cli *cli, vg_model *m)
{
    size_t len, klen;
    uint8_t *buf = replay__slurp(cli->model, VG_BUNDLE_MAX_BYTES, &len);
    if (!buf) {
        fprintf(stderr, "vigil-replay: %s: %s\n", cli->model, strerror(errno));
        return VG_EINVAL;
    }
    /* With a trust key only a verified bundle will do; without one, only a
     * plain (unsigned) model file. */
    int rc = cli->trust_key ? VG_ESIG : vg_model_decode(buf, len, m);
    if (cli->trust_key) {
        uint8_t pk[VG_PK_BYTES];
        char *key = (char *)replay__slurp(cli->trust_key, 256, &klen);
        rc = key ? vg_hex_decode(key, klen, pk, sizeof pk) : VG_EINVAL;
        if (rc == VG_OK && (rc = vg_crypto_init()) == VG_OK)
            rc = vg_bundle_open(buf, len, pk, NULL, 0, m);
        free(key);
    }
    free(buf);
    if (rc != VG_OK)
        fprintf(stderr, "vigil-replay: %s: not a usable model: %s%s\n", cli->model, vg_strerror(rc),
                cli->trust_key ? "" : " (a signed bundle needs --trust-key)");
    return rc;
}

/* --mvar MODE -> enum vg_replay_mvar, -1 when unknown. */
static int replay__mvar_mode(const char *s)
{
    for (int i = 0; i < (int)(sizeof replay_mvar_modes / sizeof *replay_mvar_modes); i++)
        if (strcmp(s, replay_mvar_modes[i]) == 0)
            return i;
    return -1;
}

static int replay__parse_args(int argc, char **argv, struct replay_cli *cli)
{
    struct option lo[N_OPTS + 1];
    for (size_t i = 0; i < N_OPTS; i++)
        lo[i] = replay_opts[i].lo;
    memset(&lo[N_OPTS], 0, sizeof(lo[N_OPTS]));
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case OPT_CONFIG:
            cli->config = optarg;
            break;
        case OPT_MODEL:
            cli->model = optarg;
            break;
        case OPT_KEY:
            cli->trust_key = optarg;
            break;
        case OPT_SAVE:
            cli->save_model = optarg;
            break;
        case OPT_SUMMARY:
            cli->summary = 1;
            break;
        case OPT_MVAR:
            cli->mvar = replay__mvar_mode(optarg);
            if (cli->mvar < 0) {
                fprintf(stderr, "vigil-replay: --mvar wants joint, max, off or only\n");
                return 2;
            }
            break;
        case OPT_TRAIN:
            errno = 0;
            cli->train_rows = strtoull(optarg, &end, 10);
            if (*optarg == '-' || *end || errno || cli->train_rows == 0) {
                fprintf(stderr, "vigil-replay: --train-rows wants a positive integer\n");
                return 2;
            }
            break;
        case OPT_HELP:
            replay__usage(stdout);
            exit(0);
        case OPT_HELP_CONFIG:
            vg_conf_print_keys(stdout);
            exit(0);
        case OPT_VERSION:
            puts("vigil-replay " VIGIL_VERSION);
            exit(0);
        default:
            replay__usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        replay__usage(stderr);
        return 2;
    }
    return 0;
}

static void replay__summary(const char *path, const vg_replay_stats *st)
{
    fprintf(stderr,
            "vigil-replay: %s: %" PRIu64 " rows, %u channels, %" PRIu64 " samples, %" PRIu64
            " missing; %" PRIu64 " alerts raised, %" PRIu64 " rows in alert, %" PRIu64 " trips\n",
            path, st->rows, st->channels, st->samples, st->missing, st->alerts_raised,
            st->alert_rows, st->trips);
    if (st->mvar_channels)
        fprintf(stderr,
                "vigil-replay: %s: multivariate T^2/Q over %u channels, %u components; %" PRIu64
                " rows in its alert\n",
                path, st->mvar_channels, st->mvar_k, st->mvar_alert_rows);
}

int main(int argc, char **argv)
{
    struct replay_cli cli = {0};
    int rc = replay__parse_args(argc, argv, &cli);
    if (rc)
        return rc;
    static vg_conf conf;
    static vg_model model;
    char err[512];
    vg_conf_init(&conf);
    if (cli.config && vg_conf_load(&conf, cli.config, NULL, NULL, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-replay: %s\n", err);
        return 1;
    }
    if (cli.model && replay__load_model(&cli, &model) != VG_OK)
        return 1;
    static char outbuf[1 << 16];
    setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    vg_replay_opts o = {.path = argv[optind],
                        .conf = &conf,
                        .model = cli.model ? &model : NULL,
                        .train_rows = cli.train_rows,
                        .save_model = cli.save_model,
                        .mvar = cli.mvar,
                        .out = stdout,
                        .err = stderr};
    vg_replay_stats st;
    rc = vg_replay_run(&o, &st);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "vigil-replay: cannot write output: %s\n", strerror(errno));
        return 1;
    }
    if (cli.summary)
        replay__summary(o.path, &st);
    return rc == VG_OK ? 0 : 1;
}
