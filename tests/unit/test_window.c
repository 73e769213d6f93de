/*
 * test_window.c - the window store against a naive model.
 *
 * A reference keeps the expected window content in a plain array (applying
 * the count and time spans by brute force); after every push each aggregate
 * of the window must equal the same aggregate recomputed from scratch.
 * Streams are random (seeded), long enough to wrap the ring many times and
 * the uint32 positions once, and sprinkled with NaN / Inf and ties.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_util.h"
#include "vg_error.h"
#include "vg_window.h"

#define MAXCAP 256

static int g_minmax = 1; /* run_stream's min/max tracking mode */

struct naive {
    double v[1 << 16];
    int64_t t[1 << 16];
    size_t n;
};

static void naive_push(struct naive *nv, uint32_t span_n, int64_t span_us, int64_t t, double x)
{
    size_t drop = 0;
    while (drop < nv->n && span_us > 0 && nv->t[drop] <= t - span_us)
        drop++;
    if (nv->n - drop >= span_n)
        drop = nv->n - span_n + 1;
    memmove(nv->v, nv->v + drop, (nv->n - drop) * sizeof(double));
    memmove(nv->t, nv->t + drop, (nv->n - drop) * sizeof(int64_t));
    nv->n -= drop;
    nv->v[nv->n] = x;
    nv->t[nv->n] = t;
    nv->n++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double naive_median(const double *v, size_t n)
{
    double s[1 << 16];
    memcpy(s, v, n * sizeof(double));
    qsort(s, n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : s[n / 2 - 1] + (s[n / 2] - s[n / 2 - 1]) / 2;
}

static void check_against(const vg_window *w, const struct naive *nv, double *scratch)
{
    CU_ASSERT_EQUAL_FATAL(vg_window_count(w), nv->n);
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < nv->n; i++) {
        CU_ASSERT_EQUAL_FATAL(vg_window_at(w, (uint32_t)i), nv->v[i]);
        sum += nv->v[i];
        mn = fmin(mn, nv->v[i]);
        mx = fmax(mx, nv->v[i]);
    }
    double mean = sum / nv->n, ss = 0;
    for (size_t i = 0; i < nv->n; i++)
        ss += (nv->v[i] - mean) * (nv->v[i] - mean);
    CU_ASSERT_EQUAL_FATAL(vg_window_min(w), mn);
    CU_ASSERT_EQUAL_FATAL(vg_window_max(w), mx);
    /* Rounding error scales with the magnitude of the values, not of the
     * result: compare against that. */
    double mag = fmax(1.0, fmax(fabs(mn), fabs(mx)));
    CU_ASSERT_TRUE_FATAL(fabs(vg_window_mean(w) - mean) <= 1e-10 * mag);
    if (nv->n >= 2)
        CU_ASSERT_TRUE_FATAL(fabs(vg_window_var(w) - ss / (nv->n - 1)) <= 1e-9 * mag * mag);
    double med, mad, dev[1 << 16];
    CU_ASSERT_EQUAL_FATAL(vg_window_median_mad(w, scratch, &med, &mad), VG_OK);
    CU_ASSERT_EQUAL_FATAL(med, naive_median(nv->v, nv->n));
    for (size_t i = 0; i < nv->n; i++)
        dev[i] = fabs(nv->v[i] - med);
    CU_ASSERT_EQUAL_FATAL(mad, naive_median(dev, nv->n));
}

/* One random stream: values with ties and outliers, NaN/Inf, time jitter. */
static void run_stream(uint64_t seed, uint32_t cap, uint32_t span_n, int64_t span_us, int steps)
{
    static uint8_t mem[MAXCAP * 24] __attribute__((aligned(8)));
    static struct naive nv;
    double scratch[MAXCAP];
    vg_window w;
    CU_ASSERT_EQUAL_FATAL(vg_window_init(&w, cap, span_n, span_us, mem, sizeof mem), VG_OK);
    vg_window_track_minmax(&w, g_minmax);
    nv.n = 0;
    uint64_t rng = seed;
    int64_t t = 1700000000000000;
    for (int i = 0; i < steps; i++) {
        t += (int64_t)(vg_test_rand(&rng) % 2000); /* 0..2 ms: ties in time too */
        double u = vg_test_uniform(&rng), x;
        if (u < 0.03)
            x = (u < 0.015) ? NAN : INFINITY;
        else if (u < 0.3)
            x = (double)(vg_test_rand(&rng) % 5); /* many ties */
        else
            x = 100.0 * vg_test_normal(&rng) + (u < 0.32 ? 1e6 : 0);
        int rc = vg_window_push(&w, t, x);
        if (!isfinite(x)) {
            CU_ASSERT_EQUAL_FATAL(rc, VG_ENAN);
        } else {
            CU_ASSERT_EQUAL_FATAL(rc, VG_OK);
            naive_push(&nv, span_n ? span_n : cap, span_us, t, x);
        }
        if (nv.n)
            check_against(&w, &nv, scratch);
    }
}

static void test_count_windows(void)
{
    for (uint64_t s = 1; s <= 20; s++)
        run_stream(s, 64, (uint32_t)(1 + s * 3), 0, 3000);
    run_stream(99, 256, 0, 0, 5000);
    run_stream(7, 2, 0, 0, 500);
}

static void test_time_windows(void)
{
    for (uint64_t s = 1; s <= 20; s++)
        run_stream(100 + s, 128, 0, (int64_t)(s * 5000), 3000);
    run_stream(5, 64, 10, 20000, 3000); /* both spans at once */
}

static void test_untracked_minmax(void)
{
    g_minmax = 0; /* min/max by scan must agree with the naive model too */
    for (uint64_t s = 1; s <= 5; s++)
        run_stream(200 + s, 64, (uint32_t)(8 * s), (int64_t)(s * 7000), 2000);
    g_minmax = 1;
    /* switching tracking on mid-stream rebuilds the deques */
    static uint8_t mem[32 * 24] __attribute__((aligned(8)));
    vg_window w;
    vg_window_init(&w, 32, 0, 0, mem, sizeof mem);
    vg_window_track_minmax(&w, 0);
    for (int i = 0; i < 50; i++)
        vg_window_push(&w, i, (double)((i * 13) % 17));
    vg_window_track_minmax(&w, 1);
    CU_ASSERT_EQUAL(vg_window_min(&w), 0);
    CU_ASSERT_EQUAL(vg_window_max(&w), 16);
    for (int i = 50; i < 90; i++)
        vg_window_push(&w, i, 100.0 + i);
    CU_ASSERT_EQUAL(vg_window_min(&w), 158);
    CU_ASSERT_EQUAL(vg_window_max(&w), 189);
}

static void test_position_wrap(void)
{
    /* Start positions just below 2^32 so they wrap mid-stream. */
    static uint8_t mem[16 * 24] __attribute__((aligned(8)));
    vg_window w;
    CU_ASSERT_EQUAL_FATAL(vg_window_init(&w, 16, 0, 0, mem, sizeof mem), VG_OK);
    w.head = w.tail = w.mn_head = w.mn_tail = w.mx_head = w.mx_tail = UINT32_MAX - 40;
    for (int i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL(vg_window_push(&w, i, (double)((i * 7) % 13)), VG_OK);
        double mn = INFINITY, mx = -INFINITY;
        for (int k = i < 15 ? 0 : i - 15; k <= i; k++) {
            mn = fmin(mn, (double)((k * 7) % 13));
            mx = fmax(mx, (double)((k * 7) % 13));
        }
        CU_ASSERT_EQUAL(vg_window_min(&w), mn);
        CU_ASSERT_EQUAL(vg_window_max(&w), mx);
    }
    CU_ASSERT_EQUAL(vg_window_count(&w), 16);
}

static void test_errors_leave_state(void)
{
    static uint8_t mem[8 * 24] __attribute__((aligned(8)));
    vg_window w;
    CU_ASSERT_EQUAL(vg_window_init(&w, 6, 0, 0, mem, sizeof mem), VG_EINVAL); /* not 2^k */
    CU_ASSERT_EQUAL(vg_window_init(&w, 8, 9, 0, mem, sizeof mem), VG_EINVAL); /* span > cap */
    CU_ASSERT_EQUAL(vg_window_init(&w, 8, 0, 0, mem, 10), VG_EINVAL);         /* short buffer */
    CU_ASSERT_EQUAL_FATAL(vg_window_init(&w, 8, 0, 0, mem, sizeof mem), VG_OK);
    CU_ASSERT_TRUE(isnan(vg_window_mean(&w)));
    CU_ASSERT_TRUE(isnan(vg_window_min(&w)));
    CU_ASSERT_EQUAL(vg_window_newest_time(&w), INT64_MIN);
    CU_ASSERT_EQUAL(vg_window_push(&w, 10, 1.0), VG_OK);
    CU_ASSERT_EQUAL(vg_window_push(&w, 9, 2.0), VG_EORDER);
    CU_ASSERT_EQUAL(vg_window_push(&w, 11, NAN), VG_ENAN);
    CU_ASSERT_EQUAL(vg_window_push(&w, 11, -INFINITY), VG_ENAN);
    CU_ASSERT_EQUAL(vg_window_count(&w), 1);
    CU_ASSERT_EQUAL(vg_window_mean(&w), 1.0);
    CU_ASSERT_TRUE(isnan(vg_window_var(&w)));
    CU_ASSERT_EQUAL(vg_window_newest_time(&w), 10);
}

static void test_expire_and_quantile(void)
{
    static uint8_t mem[32 * 24] __attribute__((aligned(8)));
    double scratch[32], q;
    vg_window w;
    CU_ASSERT_EQUAL_FATAL(vg_window_init(&w, 32, 0, 1000, mem, sizeof mem), VG_OK);
    for (int i = 1; i <= 10; i++)
        vg_window_push(&w, i * 100, i);
    CU_ASSERT_EQUAL(vg_window_count(&w), 10); /* t in (0, 1000] */
    vg_window_expire(&w, 1500);               /* keeps t > 500 */
    CU_ASSERT_EQUAL(vg_window_count(&w), 5);
    CU_ASSERT_EQUAL(vg_window_min(&w), 6.0);
    CU_ASSERT_EQUAL(vg_window_quantile(&w, scratch, 0.5, &q), VG_OK);
    CU_ASSERT_EQUAL(q, 8.0); /* ceil(2.5) = 3rd smallest of 6..10 */
    CU_ASSERT_EQUAL(vg_window_quantile(&w, scratch, 1.0, &q), VG_OK);
    CU_ASSERT_EQUAL(q, 10.0);
    CU_ASSERT_EQUAL(vg_window_quantile(&w, scratch, 0.0, &q), VG_OK);
    CU_ASSERT_EQUAL(q, 6.0);
    vg_window_expire(&w, 100000);
    CU_ASSERT_EQUAL(vg_window_count(&w), 0);
    CU_ASSERT_EQUAL(vg_window_median_mad(&w, scratch, &q, NULL), VG_EINVAL);
}

static void test_large_level_small_spread(void)
{
    /* 1e8 +- 0.01 from the first sample on: the sums must be centred on the
     * data from the start, not on 0. */
    static uint8_t mem[1024 * 24] __attribute__((aligned(8)));
    vg_window w;
    vg_window_init(&w, 1024, 0, 0, mem, sizeof mem);
    double sum = 0, ss = 0;
    for (int i = 0; i < 1000; i++)
        vg_window_push(&w, i, 1e8 + ((i % 2) ? 0.01 : -0.01));
    for (int i = 0; i < 1000; i++)
        sum += 1e8 + ((i % 2) ? 0.01 : -0.01);
    double mean = sum / 1000;
    for (int i = 0; i < 1000; i++) {
        double d = 1e8 + ((i % 2) ? 0.01 : -0.01) - mean;
        ss += d * d;
    }
    CU_ASSERT_TRUE(fabs(vg_window_var(&w) - ss / 999) < 1e-6 * ss / 999);
    /* huge finite values do not poison the sums for good */
    for (int i = 1000; i < 1010; i++)
        vg_window_push(&w, i, 1e300);
    for (int i = 1010; i < 3100; i++)
        vg_window_push(&w, i, (double)(i % 3));
    CU_ASSERT_TRUE(fabs(vg_window_var(&w) - 2.0 / 3.0) < 1e-3);
}

static void test_select(void)
{
    uint64_t rng = 42;
    double a[301], b[301];
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + vg_test_rand(&rng) % 300;
        for (size_t i = 0; i < n; i++)
            a[i] = (double)(vg_test_rand(&rng) % (round % 2 ? 7 : 100000));
        memcpy(b, a, n * sizeof(double));
        qsort(b, n, sizeof(double), cmp_double);
        size_t k = vg_test_rand(&rng) % n;
        CU_ASSERT_EQUAL_FATAL(vg_select(a, n, k), b[k]);
    }
}

int init_window_tests(void)
{
    CU_pSuite s = CU_add_suite("window", NULL, NULL);
    if (!s || !CU_add_test(s, "count windows vs naive", test_count_windows) ||
        !CU_add_test(s, "time windows vs naive", test_time_windows) ||
        !CU_add_test(s, "untracked min/max", test_untracked_minmax) ||
        !CU_add_test(s, "uint32 position wrap", test_position_wrap) ||
        !CU_add_test(s, "errors leave state unchanged", test_errors_leave_state) ||
        !CU_add_test(s, "expire and quantile", test_expire_and_quantile) ||
        !CU_add_test(s, "selection vs sort", test_select) ||
        !CU_add_test(s, "large level, small spread", test_large_level_small_spread))
        return CU_get_error();
    return 0;
}
