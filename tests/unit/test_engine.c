/*
 * test_engine.c - channels by name, rejection accounting, model
 * application (all or nothing, never loosening), trip reset, and the block
 * push (vg_engine_push_block) against single pushes, bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_engine.h"
#include "vg_error.h"

static vg_chan_config temp_cfg(void)
{
    vg_chan_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.name, "temp");
    vg_envelope_init(&c.env);
    c.env.hi = 95;
    c.env.debounce_n = 2;
    c.env.debounce_m = 3;
    c.env.trip = true;
    vg_chan_model_clear(&c.local, "temp");
    return c;
}

static void test_lookup_and_admission(void)
{
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    ec.max_channels = 3;
    ec.allow_unknown = false;
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    vg_channel *c = NULL;
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "temp", 4, &c), VG_OK);
    CU_ASSERT_STRING_EQUAL(c->name, "temp");
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "tempX", 4, &c), VG_OK); /* length-bounded */
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_ECHANNEL);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "bad name", 8, &c), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_engine_count(e), 1);
    vg_engine_destroy(e);

    ec.allow_unknown = true;
    e = vg_engine_create(&ec, &rc);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_OK);
    CU_ASSERT_EQUAL(c->cfg, -1);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "pressure", 8, &c), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "flow", 4, &c), VG_ENOSPC);
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &c), VG_OK); /* still found */
    CU_ASSERT_EQUAL(vg_engine_count(e), 3);
    vg_engine_destroy(e);

    ec.window_s = 1e13; /* would overflow the microsecond span */
    CU_ASSERT_PTR_NULL(vg_engine_create(&ec, &rc));
    CU_ASSERT_EQUAL(rc, VG_EINVAL);
    ec.window_s = 0;
    ec.window = 1u << 24; /* 16 M samples x 65536 channels: refused, not wrapped */
    ec.max_channels = 65536;
    vg_engine *huge = vg_engine_create(&ec, &rc);
    CU_ASSERT_TRUE(huge == NULL || sizeof(size_t) > 4);
    vg_engine_destroy(huge);
    ec.window = 256;
    ec.max_channels = 3;
    vg_chan_config two[2] = {cc, cc};
    ec.chan = two;
    ec.nchan = 2;
    CU_ASSERT_PTR_NULL(vg_engine_create(&ec, &rc));
    CU_ASSERT_EQUAL(rc, VG_EEXIST);
}

static void test_bad_samples_change_nothing(void)
{
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_verdict v;
    CU_ASSERT_EQUAL_FATAL(vg_engine_lookup(e, "x", 1, &c), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 100, 1.0, &v), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 200, NAN, &v), VG_ENAN);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 200, INFINITY, &v), VG_ENAN);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 50, 2.0, &v), VG_EORDER);
    CU_ASSERT_EQUAL(c->accepted, 1);
    CU_ASSERT_EQUAL(c->rejected_nan, 2);
    CU_ASSERT_EQUAL(c->rejected_order, 1);
    CU_ASSERT_EQUAL(vg_window_count(&c->win), 1);
    CU_ASSERT_EQUAL(c->det.last_t, 100);
    CU_ASSERT_EQUAL(vg_engine_push(e, c, 100, 3.0, &v), VG_OK); /* equal time is fine */
    vg_engine_destroy(e);
}

static void test_model_apply_all_or_nothing(void)
{
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    int rc;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_engine_lookup(e, "temp", 4, &c);
    static vg_model m;
    memset(&m, 0, sizeof m);
    m.version = 5;
    m.nchan = 2;
    vg_chan_model_clear(&m.chan[0], "vib");
    m.chan[0].z_thr = 3;
    vg_chan_model_clear(&m.chan[1], "temp");
    m.chan[1].hi = 120; /* loosens 95 */
    const char *bad = NULL;
    CU_ASSERT_EQUAL(vg_engine_check_model(e, &m, &bad), VG_EENVELOPE);
    CU_ASSERT_STRING_EQUAL(bad, "temp");
    CU_ASSERT_EQUAL(vg_engine_apply_model(e, &m), VG_EENVELOPE);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 0);
    CU_ASSERT_EQUAL(c->par.hi, 95);

    m.chan[1].hi = 80; /* tightens */
    CU_ASSERT_EQUAL(vg_engine_apply_model(e, &m), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 5);
    CU_ASSERT_EQUAL(vg_engine_model(e)->version, 5);
    CU_ASSERT_EQUAL(c->par.hi, 80);
    CU_ASSERT_EQUAL(c->par.model_version, 5);
    vg_channel *vib;
    CU_ASSERT_EQUAL(vg_engine_lookup(e, "vib", 3, &vib), VG_OK); /* admitted later */
    CU_ASSERT_EQUAL(vib->par.z_thr, 3);

    vg_verdict v;
    vg_engine_push(e, c, 1, 85, &v);
    vg_engine_push(e, c, 2, 85, &v);
    CU_ASSERT_EQUAL(v.trip, 1); /* 2 of 3 over the tightened 80 */
    CU_ASSERT_EQUAL(vg_engine_reset_trips(e), VG_EACTIVE);
    for (int i = 3; i < 6; i++)
        vg_engine_push(e, c, i, 20, &v);
    CU_ASSERT_EQUAL(vg_engine_reset_trips(e), VG_OK);
    CU_ASSERT_EQUAL(c->det.trip, 0);

    CU_ASSERT_EQUAL(vg_engine_apply_model(e, NULL), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_model_version(e), 0);
    CU_ASSERT_PTR_NULL(vg_engine_model(e));
    CU_ASSERT_EQUAL(c->par.hi, 95);
    CU_ASSERT_EQUAL(vib->par.z_thr, 6);
    vg_engine_destroy(e);
}

static void test_trip_without_model_or_network(void)
{
    /* The envelope alone trips: no model ever applied. */
    vg_chan_config cc = temp_cfg();
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.chan = &cc;
    ec.nchan = 1;
    int rc, trips = 0;
    vg_engine *e = vg_engine_create(&ec, &rc);
    vg_channel *c;
    vg_engine_lookup(e, "temp", 4, &c);
    vg_verdict v;
    for (int i = 0; i < 100; i++) {
        vg_engine_push(e, c, i * 1000, 60 + i * 0.5, &v);
        trips += v.trip_edge;
    }
    CU_ASSERT_EQUAL(trips, 1);
    CU_ASSERT_EQUAL(v.trip_det, VG_DET_LIMIT);
    vg_engine_destroy(e);
}

/* ---- vg_engine_push_block == n x vg_engine_push ------------------------ */

#define BLK_CHAN 4    /* channels per engine */
#define BLK_N    6000 /* samples per channel */

static uint64_t blk_rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double blk_unit(uint64_t *s)
{
    return ((double)(blk_rng(s) >> 11) + 0.5) * 0x1.0p-53;
}

/* One channel's stream: Gaussian noise with level shifts, spikes over the
 * limits, flat runs, gaps past the stale deadline, NaN/Inf, times going
 * back and repeated times. */
static void blk_stream(uint64_t seed, int64_t *t, double *x)
{
    uint64_t s = seed;
    int64_t now = 1000000;
    double level = 50, flat = 0;
    int flat_left = 0;
    for (int i = 0; i < BLK_N; i++) {
        uint32_t k = (uint32_t)(blk_rng(&s) % 1000);
        double g = sqrt(-2 * log(blk_unit(&s))) * cos(6.283185307179586 * blk_unit(&s));
        now += k < 10 ? 20000 : k < 30 ? 0 : 1000; /* gaps past stale, repeated times */
        t[i] = k >= 30 && k < 60 ? now - (int64_t)(blk_rng(&s) % 5000) : now; /* back */
        level += k >= 60 && k < 65 ? 15 * (blk_unit(&s) - 0.5) : 0;
        if (k >= 65 && k < 70) {
            flat_left = 20;
            flat = level + g;
        }
        x[i] = flat_left > 0 ? (flat_left--, flat) : level + 2 * g;
        if (k >= 70 && k < 100)
            x[i] = k < 95 ? 140 + 10 * g : -5; /* over / under the limits */
        if (k >= 100 && k < 130)
            x[i] = k < 110 ? NAN : k < 120 ? INFINITY : -INFINITY;
    }
}

/* An event as reported by vg_engine_push_block (or expected from pushes). */
struct blk_event {
    uint32_t i;
    int rc;
    vg_verdict v;
};

struct blk_log {
    struct blk_event ev[128];
    uint32_t n;
    vg_channel *c; /* the channel pushed */
    int bad;       /* an event for another channel, or too many */
};

static void blk_on_event(void *user, vg_channel *c, uint32_t i, int rc, const vg_verdict *v)
{
    struct blk_log *l = user;
    if (c != l->c || l->n == 128 || (rc == VG_OK) != (v != NULL)) {
        l->bad = 1;
        return;
    }
    l->ev[l->n].i = i;
    l->ev[l->n].rc = rc;
    memset(&l->ev[l->n].v, 0, sizeof l->ev[l->n].v);
    if (v)
        l->ev[l->n].v = *v;
    l->n++;
}

static int blk_verdict_eq(const vg_verdict *a, const vg_verdict *b)
{
    return memcmp(&a->score, &b->score, sizeof a->score) == 0 && a->det == b->det &&
           a->alert == b->alert && a->alert_edge == b->alert_edge && a->trip == b->trip &&
           a->trip_edge == b->trip_edge && a->trip_det == b->trip_det;
}

/* Whether channels a and b hold the same state, bit for bit: detector,
 * parameters, counters, window indices and every kept slot and deque entry. */
static int blk_same_channel(const vg_channel *a, const vg_channel *b)
{
    const vg_window *wa = &a->win, *wb = &b->win;
    int same = memcmp(&a->det, &b->det, sizeof a->det) == 0 &&
               memcmp(&a->par, &b->par, sizeof a->par) == 0 && a->accepted == b->accepted &&
               a->rejected_nan == b->rejected_nan && a->rejected_order == b->rejected_order &&
               wa->head == wb->head && wa->tail == wb->tail && wa->mn_head == wb->mn_head &&
               wa->mn_tail == wb->mn_tail && wa->mx_head == wb->mx_head &&
               wa->mx_tail == wb->mx_tail;
    for (uint32_t q = wa->tail; same && q != wa->head; q++)
        same = memcmp(&wa->v[q & wa->mask], &wb->v[q & wb->mask], sizeof(double)) == 0 &&
               wa->t[q & wa->mask] == wb->t[q & wb->mask];
    for (uint32_t q = wa->mn_tail; same && q != wa->mn_head; q++)
        same = wa->dq_min[q & wa->mask] == wb->dq_min[q & wb->mask];
    for (uint32_t q = wa->mx_tail; same && q != wa->mx_head; q++)
        same = wa->dq_max[q & wa->mask] == wb->dq_max[q & wb->mask];
    return same;
}

/* Two engines alike: channel 0 with limits (debounce, hysteresis, trip),
 * stale trip, rate and stuck; 1 gets a fitted reference from a model; 2 a
 * time-spanned window (not plain); 3 admitted unlisted. */
static vg_engine *blk_engine(bool adapt, bool minmax)
{
    static vg_chan_config cc[3];
    const char *names[3] = {"lim", "fit", "span"};
    for (int k = 0; k < 3; k++) {
        memset(&cc[k], 0, sizeof cc[k]);
        strcpy(cc[k].name, names[k]);
        vg_envelope_init(&cc[k].env);
        vg_chan_model_clear(&cc[k].local, names[k]);
    }
    cc[0].env.lo = 0;
    cc[0].env.hi = 100;
    cc[0].env.hysteresis = 2;
    cc[0].env.debounce_n = 3;
    cc[0].env.debounce_m = 5;
    cc[0].env.trip = true;
    cc[0].env.stale_us = 15000;
    cc[0].env.trip_on_stale = true;
    cc[0].local.rate_max = 20000;
    cc[0].local.stuck_n = 10;
    cc[2].window = 64;
    cc[2].window_s = 0.03;
    vg_engine_config ec;
    vg_engine_config_init(&ec);
    ec.defaults.adapt = adapt;
    ec.minmax = minmax;
    ec.window = 128;
    ec.chan = cc;
    ec.nchan = 3;
    int rc;
    return vg_engine_create(&ec, &rc);
}

static void blk_apply_model(vg_engine *e)
{
    static vg_model m;
    memset(&m, 0, sizeof m);
    m.version = 7;
    m.nchan = 1;
    vg_chan_model_clear(&m.chan[0], "fit");
    m.chan[0].loc = 50;
    m.chan[0].scale = 2;
    m.chan[0].z_thr = 4;
    m.chan[0].rate_max = 30000;
    CU_ASSERT_EQUAL(vg_engine_apply_model(e, &m), VG_OK);
}

/* What n pushes report for samples [0, n) of a block: the expected events
 * in *l; returns the samples accepted. */
static uint32_t blk_push(vg_engine *e, vg_channel *c, const int64_t *t, const double *x, uint32_t n,
                         struct blk_log *l)
{
    uint32_t ok = 0;
    l->n = 0;
    l->c = c;
    for (uint32_t i = 0; i < n; i++) {
        vg_verdict v;
        memset(&v, 0, sizeof v);
        int rc = vg_engine_push(e, c, t[i], x[i], &v);
        ok += rc == VG_OK;
        if (rc != VG_OK || v.alert_edge || v.trip_edge)
            blk_on_event(l, c, i, rc, rc == VG_OK ? &v : NULL);
    }
    return ok;
}

/* Counts of what the streams exercised. */
struct blk_seen {
    uint64_t alert_edges, trip_edges, nan, order, resets_ok;
};

/* Compares one block through both engines; 1 when alike. */
static int blk_compare(vg_engine *ea, vg_engine *eb, uint32_t ch, const int64_t *t, const double *x,
                       uint32_t n, struct blk_seen *seen)
{
    static struct blk_log la, lb;
    vg_channel *ca = vg_engine_channel(ea, ch), *cb = vg_engine_channel(eb, ch);
    uint32_t oka = blk_push(ea, ca, t, x, n, &la);
    lb.n = 0;
    lb.c = cb;
    lb.bad = 0;
    uint32_t okb = vg_engine_push_block(eb, cb, t, x, n, blk_on_event, &lb);
    int same = oka == okb && !la.bad && !lb.bad && la.n == lb.n && blk_same_channel(ca, cb);
    for (uint32_t k = 0; same && k < la.n; k++) {
        const struct blk_event *a = &la.ev[k], *b = &lb.ev[k];
        same = a->i == b->i && a->rc == b->rc && blk_verdict_eq(&a->v, &b->v);
        seen->alert_edges += a->v.alert_edge != 0;
        seen->trip_edges += a->v.trip_edge;
        seen->nan += a->rc == VG_ENAN;
        seen->order += a->rc == VG_EORDER;
    }
    return same;
}

/* Drives two engines with the same streams, one by single pushes and one
 * by blocks of 0..96 samples, channels taking turns; a model arrives
 * halfway and trips are reset now and then. */
static void blk_run(bool adapt, bool minmax, struct blk_seen *seen)
{
    vg_engine *ea = blk_engine(adapt, minmax), *eb = blk_engine(adapt, minmax);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ea);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eb);
    vg_channel *c;
    CU_ASSERT_EQUAL(vg_engine_lookup(ea, "free", 4, &c), VG_OK);
    CU_ASSERT_EQUAL(vg_engine_lookup(eb, "free", 4, &c), VG_OK);
    static int64_t t[BLK_CHAN][BLK_N];
    static double x[BLK_CHAN][BLK_N];
    uint32_t pos[BLK_CHAN] = {0};
    for (uint32_t k = 0; k < BLK_CHAN; k++)
        blk_stream(11 + k + (adapt ? 100 : 0) + (minmax ? 1000 : 0), t[k], x[k]);
    uint64_t s = 5;
    int model = 0, diverged = 0;
    for (uint32_t round = 0; !diverged; round++) {
        uint32_t left = 0;
        for (uint32_t k = 0; k < BLK_CHAN && !diverged; k++) {
            uint32_t n = (uint32_t)(blk_rng(&s) % 97);
            n = n < BLK_N - pos[k] ? n : BLK_N - pos[k];
            diverged = !blk_compare(ea, eb, k, t[k] + pos[k], x[k] + pos[k], n, seen);
            pos[k] += n;
            left += BLK_N - pos[k];
        }
        if (!model && pos[1] > BLK_N / 2) {
            blk_apply_model(ea);
            blk_apply_model(eb);
            model = 1;
        }
        if (round % 16 == 15) {
            int ra = vg_engine_reset_trips(ea), rb = vg_engine_reset_trips(eb);
            diverged |= ra != rb;
            seen->resets_ok += ra == VG_OK;
        }
        if (!left)
            break;
    }
    CU_ASSERT_FALSE(diverged);
    for (uint32_t k = 0; k < BLK_CHAN; k++)
        CU_ASSERT_TRUE(blk_same_channel(vg_engine_channel(ea, k), vg_engine_channel(eb, k)));
    vg_engine_destroy(ea);
    vg_engine_destroy(eb);
}

static void test_push_block_matches_push(void)
{
    struct blk_seen seen;
    memset(&seen, 0, sizeof seen);
    blk_run(true, false, &seen);  /* the daemon's default: plain windows bar one */
    blk_run(true, true, &seen);   /* min/max deques: no plain window */
    blk_run(false, false, &seen); /* no adaptive detector: window reference */
    /* The streams reached every kind of event. */
    CU_ASSERT_TRUE(seen.alert_edges > 100);
    CU_ASSERT_TRUE(seen.trip_edges > 3);
    CU_ASSERT_TRUE(seen.nan > 100);
    CU_ASSERT_TRUE(seen.order > 100);
    CU_ASSERT_TRUE(seen.resets_ok > 0);
}

/* A NULL callback: the same state, nothing reported. */
static void test_push_block_without_callback(void)
{
    vg_engine *ea = blk_engine(true, false), *eb = blk_engine(true, false);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ea);
    CU_ASSERT_PTR_NOT_NULL_FATAL(eb);
    static int64_t t[BLK_N];
    static double x[BLK_N];
    blk_stream(3, t, x);
    vg_channel *ca = vg_engine_channel(ea, 0), *cb = vg_engine_channel(eb, 0);
    struct blk_log l = {.n = 0};
    uint32_t oka = blk_push(ea, ca, t, x, BLK_N, &l);
    CU_ASSERT_EQUAL(vg_engine_push_block(eb, cb, t, x, BLK_N, NULL, NULL), oka);
    CU_ASSERT_TRUE(oka > BLK_N / 2 && oka < BLK_N);
    CU_ASSERT_TRUE(blk_same_channel(ca, cb));
    CU_ASSERT_EQUAL(vg_engine_push_block(eb, cb, t, x, 0, NULL, NULL), 0);
    CU_ASSERT_TRUE(blk_same_channel(ca, cb));
    vg_engine_destroy(ea);
    vg_engine_destroy(eb);
}

int init_engine_tests(void)
{
    CU_pSuite s = CU_add_suite("engine", NULL, NULL);
    if (!s || !CU_add_test(s, "lookup and admission", test_lookup_and_admission) ||
        !CU_add_test(s, "bad samples change nothing", test_bad_samples_change_nothing) ||
        !CU_add_test(s, "model all or nothing", test_model_apply_all_or_nothing) ||
        !CU_add_test(s, "trip with no model", test_trip_without_model_or_network) ||
        !CU_add_test(s, "push block matches pushes", test_push_block_matches_push) ||
        !CU_add_test(s, "push block without callback", test_push_block_without_callback))
        return CU_get_error();
    return 0;
}
