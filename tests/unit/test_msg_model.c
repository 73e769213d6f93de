/*
 * test_msg_model.c - the model payload codec (vg_model_encode/decode):
 * round trip, every per-channel parameter, the channel array, and the
 * multivariate part (unfitted and fitted).
 *
 * Expected encodings are built independently of the code under test with
 * the hand builder and pair lists of test_msg_fixture.h; see there for the
 * generic malformed-variant, framing and capacity checks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_msg_fixture.h"
#include "test_util.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"
#include "vg_model.h"
#include "vg_mvar.h"

/* ---- model payload ---- */

static int dec_model(const uint8_t *b, size_t n)
{
    vg_model m;
    return vg_model_decode(b, n, &m);
}

static int enc_model(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_model_encode(o, b, cap, len);
}

static void sample_model(vg_model *m)
{
    memset(m, 0, sizeof *m);
    strcpy(m->device, "pump-7");
    m->version = 3;
    m->created_us = 1700000000000000;
    m->train_from_us = 1690000000000000;
    m->train_to_us = 1699999999999999;
    m->nchan = 2;
    vg_chan_model_clear(&m->chan[0], "temp");
    m->chan[0].lo = -10;
    m->chan[0].hi = 85.5;
    m->chan[0].z_thr = 4.5;
    m->chan[0].stale_s = 2.5;
    vg_chan_model_clear(&m->chan[1], "vib.rms");
}

/* The hand-built channel array of sample_model(). */
static void tb_sample_chans(tb *b)
{
    tb_array(b, 2);
    tb_map(b, 5);
    tb_uint(b, 0);
    tb_text(b, "temp");
    tb_uint(b, 1);
    tb_float(b, -10);
    tb_uint(b, 2);
    tb_float(b, 85.5);
    tb_uint(b, 5);
    tb_float(b, 4.5);
    tb_uint(b, 13);
    tb_float(b, 2.5);
    tb_map(b, 1);
    tb_uint(b, 0);
    tb_text(b, "vib.rms");
}

static void model_pairs(tpair *p, const tb *chans)
{
    const tpair base[] = {
        PV,
        PT(1, C_DEV, "pump-7"),
        PU(2, 3),
        PI(3, 1700000000000000),
        PI(4, 1690000000000000),
        PI(5, 1699999999999999),
        PR(6, *chans),
    };
    memcpy(p, base, sizeof base);
}

static void test_model_payload(void)
{
    vg_model m, d;
    sample_model(&m);
    uint8_t cbuf[256], buf[1024];
    tb cb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tpair p[7];
    model_pairs(p, &cb);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model", p, 7, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_STRING_EQUAL(d.device, "pump-7");
    CU_ASSERT_EQUAL(d.version, 3);
    CU_ASSERT_EQUAL(d.train_to_us, m.train_to_us);
    CU_ASSERT_EQUAL(d.nchan, 2);
    CU_ASSERT_STRING_EQUAL(d.chan[0].name, "temp");
    CU_ASSERT_EQUAL(d.chan[0].lo, -10);
    CU_ASSERT_EQUAL(d.chan[0].hi, 85.5);
    CU_ASSERT_EQUAL(d.chan[0].z_thr, 4.5);
    CU_ASSERT_EQUAL(d.chan[0].stale_s, 2.5);
    CU_ASSERT(isnan(d.chan[0].loc) && isnan(d.chan[0].scale) && isnan(d.chan[0].ewma_lambda));
    CU_ASSERT(isnan(d.chan[0].ewma_l) && isnan(d.chan[0].cusum_k) && isnan(d.chan[0].cusum_h));
    CU_ASSERT(isnan(d.chan[0].rate_max) && isnan(d.chan[0].stuck_eps));
    CU_ASSERT(isnan(d.chan[0].stuck_n));
    CU_ASSERT_STRING_EQUAL(d.chan[1].name, "vib.rms");
    CU_ASSERT(isnan(d.chan[1].lo) && isnan(d.chan[1].stale_s));
    check_caps("model", enc_model, &m, len);
    check_generic("model", dec_model, p, 7);
    check_framing("model", dec_model, buf, len);
}

/* The k-th (0..12) parameter of c, in wire key order 1..13. */
static double *param(vg_chan_model *c, int k)
{
    double *const p[13] = {&c->lo,          &c->hi,      &c->loc,     &c->scale,   &c->z_thr,
                           &c->ewma_lambda, &c->ewma_l,  &c->cusum_k, &c->cusum_h, &c->rate_max,
                           &c->stuck_eps,   &c->stuck_n, &c->stale_s};
    return p[k];
}

static void test_model_all_params(void)
{
    vg_model m, d;
    sample_model(&m);
    m.nchan = VG_MODEL_MAX_CHANNEL;
    for (uint32_t i = 0; i < m.nchan; i++) {
        char name[16];
        snprintf(name, sizeof name, "ch%u", (unsigned)i);
        vg_chan_model_clear(&m.chan[i], name);
        for (int k = 0; k < 13; k++)
            *param(&m.chan[i], k) = i * 100.0 + k + 0.25;
    }
    uint8_t *buf = malloc(65536);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, 65536, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.nchan, VG_MODEL_MAX_CHANNEL);
    for (uint32_t i = 0; i < m.nchan; i++) {
        CU_ASSERT_STRING_EQUAL(d.chan[i].name, m.chan[i].name);
        for (int k = 0; k < 13; k++)
            CU_ASSERT_EQUAL(*param(&d.chan[i], k), *param(&m.chan[i], k));
    }
    m.nchan = VG_MODEL_MAX_CHANNEL + 1;
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_ETOOBIG);
    m.nchan = 2;
    strcpy(m.chan[1].name, "ch0");
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_EINVAL);
    strcpy(m.chan[1].name, "ch 1");
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_EINVAL);
    strcpy(m.chan[1].name, "ch1");
    m.chan[1].cusum_h = INFINITY;
    CU_ASSERT_EQUAL(vg_model_encode(&m, buf, 65536, &len), VG_ENAN);
    free(buf);
}

/* Decodes the model whose channel array is `chans` (hand-built). */
static int dec_model_chans(const tb *chans)
{
    tpair p[7];
    model_pairs(p, chans);
    return dec_pairs(dec_model, p, 7);
}

static void test_model_channels(void)
{
    uint8_t cbuf[16384];
    tb cb;
    /* the channel map checked with the generic rules (no version row) */
    static const tpair chan[] = {
        PT(0, C_CHAN, "temp"),     PF(1, C_PARAM, -1, false), PF(2, C_PARAM, 1, false),
        PF(12, C_PARAM, 5, false), PF(13, C_PARAM, 2, false),
    };
    const size_t nchan = sizeof chan / sizeof *chan;
    tpair c[8];
    for (size_t i = 0; i <= nchan + 3; i++) {
        size_t m = 0;
        for (size_t k = 0; k < nchan; k++)
            if (k != i)
                c[m++] = chan[k];
        int want = i == 0 ? VG_EMISSING : VG_OK;
        if (i == nchan)
            c[m++] = chan[1], want = VG_EDECODE; /* duplicate key */
        if (i == nchan + 1)
            c[m++] = (tpair)PU(14, 1), want = VG_EDECODE; /* unknown key */
        if (i == nchan + 2)
            c[m++] = (tpair)PF(3, C_PARAM, NAN, false), want = VG_ENAN;
        if (i == nchan + 3)
            c[m++] = (tpair)PF(4, C_PARAM, INFINITY, false), want = VG_ENAN;
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_array(&cb, 1);
        tb_pairs(&cb, c, m);
        expect_rc("model", "channel map", i, dec_model_chans(&cb), want);
    }
    /* 64 channels fit, 65 do not; names unique; entries are maps */
    const uint32_t counts[] = {0, VG_MODEL_MAX_CHANNEL, VG_MODEL_MAX_CHANNEL + 1};
    const int cwant[] = {VG_OK, VG_OK, VG_ETOOBIG};
    for (size_t k = 0; k < 3; k++) {
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_array(&cb, counts[k]);
        for (uint32_t i = 0; i < counts[k]; i++) {
            char name[16];
            snprintf(name, sizeof name, "c%u", (unsigned)i);
            tb_map(&cb, 1);
            tb_uint(&cb, 0);
            tb_text(&cb, name);
        }
        expect_rc("model", "channel count", k, dec_model_chans(&cb), cwant[k]);
    }
    static const uint8_t dup[] = {0x82, 0xa1, 0x00, 0x61, 'a', 0xa1, 0x00, 0x61, 'a'};
    static const uint8_t arr[] = {0x81, 0x81, 0x61, 'a'};
    static const uint8_t ver[] = {0x81, 0xa2, 0x00, 0x61, 'a', 0x00, 0x01};
    const uint8_t *bad[] = {dup, arr, ver};
    const size_t bn[] = {sizeof dup, sizeof arr, sizeof ver};
    const int bwant[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE};
    for (size_t k = 0; k < 3; k++) {
        tb_init(&cb, cbuf, sizeof cbuf);
        tb_raw(&cb, bad[k], bn[k]);
        expect_rc("model", "channel entries", k, dec_model_chans(&cb), bwant[k]);
    }
}

/* ---- model payload: the multivariate part ---- */

/* A small valid multivariate part: 3 channels, 1 component. */
static void sample_mvar(vg_mvar_model *mv)
{
    memset(mv, 0, sizeof *mv);
    mv->p = 3;
    mv->k = 1;
    strcpy(mv->name[0], "flow");
    strcpy(mv->name[1], "pressure");
    strcpy(mv->name[2], "current");
    const double loc[3] = {80, 3.5, 20}, scale[3] = {3, 0.15, 1.5}, load[3] = {0.6, 0.5, 0.625};
    memcpy(mv->loc, loc, sizeof loc);
    memcpy(mv->scale, scale, sizeof scale);
    memcpy(mv->load, load, sizeof load);
    mv->eig[0] = 2.75;
    mv->lambda = 0.25;
    mv->t2_mean = 1;
    mv->q_mean = 0.125;
    mv->t2_lim = 12.5;
    mv->q_lim = 2.5;
    mv->drift = 0.03125;
}

/* Hand-built float array. */
static void tb_floats(tb *b, const double *v, size_t n)
{
    tb_array(b, n);
    for (size_t i = 0; i < n; i++)
        tb_float(b, v[i]);
}

/* Key whose array tb_mvar() writes one entry short (-1: none). */
static int tb_mvar_short = -1;

/* Hand-built multivariate map of *mv; `skip` leaves out that key, `first`
 * (if < 12) is written first. */
static void tb_mvar(tb *b, const vg_mvar_model *mv, int skip, int first)
{
    int order[12], n = 0;
    if (first >= 0 && first < 12)
        order[n++] = first;
    for (int k = 0; k < 12; k++)
        if (k != first)
            order[n++] = k;
    const double *sc[6] = {&mv->lambda, &mv->t2_mean, &mv->q_mean,
                           &mv->t2_lim, &mv->q_lim,   &mv->drift};
    tb_map(b, skip >= 0 ? 11 : 12);
    for (int i = 0; i < n; i++) {
        int k = order[i];
        if (k == skip)
            continue;
        tb_uint(b, (uint64_t)k);
        if (k == 0) {
            tb_array(b, mv->p);
            for (uint32_t j = 0; j < mv->p; j++)
                tb_text(b, mv->name[j]);
        } else if (k == 1) {
            tb_uint(b, mv->k);
        } else if (k == 2) {
            tb_floats(b, mv->loc, mv->p - (k == tb_mvar_short));
        } else if (k == 3) {
            tb_floats(b, mv->scale, mv->p - (k == tb_mvar_short));
        } else if (k == 4) {
            tb_floats(b, mv->eig, mv->k - (k == tb_mvar_short));
        } else if (k == 5) {
            tb_floats(b, mv->load, mv->p * mv->k - (k == tb_mvar_short));
        } else {
            tb_float(b, *sc[k - 6]);
        }
    }
}

/* Decodes sample_model() with the hand-built multivariate map `mvb`. */
static int dec_model_mvar(const tb *mvb)
{
    uint8_t cbuf[256];
    tb cb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tpair p[8];
    model_pairs(p, &cb);
    p[7] = (tpair)PR(7, *mvb);
    return dec_pairs(dec_model, p, 8);
}

static void test_model_mvar(void)
{
    static vg_model m, d;
    sample_model(&m);
    sample_mvar(&m.mvar);
    uint8_t cbuf[256], mbuf[2048], buf[4096];
    tb cb, mb;
    tb_init(&cb, cbuf, sizeof cbuf);
    tb_sample_chans(&cb);
    tb_init(&mb, mbuf, sizeof mbuf);
    tb_mvar(&mb, &m.mvar, -1, -1);
    tpair p[8];
    model_pairs(p, &cb);
    p[7] = (tpair)PR(7, mb);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model+mvar", p, 8, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&d.mvar, &m.mvar, sizeof m.mvar), 0);
    check_caps("model+mvar", enc_model, &m, len);
    check_framing("model+mvar", dec_model, buf, len);
    /* without one, key 7 is absent and decodes to p == 0 */
    m.mvar.p = 0;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
    check_bytes("model-mvar", p, 7, buf, len);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.mvar.p, 0);
    /* each key is required; names and k come before the arrays */
    sample_mvar(&m.mvar);
    for (int k = 0; k < 12; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar(&mb, &m.mvar, k, -1);
        expect_rc("model+mvar", "missing key", (size_t)k, dec_model_mvar(&mb),
                  k <= 1 ? VG_EDECODE : VG_EMISSING);
    }
    for (int k = 1; k < 6; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar(&mb, &m.mvar, -1, k);
        expect_rc("model+mvar", "key before names", (size_t)k, dec_model_mvar(&mb), VG_EDECODE);
    }
    /* values: the decoder applies vg_mvar_check */
    static vg_mvar_model bad[8];
    int want[8];
    for (int i = 0; i < 8; i++)
        sample_mvar(&bad[i]);
    bad[0].load[2] = NAN, want[0] = VG_ENAN;
    bad[1].scale[1] = 0, want[1] = VG_EDECODE;
    bad[2].eig[0] = -1, want[2] = VG_EDECODE;
    strcpy(bad[3].name[2], "flow"), want[3] = VG_EDECODE;
    strcpy(bad[4].name[2], "a b"), want[4] = VG_EDECODE;
    bad[5].lambda = 1.5, want[5] = VG_EDECODE;
    bad[6].k = 4, want[6] = VG_EDECODE; /* k > p */
    bad[7].p = VG_MVAR_MAX + 1, want[7] = VG_ETOOBIG;
    for (int i = 0; i < 8; i++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        if (i == 7) { /* 17 names: only the name array matters */
            tb_map(&mb, 1);
            tb_uint(&mb, 0);
            tb_array(&mb, VG_MVAR_MAX + 1);
            for (int j = 0; j <= VG_MVAR_MAX; j++)
                tb_text(&mb, "x");
        } else {
            tb_mvar(&mb, &bad[i], -1, -1);
        }
        expect_rc("model+mvar", "bad value", (size_t)i, dec_model_mvar(&mb), want[i]);
        if (i < 7) { /* the encoder refuses what the decoder refuses */
            m.mvar = bad[i];
            CU_ASSERT_NOT_EQUAL(vg_model_encode(&m, buf, sizeof buf, &len), VG_OK);
        }
    }
    /* an array one entry short */
    sample_mvar(&m.mvar);
    for (int k = 2; k < 6; k++) {
        tb_init(&mb, mbuf, sizeof mbuf);
        tb_mvar_short = k;
        tb_mvar(&mb, &m.mvar, -1, -1);
        tb_mvar_short = -1;
        expect_rc("model+mvar", "array length", (size_t)k, dec_model_mvar(&mb), VG_EDECODE);
    }
}

/* A fitted model of VG_MVAR_MAX channels survives the wire bit for bit. */
static void test_model_mvar_fitted(void)
{
    enum { N = 2000 };
    static double x[N * VG_MVAR_MAX], scratch[2 * N];
    static vg_model m, d;
    char names[VG_MVAR_MAX][8];
    const char *np[VG_MVAR_MAX];
    uint64_t rng = 5;
    for (int j = 0; j < VG_MVAR_MAX; j++) {
        snprintf(names[j], sizeof names[j], "s%d", j);
        np[j] = names[j];
    }
    for (int i = 0; i < N; i++) {
        double a = vg_test_normal(&rng), b = vg_test_normal(&rng);
        for (int j = 0; j < VG_MVAR_MAX; j++)
            x[i * VG_MVAR_MAX + j] = j * a + (j % 3) * b + 0.5 * vg_test_normal(&rng);
    }
    vg_mvar_opts o;
    vg_mvar_opts_init(&o);
    o.var_explained = 0.999; /* many components: the largest load array */
    sample_model(&m);
    CU_ASSERT_EQUAL_FATAL(vg_mvar_fit(np, VG_MVAR_MAX, x, N, scratch, &o, &m.mvar), VG_OK);
    CU_ASSERT_TRUE(m.mvar.k > 2);
    uint8_t *buf = malloc(65536), *buf2 = malloc(65536);
    size_t len, len2;
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&m, buf, 65536, &len), VG_OK);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(memcmp(&d.mvar, &m.mvar, sizeof m.mvar), 0);
    CU_ASSERT_EQUAL_FATAL(vg_model_encode(&d, buf2, 65536, &len2), VG_OK);
    CU_ASSERT_TRUE(len == len2 && memcmp(buf, buf2, len) == 0);
    free(buf);
    free(buf2);
}

int init_msg_model_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_model", NULL, NULL);
    if (!s || !CU_add_test(s, "model payload", test_model_payload) ||
        !CU_add_test(s, "model all parameters", test_model_all_params) ||
        !CU_add_test(s, "model channels", test_model_channels) ||
        !CU_add_test(s, "model multivariate part", test_model_mvar) ||
        !CU_add_test(s, "model multivariate part, fitted", test_model_mvar_fitted))
        return CU_get_error();
    return 0;
}
