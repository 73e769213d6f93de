/*
 * make_corpus.c - writes the seed corpora of the codec fuzz targets:
 *
 *     make_corpus tests/fuzz/corpus
 *
 * creates <dir>/<target>/<case>.cbor for samples, alert, shutdown, reset,
 * status, archive, model_ack, model and bundle, every file a valid payload
 * made by the encoders (plus one hand-built float32/sint64 samples batch,
 * which the encoder never writes).  Bundles are signed with the fixed test
 * key of fuzz_bundle.c (Ed25519 from the seed of 32 bytes 0x5a).  The output
 * is deterministic; the committed corpus is this program's output.  Not
 * part of the build: compile it by hand against libvigil-core.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "vg_bundle.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

#define T0 1700000000000000LL

/* Writes buf[0..len) to <dir>/<target>/<name>.cbor; exits on failure. */
static void put(const char *dir, const char *target, const char *name, const uint8_t *buf,
                size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s.cbor", dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static void check(int rc, const char *what)
{
    if (rc != VG_OK) {
        fprintf(stderr, "make_corpus: %s: %s\n", what, vg_strerror(rc));
        exit(1);
    }
}

static void samples(const char *dir)
{
    static uint8_t buf[65536];
    int64_t t[8], tw[3] = {T0, T0 + 5000000000LL, T0 - 1};
    double v[8] = {20.0, 20.5, 21.0, NAN, -1e-3, 1e300, -0.0, 42.0};
    for (int i = 0; i < 8; i++)
        t[i] = T0 + 1000 * i;
    vg_column col[3] = {{.name = "temp", .n = 8, .t_us = t, .v = v},
                        {.name = "vib.rms", .n = 3, .t_us = tw, .v = v},
                        {.name = "idle", .n = 0, .t_us = NULL, .v = NULL}};
    size_t len;
    check(vg_samples_encode("sim-0", 1, T0, col, 1, buf, sizeof buf, &len), "samples");
    put(dir, "samples", "one-channel", buf, len);
    check(vg_samples_encode("sim-1", 99, T0, col, 3, buf, sizeof buf, &len), "samples");
    put(dir, "samples", "sint64-and-empty", buf, len);
    check(vg_samples_encode("sim-2", 0, T0, NULL, 0, buf, sizeof buf, &len), "samples");
    put(dir, "samples", "no-blocks", buf, len);
    /* sint64 offsets (tag 79) and float32 values (tag 85), by hand */
    static const uint8_t t64[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x42, 0x0f, 0, 0, 0, 0, 0};
    static const uint8_t f32[8] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0xc0, 0x7f};
    vg_cbor_writer w;
    vg_cbor_writer_init(&w, buf, sizeof buf);
    vg_cbor_put_map(&w, 5);
    vg_cbor_put_uint(&w, 0);
    vg_cbor_put_uint(&w, VG_SCHEMA_VERSION);
    vg_cbor_put_uint(&w, 1);
    vg_cbor_put_text(&w, "sim-3", 5);
    vg_cbor_put_uint(&w, 2);
    vg_cbor_put_uint(&w, 7);
    vg_cbor_put_uint(&w, 3);
    vg_cbor_put_int(&w, -T0);
    vg_cbor_put_uint(&w, 4);
    vg_cbor_put_array(&w, 1);
    vg_cbor_put_array(&w, 3);
    vg_cbor_put_text(&w, "p", 1);
    vg_cbor_put_tag(&w, 79);
    vg_cbor_put_bytes(&w, t64, sizeof t64);
    vg_cbor_put_tag(&w, 85);
    vg_cbor_put_bytes(&w, f32, sizeof f32);
    check(vg_cbor_writer_finish(&w, &len), "samples f32");
    put(dir, "samples", "sint64-float32", buf, len);
}

static vg_alert an_alert(void)
{
    vg_alert a;
    memset(&a, 0, sizeof a);
    strcpy(a.device, "pump-7");
    strcpy(a.channel, "temp.bearing");
    a.raised = 1;
    a.detector = VG_DET_CUSUM;
    a.t_us = T0;
    a.value = 88.5;
    a.score = 0.97;
    a.model_version = 4;
    a.seq = 1234;
    return a;
}

static void alerts(const char *dir, uint8_t *buf, size_t cap)
{
    vg_alert a = an_alert();
    size_t len;
    check(vg_alert_encode(&a, buf, cap, &len), "alert");
    put(dir, "alert", "raised", buf, len);
    a.raised = 0;
    a.value = NAN;
    a.score = 0;
    a.detector = VG_DET_NONE;
    check(vg_alert_encode(&a, buf, cap, &len), "alert");
    put(dir, "alert", "cleared-nan", buf, len);
}

static void shutdowns(const char *dir, uint8_t *buf, size_t cap)
{
    vg_shutdown s;
    memset(&s, 0, sizeof s);
    strcpy(s.device, "press-1");
    strcpy(s.channel, "pressure");
    strcpy(s.reason, "high limit: 4 of 5 over 12.5 bar");
    s.detector = VG_DET_LIMIT;
    s.trip_id = 2;
    s.t_us = T0;
    s.model_version = 7;
    s.nsamples = 4;
    for (uint32_t i = 0; i < 4; i++)
        s.samples[i] = (vg_trigger){.t_us = T0 - 1000 * (4 - i), .value = 12.0 + i};
    size_t len;
    check(vg_shutdown_encode(&s, buf, cap, &len), "shutdown");
    put(dir, "shutdown", "limit", buf, len);
    s.detector = VG_DET_STALE;
    s.nsamples = 0;
    strcpy(s.reason, "stale");
    check(vg_shutdown_encode(&s, buf, cap, &len), "shutdown");
    put(dir, "shutdown", "stale", buf, len);
}

static void resets(const char *dir, uint8_t *buf, size_t cap)
{
    vg_reset r;
    memset(&r, 0, sizeof r);
    strcpy(r.device, "press-1");
    strcpy(r.operator_id, "alice");
    r.t_us = T0;
    r.trip_id = 2;
    size_t len;
    check(vg_reset_encode(&r, buf, cap, &len), "reset");
    put(dir, "reset", "operator", buf, len);
    r.operator_id[0] = '\0';
    r.trip_id = 0;
    check(vg_reset_encode(&r, buf, cap, &len), "reset");
    put(dir, "reset", "anonymous", buf, len);
}

static void statuses(const char *dir, uint8_t *buf, size_t cap)
{
    vg_status s;
    memset(&s, 0, sizeof s);
    strcpy(s.device, "edge-01");
    s.online = 1;
    s.t_us = T0;
    s.model_version = 3;
    s.ncounter = 3;
    strcpy(s.counter[0].name, "samples_in");
    s.counter[0].value = 1000000;
    strcpy(s.counter[1].name, "decode_errors");
    s.counter[1].value = 2;
    strcpy(s.counter[2].name, "trips");
    s.counter[2].value = 0;
    size_t len;
    check(vg_status_encode(&s, buf, cap, &len), "status");
    put(dir, "status", "online", buf, len);
    s.online = 0;
    s.latched = 1;
    s.ncounter = 0;
    check(vg_status_encode(&s, buf, cap, &len), "status");
    put(dir, "status", "offline-will", buf, len);
}

static void archives(const char *dir, uint8_t *buf, size_t cap)
{
    uint8_t p1[256], p2[256];
    size_t n1, n2, len;
    int64_t t[2] = {T0, T0 + 10};
    double v[2] = {1, 2};
    vg_column col = {.name = "temp", .n = 2, .t_us = t, .v = v};
    check(vg_samples_encode("edge-01", 5, T0, &col, 1, p1, sizeof p1, &n1), "archive");
    vg_alert a = an_alert();
    strcpy(a.device, "edge-01");
    check(vg_alert_encode(&a, p2, sizeof p2, &n2), "archive");
    vg_archive_item it[2] = {
        {.kind = VG_ARCH_SAMPLES,
         .seq = 5,
         .model_version = 3,
         .rx_us = T0,
         .payload = p1,
         .len = n1},
        {.kind = VG_ARCH_ALERT,
         .seq = 1,
         .model_version = 3,
         .rx_us = T0 + 1,
         .payload = p2,
         .len = n2},
    };
    vg_archive ar = {.chunk_seq = 10, .nitem = 2, .item = it};
    strcpy(ar.device, "edge-01");
    check(vg_archive_encode(&ar, buf, cap, &len), "archive");
    put(dir, "archive", "samples-and-alert", buf, len);
    ar.nitem = 0;
    check(vg_archive_encode(&ar, buf, cap, &len), "archive");
    put(dir, "archive", "empty", buf, len);
}

static void acks(const char *dir, uint8_t *buf, size_t cap)
{
    vg_model_ack a;
    memset(&a, 0, sizeof a);
    strcpy(a.device, "pump-7");
    strcpy(a.reason, "ok");
    a.applied = 1;
    a.version = 5;
    a.running_version = 5;
    a.t_us = T0;
    size_t len;
    check(vg_model_ack_encode(&a, buf, cap, &len), "model_ack");
    put(dir, "model_ack", "applied", buf, len);
    strcpy(a.reason, vg_errname(VG_EENVELOPE));
    a.applied = 0;
    a.version = 6;
    check(vg_model_ack_encode(&a, buf, cap, &len), "model_ack");
    put(dir, "model_ack", "rejected", buf, len);
}

static void a_model(vg_model *m, bool full)
{
    memset(m, 0, sizeof *m);
    strcpy(m->device, "pump-7");
    m->version = 5;
    m->created_us = T0;
    m->train_from_us = T0 - 86400000000LL;
    m->train_to_us = T0;
    m->nchan = full ? 3 : 1;
    vg_chan_model_clear(&m->chan[0], "temp");
    m->chan[0].hi = 80;
    m->chan[0].stale_s = 5;
    for (uint32_t i = 1; i < m->nchan; i++) {
        vg_chan_model *c = &m->chan[i];
        vg_chan_model_clear(c, i == 1 ? "vib.rms" : "pressure");
        c->lo = -1, c->hi = 1, c->loc = 0.1, c->scale = 0.2, c->z_thr = 4;
        c->ewma_lambda = 0.1, c->ewma_l = 3, c->cusum_k = 0.5, c->cusum_h = 5;
        c->rate_max = 10, c->stuck_eps = 1e-6, c->stuck_n = 30, c->stale_s = 2;
    }
}

/* A multivariate part over the three channels (vg_mvar_model). */
static void a_mvar(vg_mvar_model *mv)
{
    static const char *const names[3] = {"temp", "vib.rms", "pressure"};
    memset(mv, 0, sizeof *mv);
    mv->p = 3;
    mv->k = 2;
    for (int j = 0; j < 3; j++) {
        strcpy(mv->name[j], names[j]);
        mv->loc[j] = 10 * j + 1;
        mv->scale[j] = 0.5 + j;
    }
    const double load[6] = {0.6, 0.1, 0.5, -0.7, 0.62, 0.7};
    memcpy(mv->load, load, sizeof load);
    mv->eig[0] = 2.1, mv->eig[1] = 0.7;
    mv->lambda = 0.2, mv->t2_mean = 2, mv->q_mean = 0.2, mv->t2_lim = 20, mv->q_lim = 3;
    mv->drift = 0.03;
}

static void models(const char *dir, uint8_t *buf, size_t cap)
{
    static vg_model m;
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES], seed[crypto_sign_SEEDBYTES];
    size_t len;
    memset(seed, 0x5a, sizeof seed);
    check(vg_crypto_init(), "crypto");
    crypto_sign_seed_keypair(pk, sk, seed);
    for (int full = 0; full < 3; full++) {
        const char *name = full == 2 ? "multivariate" : full ? "three-channels" : "one-channel";
        a_model(&m, full);
        if (full == 2)
            a_mvar(&m.mvar);
        check(vg_model_encode(&m, buf, cap, &len), "model");
        put(dir, "model", name, buf, len);
        put(dir, "bundle",
            full == 2 ? "payload-multivariate"
            : full    ? "payload-three-channels"
                      : "payload-one-channel",
            buf, len);
        check(vg_bundle_sign(&m, sk, buf, cap, &len), "bundle");
        put(dir, "bundle", name, buf, len);
    }
}

int main(int argc, char **argv)
{
    static uint8_t buf[65536];
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    samples(argv[1]);
    alerts(argv[1], buf, sizeof buf);
    shutdowns(argv[1], buf, sizeof buf);
    resets(argv[1], buf, sizeof buf);
    statuses(argv[1], buf, sizeof buf);
    archives(argv[1], buf, sizeof buf);
    acks(argv[1], buf, sizeof buf);
    models(argv[1], buf, sizeof buf);
    return 0;
}
