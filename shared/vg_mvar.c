/*
 * vg_mvar.c - the multivariate detector's online half (see vg_mvar.h):
 * model validation, column mapping, and per-row T^2 / Q scoring.
 *
 * Per row: p subtractions and divisions (standardise, hold-last for NaN),
 * p * k multiply-adds (scores), k divisions (T^2), two EWMA updates, one
 * square root; p k more multiply-adds when drift adaptation is on (the
 * row's scores mapped back: its move projected onto the principal
 * subspace).  No allocation, no
 * I/O; the state is fixed-size.
 *
 * Re-learning (vg_mvar.h): per row p stores into the ring and two bit
 * operations on the alert window; when the window says the alert has
 * persisted, one vg_mvar_fit over the ring (rotated in place into
 * chronological order first, O(n p)), O(n p^2 + p^3).
 *
 * Covariance adaptation (vg_mvar.h): on a quiet row p (p + 1) / 2 + 4 p
 * multiply-adds (mean and upper half of the covariance); every 16 p such
 * rows one re-decomposition: 1.5 p^3 multiply-adds for V^T cov V, one
 * Jacobi sweep (p (p - 1) / 2 rotations of O(p)), a column sort.  Measured
 * (callgrind, vigil-bench-mvar's rows): 1502 -> 2216 instructions a row at
 * p = 8 when every row is folded, 1505 -> 1514 when none is.  Set up at
 * vg_mvar_init and after a re-fit: one Jacobi decomposition from cold.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "vg_error.h"
#include "vg_mvar.h"

#define MVAR_GATE 0.25 /* full-rate adaptation under this R^2 */
#define MVAR_SLOW 0.02 /* else this fraction of the rate */
#define MVAR_HOT  0.5  /* hot alert row: raw stat over this of its limit */
#define MVAR_RAW  2.0  /* a row with a raw stat over this x its limit: not folded */

/* True when every one of v[0..n) is finite and, if pos, positive. */
static int mvar__finite(const double *v, uint32_t n, int pos)
{
    for (uint32_t i = 0; i < n; i++)
        if (!isfinite(v[i]) || (pos && !(v[i] > 0)))
            return 0;
    return 1;
}

/* True when the names are valid channel names, unique. */
static int mvar__names_ok(const vg_mvar_model *m)
{
    for (uint32_t j = 0; j < m->p; j++) {
        size_t len = strnlen(m->name[j], sizeof m->name[j]);
        if (len > VG_CHANNEL_MAX || !vg_valid_channel(m->name[j], len))
            return 0;
        for (uint32_t i = 0; i < j; i++)
            if (strcmp(m->name[i], m->name[j]) == 0)
                return 0;
    }
    return 1;
}

/* Contract in vg_mvar.h; *m is only read. */
int vg_mvar_check(const vg_mvar_model *m)
{
    if (!m)
        return VG_EINVAL;
    if (m->p == 0)
        return VG_OK;
    if (m->p > VG_MVAR_MAX || m->k < 1 || m->k > m->p || !mvar__names_ok(m))
        return VG_EINVAL;
    if (!mvar__finite(m->loc, m->p, 0) || !mvar__finite(m->scale, m->p, 1) ||
        !mvar__finite(m->eig, m->k, 1) || !mvar__finite(m->load, m->p * m->k, 0))
        return VG_EINVAL;
    double lim[4] = {m->t2_lim, m->q_lim, m->lambda, m->t2_mean};
    if (!mvar__finite(lim, 4, 1) || m->lambda > 1 || !isfinite(m->q_mean) || m->q_mean < 0)
        return VG_EINVAL;
    if (!isfinite(m->drift) || m->drift < 0 || m->drift >= 1)
        return VG_EINVAL;
    return VG_OK;
}

/* Sorts the columns of s->vec by d[] (the diagonal of V^T cov V),
 * descending, ties by position; d is permuted alike. */
static void mvar__order(vg_mvar *s, double *d)
{
    uint32_t p = s->m.p, ord[VG_MVAR_MAX];
    double v[VG_MVAR_MAX * VG_MVAR_MAX], e[VG_MVAR_MAX];
    for (uint32_t i = 0; i < p; i++)
        ord[i] = i;
    for (uint32_t i = 1; i < p; i++)
        for (uint32_t j = i; j > 0 && d[ord[j]] > d[ord[j - 1]]; j--) {
            uint32_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    memcpy(v, s->vec, sizeof(double) * p * p);
    for (uint32_t c = 0; c < p; c++) {
        e[c] = d[ord[c]];
        for (uint32_t j = 0; j < p; j++)
            s->vec[j * p + c] = v[j * p + ord[c]];
    }
    memcpy(d, e, sizeof(double) * p);
}

/* Starts the covariance adaptation from the model: mu = loc, cov = L
 * diag(eig) L^T + r (I - L L^T) with r = q_mean / (p - k) (the training
 * residual spread shared evenly; also the eigenvalues' floor), and its
 * eigenvectors by Jacobi from cold (L and a basis of the rest).  The model
 * itself is not touched.  O(p^3) per sweep. */
static void mvar__cov_start(vg_mvar *s)
{
    const vg_mvar_model *m = &s->m;
    uint32_t p = m->p, k = m->k;
    double a[VG_MVAR_MAX * VG_MVAR_MAX], d[VG_MVAR_MAX];
    double r = k < p ? m->q_mean / (double)(p - k) : 0;
    for (uint32_t i = 0; i < p; i++)
        for (uint32_t j = 0; j < p; j++) {
            double ll = 0, le = 0;
            for (uint32_t c = 0; c < k; c++) {
                ll += m->load[i * k + c] * m->load[j * k + c];
                le += m->load[i * k + c] * m->load[j * k + c] * m->eig[c];
            }
            a[i * p + j] = s->cov[i * p + j] = le + r * ((i == j) - ll);
        }
    vg_mvar_jacobi(a, s->vec, p);
    for (uint32_t i = 0; i < p; i++)
        d[i] = a[i * p + i];
    mvar__order(s, d);
    memcpy(s->mu, m->loc, sizeof(double) * p);
    memcpy(s->eig0, m->eig, sizeof(double) * k);
    s->eig_floor = r > 1e-9 * p ? r : 1e-9 * p;
    s->folded = 0;
    s->cov_g = 1;
}

/* Folds the held row s->last into the slow mean mu and the covariance
 * (upper half, standardised by the model's scales) at rate a =
 * s->adapt: d = (last - mu) / scale, mu += a d scale, cov = (1 - a) (cov
 * + a d d^T).  The decay is kept aside: cov = cov_g x the stored matrix,
 * so a row costs one multiply-add an entry (the stored matrix is brought
 * back to scale at each decomposition, before cov_g can fall under (1 -
 * a)^(16 p)).  About its own slow mean, not the scoring means loc (they
 * chase the operating point, so their residuals understate the spread the
 * model was fitted with).  p (p + 1) / 2 + 4 p multiply-adds. */
static void mvar__cov_fold(vg_mvar *s)
{
    uint32_t p = s->m.p;
    double a = s->adapt, w = a / s->cov_g, d[VG_MVAR_MAX];
    for (uint32_t j = 0; j < p; j++) {
        d[j] = (s->last[j] - s->mu[j]) / s->m.scale[j];
        s->mu[j] += a * d[j] * s->m.scale[j];
    }
    for (uint32_t i = 0; i < p; i++) {
        double *c = &s->cov[i * p], wdi = w * d[i];
        for (uint32_t j = i; j < p; j++)
            c[j] += wdi * d[j];
    }
    s->cov_g *= 1 - a;
}

/* The covariance at scale, full (both halves) into c; resets cov_g. */
static void mvar__cov_full(vg_mvar *s, double *c)
{
    uint32_t p = s->m.p;
    for (uint32_t i = 0; i < p; i++)
        for (uint32_t j = i; j < p; j++)
            c[j * p + i] = c[i * p + j] = s->cov[i * p + j] *= s->cov_g;
    s->cov_g = 1;
}

/* Writes the adapted spectrum into the model: the first k columns of
 * s->vec as loadings, d[0..k) as eigenvalues, each kept within
 * [eig_floor, the model's own c-th eigenvalue].  The axes may turn and
 * tighten, never widen: a spread wider than the fit is what a slow fault
 * looks like, and is left to re-learning.  The limits stay: T^2 is
 * normalised by the adapted eigenvalues, Q is measured off the adapted
 * subspace. */
static void mvar__publish(vg_mvar *s, const double *d)
{
    vg_mvar_model *m = &s->m;
    uint32_t p = m->p, k = m->k;
    for (uint32_t c = 0; c < k; c++) {
        for (uint32_t j = 0; j < p; j++)
            m->load[j * k + c] = s->vec[j * p + c];
        double e = d[c] < s->eig0[c] ? d[c] : s->eig0[c];
        m->eig[c] = e > s->eig_floor ? e : s->eig_floor;
    }
}

/* Re-decomposition warm-started from the current eigenvectors V: A =
 * V^T cov V (nearly diagonal when the structure moved little), one Jacobi
 * sweep on A rotating V along, columns re-ordered, the model updated.
 * O(p^3): 2 p^3 multiply-adds for A, one sweep. */
static void mvar__decompose(vg_mvar *s)
{
    uint32_t p = s->m.p;
    double c[VG_MVAR_MAX * VG_MVAR_MAX], w[VG_MVAR_MAX * VG_MVAR_MAX];
    double a[VG_MVAR_MAX * VG_MVAR_MAX], d[VG_MVAR_MAX];
    const double *v = s->vec;
    mvar__cov_full(s, c);
    for (uint32_t i = 0; i < p; i++) /* w = cov V */
        for (uint32_t col = 0; col < p; col++) {
            double t = 0;
            for (uint32_t j = 0; j < p; j++)
                t += c[i * p + j] * v[j * p + col];
            w[i * p + col] = t;
        }
    for (uint32_t r = 0; r < p; r++) /* a = V^T w, symmetric */
        for (uint32_t col = r; col < p; col++) {
            double t = 0;
            for (uint32_t j = 0; j < p; j++)
                t += v[j * p + r] * w[j * p + col];
            a[r * p + col] = a[col * p + r] = t;
        }
    vg_mvar_sweep(a, s->vec, p);
    for (uint32_t i = 0; i < p; i++)
        d[i] = a[i * p + i];
    mvar__order(s, d);
    mvar__publish(s, d);
    s->decomps++;
}

/* After a scored row: folds it into the covariance when it is quiet - no
 * alert and R^2 under MVAR_GATE (the mean adaptation's full-rate gate)
 * before this row (was, r2_was), each raw statistic of the row under
 * MVAR_RAW times its limit - and re-decomposes every VG_MVAR_EIG_EVERY p
 * rows folded (so O(p^2) a row amortised).  The gate is the state before the row so that it
 * does not select rows by their own size (gating on the EWMA that includes the row leaves out the
 * larger rows of a quiet stream: the covariance shrinks, T^2 grows, more rows are left out); a
 * fault's rows stop being folded as its EWMA climbs, before its alert. */
static void mvar__cov_step(vg_mvar *s, const vg_mvar_out *o, uint8_t was, double r2_was)
{
    if (!(s->adapt > 0) || was || !(r2_was < MVAR_GATE) || o->t2 > MVAR_RAW * s->m.t2_lim ||
        o->q > MVAR_RAW * s->m.q_lim)
        return;
    mvar__cov_fold(s);
    uint32_t every = VG_MVAR_EIG_EVERY * s->m.p;
    if (++s->folded < every)
        return;
    s->folded = 0;
    mvar__decompose(s);
}

/* Contract in vg_mvar.h; *m is copied. */
int vg_mvar_init(vg_mvar *s, const vg_mvar_model *m, double alert_on, double alert_off)
{
    if (!s || vg_mvar_check(m) != VG_OK || !(alert_on > 0 && alert_on < 1) ||
        !(alert_off > 0 && alert_off <= alert_on))
        return VG_EINVAL;
    memset(s, 0, offsetof(vg_mvar, ring)); /* ring, scratch: written before read */
    s->m = *m;
    s->relearn = VG_MVAR_RELEARN;
    memcpy(s->last, m->loc, sizeof s->last);
    s->t2_s = m->t2_mean;
    s->q_s = m->q_mean;
    s->alert_on = alert_on;
    s->alert_off = alert_off;
    s->adapt = VG_MVAR_ADAPT;
    mvar__cov_start(s);
    return VG_OK;
}

/* Contract in vg_mvar.h. */
int vg_mvar_set_adapt(vg_mvar *s, double rate)
{
    if (!s || !(rate >= 0 && rate <= 0.25))
        return VG_EINVAL;
    s->adapt = rate;
    return VG_OK;
}

/* Contract in vg_mvar.h. */
int vg_mvar_set_relearn(vg_mvar *s, uint32_t h)
{
    if (!s || h > VG_MVAR_RING || (h && h < 32))
        return VG_EINVAL;
    s->relearn = h;
    s->win_hot = s->win_pos = 0;
    memset(s->win, 0, sizeof s->win);
    return VG_OK;
}

/* Standardises row x into z (hold-last for NaN). */
static void mvar__standardise(vg_mvar *s, const double *x, double *z)
{
    for (uint32_t j = 0; j < s->m.p; j++) {
        if (isfinite(x[j]))
            s->last[j] = x[j];
        z[j] = (s->last[j] - s->m.loc[j]) / s->m.scale[j];
    }
}

/* T^2 and Q of standardised row z, leaving its k scores in t. */
static void mvar__scores(const vg_mvar_model *m, const double *z, double *t, double *t2, double *q)
{
    double t2a = 0, proj = 0, zz = 0;
    for (uint32_t j = 0; j < m->p; j++)
        zz += z[j] * z[j];
    for (uint32_t c = 0; c < m->k; c++) {
        double tc = 0;
        for (uint32_t j = 0; j < m->p; j++)
            tc += z[j] * m->load[j * m->k + c];
        t[c] = tc;
        t2a += tc * tc / m->eig[c];
        proj += tc * tc;
    }
    *t2 = t2a;
    *q = zz > proj ? zz - proj : 0;
}

/* Contract in vg_mvar.h. */
void vg_mvar_stats(const vg_mvar_model *m, const double *z, double *t2, double *q)
{
    double t[VG_MVAR_MAX];
    mvar__scores(m, z, t, t2, q);
}

/* Moves the channel means toward the held values at rate a, within the
 * principal subspace only: the operating point may move along the learnt
 * correlations, a move off them (what Q sees) is never learnt.  t holds
 * the row's scores (the move's coordinates in the subspace). */
static void mvar__adapt(vg_mvar *s, const double *t, double a)
{
    vg_mvar_model *m = &s->m;
    for (uint32_t j = 0; j < m->p; j++) {
        double d = 0;
        for (uint32_t c = 0; c < m->k; c++)
            d += t[c] * m->load[j * m->k + c];
        m->loc[j] += a * d * m->scale[j];
    }
}

/* Reverses rows [a, b) of the ring (stride p) in place. */
static void mvar__reverse(double *r, uint32_t p, uint32_t a, uint32_t b)
{
    for (; a + 1 < b; a++, b--)
        for (uint32_t j = 0; j < p; j++) {
            double t = r[a * p + j];
            r[a * p + j] = r[(b - 1) * p + j];
            r[(b - 1) * p + j] = t;
        }
}

/* Puts the ring's rows in chronological order from slot 0 (rotation by
 * three reversals, no extra memory). */
static void mvar__ring_order(vg_mvar *s)
{
    uint32_t n = s->ring_n, k = s->ring_n < VG_MVAR_RING ? 0 : s->ring_pos;
    if (k == 0)
        return;
    mvar__reverse(s->ring, s->m.p, 0, k);
    mvar__reverse(s->ring, s->m.p, k, n);
    mvar__reverse(s->ring, s->m.p, 0, n);
    s->ring_pos = 0;
}

/* Appends the held row s->last to the ring. */
static void mvar__ring_push(vg_mvar *s)
{
    memcpy(&s->ring[(size_t)s->ring_pos * s->m.p], s->last, sizeof(double) * s->m.p);
    s->ring_pos = (s->ring_pos + 1) % VG_MVAR_RING;
    s->ring_n += s->ring_n < VG_MVAR_RING;
}

/* Records this row's alert bit in the window of the last 2 H rows;
 * returns the rows in alert among them. */
static uint32_t mvar__window(vg_mvar *s, uint8_t alert)
{
    uint32_t i = s->win_pos, w = i / 64;
    uint64_t bit = 1ull << (i % 64);
    s->win_hot -= (s->win[w] & bit) != 0;
    s->win[w] = alert ? s->win[w] | bit : s->win[w] & ~bit;
    s->win_hot += alert;
    s->win_pos = (i + 1) % (VG_MVAR_WIN * s->relearn);
    return s->win_hot;
}

/* Re-fits the model on the ring's rows.  1 when the new model is in use
 * (same channels, same order), 0 when the old one stays. */
static int mvar__refit(vg_mvar *s)
{
    const char *names[VG_MVAR_MAX];
    vg_mvar_opts o;
    vg_mvar_model nm;
    for (uint32_t j = 0; j < s->m.p; j++)
        names[j] = s->m.name[j];
    vg_mvar_opts_init(&o);
    o.lambda = s->m.lambda;
    o.drift = s->m.drift;
    mvar__ring_order(s);
    int ok = vg_mvar_fit(names, s->m.p, s->ring, s->ring_n, s->fit_scratch, &o, &nm) == VG_OK &&
             nm.p == s->m.p;
    vg_mvar_set_relearn(s, s->relearn);
    if (!ok) {
        s->relearn_fails++;
        return 0;
    }
    s->m = nm;
    mvar__cov_start(s);
    s->t2_s = nm.t2_mean;
    s->q_s = nm.q_mean;
    s->alert = 0;
    s->ring_n = s->ring_pos = 0;
    s->relearns++;
    return 1;
}

/* After row scoring: ring, window and, when due, the re-fit.  A row counts
 * as hot when in alert and its own raw T^2 or Q (o->t2, o->q) is over
 * MVAR_HOT of its limit too, so the EWMA's tail after a short break ends
 * is not counted.  1 when the model was re-fitted. */
static int mvar__relearn_step(vg_mvar *s, const vg_mvar_out *o)
{
    if (!s->relearn)
        return 0;
    mvar__ring_push(s);
    int raw = o->t2 >= MVAR_HOT * s->m.t2_lim || o->q >= MVAR_HOT * s->m.q_lim;
    uint32_t hot = mvar__window(s, (uint8_t)(s->alert && raw));
    return hot >= s->relearn && s->ring_n >= s->relearn && mvar__refit(s);
}

/* Contract in vg_mvar.h; x is only read, *out is filled. */
void vg_mvar_row(vg_mvar *s, const double *x, vg_mvar_out *out)
{
    double z[VG_MVAR_MAX];
    mvar__standardise(s, x, z);
    double t[VG_MVAR_MAX];
    mvar__scores(&s->m, z, t, &out->t2, &out->q);
    double l = s->m.lambda, a = s->t2_s / s->m.t2_lim, b = s->q_s / s->m.q_lim;
    double r2_was = a > b ? a : b;
    s->t2_s += l * (out->t2 - s->t2_s);
    s->q_s += l * (out->q - s->q_s);
    a = s->t2_s / s->m.t2_lim;
    b = s->q_s / s->m.q_lim;
    double r2 = a > b ? a : b;
    out->t2_s = s->t2_s;
    out->q_s = s->q_s;
    out->which = b > a;
    out->ratio = sqrt(r2);
    out->score = r2 / (1 + r2);
    uint8_t was = s->alert;
    if (!s->alert && out->score >= s->alert_on)
        s->alert = 1;
    else if (s->alert && out->score < s->alert_off)
        s->alert = 0;
    out->relearnt = (uint8_t)mvar__relearn_step(s, out);
    out->alert = s->alert;
    out->alert_edge = was == s->alert ? 0 : s->alert ? 1 : 2;
    if (!out->relearnt) {
        if (s->m.drift > 0)
            mvar__adapt(s, t, r2 < MVAR_GATE ? s->m.drift : s->m.drift * MVAR_SLOW);
        mvar__cov_step(s, out, was, r2_was);
    }
    s->rows++;
}

/* Block of each model channel in batch b, -1 when it has none. */
static void mvar__blocks(const vg_mvar_model *m, const vg_samples *b, int *blk)
{
    for (uint32_t j = 0; j < m->p; j++) {
        size_t len = strlen(m->name[j]);
        blk[j] = -1;
        for (uint32_t i = 0; i < b->nblock && blk[j] < 0; i++)
            if (b->block[i].name_len == len && memcmp(b->block[i].name, m->name[j], len) == 0)
                blk[j] = (int)i;
    }
}

/* Earliest time among the mapped blocks' next samples; 0 when none left. */
static int mvar__next_time(const vg_samples *b, const int *blk, const uint32_t *pos, uint32_t p,
                           int64_t *t)
{
    int any = 0;
    for (uint32_t j = 0; j < p; j++) {
        if (blk[j] < 0 || pos[j] >= b->block[blk[j]].n)
            continue;
        int64_t tj = vg_block_time(&b->block[blk[j]], b->t0_us, pos[j]);
        if (!any || tj < *t)
            *t = tj;
        any = 1;
    }
    return any;
}

/* Contract in vg_mvar.h; *b is only read. */
uint32_t vg_mvar_batch(vg_mvar *s, const vg_samples *b, vg_mvar_row_fn fn, void *user)
{
    int blk[VG_MVAR_MAX];
    uint32_t pos[VG_MVAR_MAX] = {0}, rows = 0, p = s->m.p;
    int64_t t = 0;
    mvar__blocks(&s->m, b, blk);
    while (mvar__next_time(b, blk, pos, p, &t)) {
        double x[VG_MVAR_MAX];
        for (uint32_t j = 0; j < p; j++) {
            const vg_block *bj = blk[j] >= 0 ? &b->block[blk[j]] : NULL;
            int here = bj && pos[j] < bj->n && vg_block_time(bj, b->t0_us, pos[j]) == t;
            x[j] = here ? vg_block_value(bj, pos[j]++) : NAN;
        }
        vg_mvar_out out;
        vg_mvar_row(s, x, &out);
        if (fn)
            fn(user, t, &out);
        rows++;
    }
    return rows;
}

/* Contract in vg_mvar.h; fills idx[0..m->p). */
void vg_mvar_map(const vg_mvar_model *m, const char *const *names, uint32_t n, int *idx)
{
    for (uint32_t j = 0; j < m->p; j++) {
        idx[j] = -1;
        for (uint32_t i = 0; i < n && idx[j] < 0; i++)
            if (strcmp(m->name[j], names[i]) == 0)
                idx[j] = (int)i;
    }
}
