/*
 * vg_archive_tool.c - makes archive traffic for vigil-batch's tests and
 * benchmarks (built only with VIGIL_TESTS): what vigild's uplink would send,
 * without depending on vigild.
 *
 *   vg-archive-tool chunks --device D --out DIR [data options]
 *       DIR/chunk-NNNNNN.cbor: archive chunks (vg_archive_encode), each of
 *       --per-chunk sample batches, ready for mosquitto_pub -f
 *   vg-archive-tool spool --device D --out FILE.db [data options]
 *       the same records in a real spool file (agent/spool.h)
 *
 * Data options: --batches N (sample batches, seq 0..N-1), --samples S (per
 * channel per batch), --channels C, --period-ms P, --t0 S (epoch seconds),
 * --seed K, --fault FROM:TO:OFFSET (add OFFSET to channel 0 in batches
 * FROM..TO-1), --trip-at B (a trip record at batch B's first sample),
 * --alerts N (N alert records), --first-seq Q.
 * Values: 50 + 10*channel + N(0,1) (splitmix64 + Box-Muller), so every run
 * with the same options writes the same bytes.  Cost: O(samples).
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outfile.h"
#include "spool.h"
#include "vg_error.h"
#include "vg_msg.h"

#define TOOL_MAX_CH 16

static const char *const chan_names[TOOL_MAX_CH] = {
    "temp", "vib", "pres",   "flow",  "level", "curr",  "volt", "rpm",
    "hum",  "ph",  "torque", "speed", "load",  "noise", "gas",  "dust"};

/* Options of the generator. */
typedef struct tool_opts {
    const char *device, *out; /* device id, output dir / file */
    uint32_t batches, samples, channels, per_chunk, alerts;
    uint64_t first_seq; /* seq of the first batch */
    int64_t t0_us, period_us;
    uint64_t seed;
    int64_t fault_from, fault_to; /* batch range of the fault; -1 none */
    double fault_off;             /* added to channel 0 in the fault */
    int64_t trip_at;              /* batch of the trip record; -1 none */
} tool_opts;

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double normal(uint64_t *s)
{
    double u = ((double)(rnd(s) >> 11) + 1) * 0x1.0p-53, v = (double)(rnd(s) >> 11) * 0x1.0p-53;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Encodes sample batch b into buf. */
static int make_batch(const tool_opts *o, uint32_t b, uint64_t *rng, int64_t *t, double *v,
                      uint8_t *buf, size_t cap, size_t *len)
{
    vg_column col[TOOL_MAX_CH];
    uint32_t S = o->samples;
    for (uint32_t c = 0; c < o->channels; c++) {
        for (uint32_t i = 0; i < S; i++) {
            t[c * S + i] = o->t0_us + ((int64_t)b * S + i) * o->period_us;
            double x = 50 + 10 * c + normal(rng);
            if (c == 0 && (int64_t)b >= o->fault_from && (int64_t)b < o->fault_to)
                x += o->fault_off;
            v[c * S + i] = x;
        }
        col[c] = (vg_column){chan_names[c], S, t + c * S, v + c * S};
    }
    return vg_samples_encode(o->device, o->first_seq + b, t[0], col, o->channels, buf, cap, len);
}

/* Encodes the trip record of batch b. */
static int make_trip(const tool_opts *o, uint32_t b, uint8_t *buf, size_t cap, size_t *len)
{
    static vg_shutdown s;
    memset(&s, 0, sizeof s);
    snprintf(s.device, sizeof s.device, "%s", o->device);
    snprintf(s.channel, sizeof s.channel, "%s", chan_names[0]);
    snprintf(s.reason, sizeof s.reason, "limit");
    s.detector = VG_DET_LIMIT;
    s.trip_id = 1;
    s.t_us = o->t0_us + (int64_t)b * o->samples * o->period_us;
    s.nsamples = 1;
    s.samples[0] = (vg_trigger){s.t_us, 999};
    return vg_shutdown_encode(&s, buf, cap, len);
}

/* Encodes alert record k. */
static int make_alert(const tool_opts *o, uint32_t k, uint8_t *buf, size_t cap, size_t *len)
{
    vg_alert a = {.raised = 1, .detector = VG_DET_ZSCORE, .value = 99, .score = 0.9};
    snprintf(a.device, sizeof a.device, "%s", o->device);
    snprintf(a.channel, sizeof a.channel, "%s", chan_names[0]);
    a.t_us = o->t0_us + (int64_t)k * o->samples * o->period_us;
    a.seq = k;
    return vg_alert_encode(&a, buf, cap, len);
}

/* A record sink: a chunk being filled, or the spool. */
typedef struct sink {
    vg_spool *sp;        /* spool mode */
    vg_archive a;        /* chunk mode: the chunk being filled */
    vg_archive_item *it; /* its items */
    uint8_t *pool;       /* payload bytes of the chunk's items */
    size_t pool_len, pool_cap;
    uint32_t nchunk; /* chunks written */
    const tool_opts *o;
} sink;

/* Writes the chunk being filled to DIR/chunk-NNNNNN.cbor. */
static int flush_chunk(sink *k)
{
    if (!k->a.nitem)
        return VG_OK;
    size_t cap = k->pool_len + 4096 + 64 * (size_t)k->a.nitem, len;
    uint8_t *buf = malloc(cap);
    char name[64];
    k->a.chunk_seq = k->nchunk;
    int rc = buf ? vg_archive_encode(&k->a, buf, cap, &len) : VG_ENOMEM;
    snprintf(name, sizeof name, "chunk-%06u.cbor", k->nchunk++);
    if (rc == VG_OK)
        rc = vb_write_file(k->o->out, name, buf, len);
    free(buf);
    k->a.nitem = 0;
    k->pool_len = 0;
    return rc;
}

/* Adds one record to the sink. */
static int put(sink *k, int kind, uint64_t seq, int64_t rx, const uint8_t *p, size_t len)
{
    if (k->sp)
        return vg_spool_append(k->sp, kind, seq, 0, rx, p, len);
    if (k->pool_len + len > k->pool_cap)
        return VG_ENOSPC;
    memcpy(k->pool + k->pool_len, p, len);
    k->it[k->a.nitem++] = (vg_archive_item){.kind = (uint8_t)kind,
                                            .seq = seq,
                                            .rx_us = rx,
                                            .payload = k->pool + k->pool_len,
                                            .len = len};
    k->pool_len += len;
    return VG_OK;
}

/* Generates every record into the sink. */
static int generate(const tool_opts *o, sink *k)
{
    size_t n = (size_t)o->channels * o->samples, cap = 64 + n * 20 + 64 * o->channels, len;
    int64_t *t = malloc(n * sizeof *t);
    double *v = malloc(n * sizeof *v);
    uint8_t *buf = malloc(cap), small[2048];
    uint64_t rng = o->seed;
    int rc = t && v && buf ? VG_OK : VG_ENOMEM;
    for (uint32_t a = 0; rc == VG_OK && a < o->alerts; a++)
        if ((rc = make_alert(o, a, small, sizeof small, &len)) == VG_OK)
            rc = put(k, VG_ARCH_ALERT, a, o->t0_us, small, len);
    for (uint32_t b = 0; rc == VG_OK && b < o->batches; b++) {
        rc = make_batch(o, b, &rng, t, v, buf, cap, &len);
        if (rc == VG_OK)
            rc = put(k, VG_ARCH_SAMPLES, o->first_seq + b, t[0], buf, len);
        if (rc == VG_OK && (int64_t)b == o->trip_at &&
            (rc = make_trip(o, b, small, sizeof small, &len)) == VG_OK)
            rc = put(k, VG_ARCH_TRIP, 0, t[0], small, len);
        if (rc == VG_OK && !k->sp && k->a.nitem >= o->per_chunk)
            rc = flush_chunk(k);
    }
    if (rc == VG_OK && !k->sp)
        rc = flush_chunk(k);
    free(t);
    free(v);
    free(buf);
    return rc;
}

/* Runs chunk mode. */
static int run_chunks(const tool_opts *o)
{
    sink k = {.o = o};
    size_t per = (size_t)o->channels * o->samples * 20 + 1024;
    k.pool_cap = per * (o->per_chunk + 2) + 4096 * (size_t)(o->alerts + 2);
    k.pool = malloc(k.pool_cap);
    k.it = calloc(o->per_chunk + o->alerts + 4, sizeof *k.it);
    snprintf(k.a.device, sizeof k.a.device, "%s", o->device);
    k.a.item = k.it;
    int rc = k.pool && k.it ? vb_mkdir_p(o->out) : VG_ENOMEM;
    if (rc == VG_OK)
        rc = generate(o, &k);
    free(k.pool);
    free(k.it);
    return rc;
}

/* Runs spool mode. */
static int run_spool(const tool_opts *o)
{
    char err[256];
    sink k = {.o = o};
    int rc = vg_spool_open(o->out, NULL, &k.sp, err, sizeof err);
    if (rc != VG_OK) {
        fprintf(stderr, "vg-archive-tool: %s\n", err);
        return rc;
    }
    rc = generate(o, &k);
    int rc2 = vg_spool_close(k.sp);
    return rc != VG_OK ? rc : rc2;
}

int main(int argc, char **argv)
{
    tool_opts o = {.batches = 10,
                   .samples = 100,
                   .channels = 3,
                   .per_chunk = 8,
                   .t0_us = 1700000000000000LL,
                   .period_us = 1000000,
                   .seed = 1,
                   .fault_from = -1,
                   .fault_to = -1,
                   .trip_at = -1};
    static const struct option lo[] = {{"device", 1, 0, 'd'},    {"out", 1, 0, 'o'},
                                       {"batches", 1, 0, 'b'},   {"samples", 1, 0, 's'},
                                       {"channels", 1, 0, 'c'},  {"per-chunk", 1, 0, 'p'},
                                       {"period-ms", 1, 0, 'P'}, {"t0", 1, 0, 't'},
                                       {"seed", 1, 0, 'k'},      {"fault", 1, 0, 'f'},
                                       {"trip-at", 1, 0, 'T'},   {"alerts", 1, 0, 'a'},
                                       {"first-seq", 1, 0, 'q'}, {0, 0, 0, 0}};
    if (argc < 2 || (strcmp(argv[1], "chunks") && strcmp(argv[1], "spool"))) {
        fprintf(stderr, "usage: vg-archive-tool chunks|spool --device D --out PATH [options]\n");
        return 2;
    }
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o.device = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'b':
            o.batches = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 's':
            o.samples = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'c':
            o.channels = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'p':
            o.per_chunk = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'P':
            o.period_us = (int64_t)(strtod(optarg, NULL) * 1000);
            break;
        case 't':
            o.t0_us = (int64_t)(strtod(optarg, NULL) * 1e6);
            break;
        case 'k':
            o.seed = strtoull(optarg, NULL, 10);
            break;
        case 'T':
            o.trip_at = strtoll(optarg, NULL, 10);
            break;
        case 'a':
            o.alerts = (uint32_t)strtoul(optarg, NULL, 10);
            break;
        case 'q':
            o.first_seq = strtoull(optarg, NULL, 10);
            break;
        case 'f':
            if (sscanf(optarg, "%" SCNd64 ":%" SCNd64 ":%lf", &o.fault_from, &o.fault_to,
                       &o.fault_off) != 3)
                return 2;
            break;
        default:
            return 2;
        }
    }
    if (!o.device || !o.out || !o.samples || !o.channels || o.channels > TOOL_MAX_CH ||
        !o.per_chunk) {
        fprintf(stderr, "vg-archive-tool: need --device, --out, 1..16 channels\n");
        return 2;
    }
    int rc = strcmp(argv[1], "chunks") == 0 ? run_chunks(&o) : run_spool(&o);
    if (rc != VG_OK)
        fprintf(stderr, "vg-archive-tool: %s\n", vg_strerror(rc));
    return rc == VG_OK ? 0 : 1;
}
