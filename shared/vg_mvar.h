/*
 * vg_mvar.h - the multivariate detector: PCA T^2 and Q (squared prediction
 * error) over correlated channels of one machine.
 *
 * Fit (vg_mvfit.c, the retraining core; vigil-batch retrain and
 * vigil-replay --train-rows both call it) from N training rows x p channels:
 *   1. hold-last for missing cells (rows before every channel has had a
 *      value are skipped); rows with a channel beyond its median +- 6
 *      robust sds (1.4826 MAD) are left out, so a few spikes in the
 *      training rows inflate neither the covariance nor the limits (not for
 *      a channel whose MAD is 0, nor one with over 2% of rows beyond: a
 *      regime, not spikes); per-channel mean and standard deviation; a
 *      channel (almost) constant over the training rows is left out (the
 *      univariate detectors watch it);
 *   2. correlation matrix of the standardised rows; its eigendecomposition
 *      by cyclic Jacobi rotations (deterministic, O(p^3) per sweep, p <= 16);
 *      eigenvalues descending, each eigenvector's largest entry positive;
 *   3. k = fewest components explaining `var_explained` of the variance, at
 *      most p - 1 so the residual (Q) subspace is never empty;
 *   4. the training rows are scored again (T^2 and Q, then their EWMAs at
 *      rate lambda; with holdout > 0 only the last `holdout` of them, by a
 *      model fitted on the rows before) and each EWMA's limit is the larger
 *      of a scaled chi^2 fitted by moments (g chi^2_h with g = var / (2
 *      mean), h = 2 mean^2 / var, Box 1954 / Nomikos-MacGregor; its
 *      (1 - far) quantile by Wilson-Hilferty) and the empirical quantile at
 *      level 1 - max(far, 10 / N), times a margin: 6 at 400 rows, scaled by
 *      (400 / N)^0.75 for N rows (at least 1.5).  It is large for short
 *      training because in-sample statistics of a few hundred rows of a
 *      slowly moving machine understate the spread of the rows that follow;
 *      the longer the training, the less (measured on bench/mvar's
 *      corpora: docs/DETECTION.md).
 * The same rows and options give bit-identical models (fixed order of every
 * sum, no randomness).  Cost: O(N p^2 + p^3) time; memory: the caller's
 * scratch of 2 N doubles, nothing allocated.
 *
 * Online (vg_mvar.c): per row O(p k) flops (2 p k multiply-adds with drift
 * adaptation), plus O(p^2) on rows folded into the covariance (below), no
 * allocation, fixed-size state (about 4.4 KiB of its own, a copy of the
 * model, 3.6 KiB, the re-learning ring and fit scratch, 72 KiB: 80 KiB in
 * all).  A missing cell
 * (NaN) holds its channel's last value (the model mean before any).  The
 * ratio R = sqrt(max(EWMA(T^2) / t2_lim, EWMA(Q) / q_lim)) is in the style
 * of the univariate detectors: the score is R^2 / (1 + R^2), an alert is
 * raised at score >= alert_on and cleared below alert_off.  With
 * drift > 0 the channel means follow the data's projection onto the
 * principal subspace (slow operating-point drift along the learnt
 * correlations; a move off them, what Q sees, is never learnt): at that
 * rate on rows with R^2 under 0.25, at 1/50 of it otherwise, so a
 * persistent fault is learnt only slowly (about 6% after 100 rows at the
 * default 0.03) and a drift that got past the gate is still caught up.
 * Re-learning a persistent new regime: the state keeps a ring of the last
 * VG_MVAR_RING held rows (inside the object: 64 KiB at p = 16, written only
 * as rows arrive) and a bit window over the last 2 H rows, H = `relearn`
 * (VG_MVAR_RELEARN = 384 by default, vg_mvar_set_relearn; at most
 * VG_MVAR_RING; W = VG_MVAR_WIN = 2).  A row is "hot" when in alert and its own raw T^2 or Q is
 * over half its limit (so the EWMA's tail after a break ends is not
 * counted).  When H of the last 2 H rows were hot (an alarm lasting H rows,
 * or an intermittent one hot on half the rows for 2 H rows) and the ring
 * holds at least H rows since the last re-learn, the model is re-fitted on
 * the ring's rows (vg_mvar_fit, default options with the model's lambda and
 * drift; O(n p^2 + p^3), n <= VG_MVAR_RING, once per such event, no
 * allocation: the fit's scratch is in the object too), the EWMAs restart
 * from the new model's means, the alert clears (out->relearnt = 1, an
 * alert_edge 2) and `relearns` counts it.  A re-fit that would lose a
 * channel (constant over the ring) or fails is not used (`relearn_fails`);
 * the window restarts.  So a correlation break shorter than H rows stays
 * alarmed the whole time and is not learnt; a new operating regime is
 * alarmed for H to 2 H rows, then learnt.
 * Covariance adaptation (rate `adapt`, VG_MVAR_ADAPT = 1/256 by default,
 * vg_mvar_set_adapt, 0 = off): the correlations themselves may drift
 * slowly (the relative phase of two sensors, a coupling that weakens), so
 * the object keeps an exponentially weighted mean and covariance of the
 * rows (standardised by the model's scales; started from the model's
 * spectrum, the residual spread q_mean / (p - k) on every residual axis)
 * and its full eigenvector matrix.  A row is folded in (p (p + 1) / 2
 * multiply-adds) when the state before it was quiet - no alert, R^2 under
 * 0.25 - and its raw T^2 and Q are under twice their limits: the rows of
 * a fault stop being folded as its EWMA climbs, before its alert, so a
 * break is not learnt within its alarm.  Every VG_MVAR_EIG_EVERY p rows
 * folded (16 p) the covariance is re-decomposed warm-started from the
 * current eigenvectors (A = V^T cov V, nearly diagonal, one Jacobi sweep:
 * O(p^3), O(p^2) a folded row amortised, deterministic) and the first k
 * axes become the model's loadings, their variances its eigenvalues, each
 * kept within [q_mean / (p - k), the model's own]: the axes may turn and
 * tighten, never widen past the fit (a widening spread is what a slow
 * fault looks like).  The limits stay; T^2 is normalised by the adapted
 * eigenvalues and Q measured off the adapted subspace.  A re-learning
 * re-fit restarts the adaptation from the new model.  Limitations: a
 * model whose limits are already exceeded when scoring starts never opens
 * the gate (re-learning takes over after H rows); a slow fault that looks
 * like a drifting correlation (a motor's cooling failing over hundreds of
 * rows) is partly followed (docs/DETECTION.md).
 * vg_mvar_batch() scores a decoded samples batch as rows (for vigild).
 * The detector never trips: trips come only from the safety envelope.
 */
#ifndef VG_MVAR_H
#define VG_MVAR_H

#include <stddef.h>
#include <stdint.h>

#include "vg_model.h"
#include "vg_msg.h"

#define VG_MVAR_RING 512 /* rows kept for re-learning */
#ifndef VG_MVAR_WIN
#define VG_MVAR_WIN 2 /* the hot window spans W H rows (build option) */
#endif
#ifndef VG_MVAR_RELEARN
#define VG_MVAR_RELEARN 384 /* default re-learn horizon H, rows (0 = off) */
#endif
#ifndef VG_MVAR_ADAPT
#define VG_MVAR_ADAPT (1.0 / 256) /* default covariance adaptation rate (0 = off) */
#endif
#ifndef VG_MVAR_EIG_EVERY
#define VG_MVAR_EIG_EVERY 16 /* x p rows folded between two re-decompositions */
#endif

/* Fit options. */
typedef struct vg_mvar_opts {
    double var_explained; /* variance kept by the principal subspace (0.99) */
    double far;           /* target false-alarm rate per row (1e-3) */
    double margin;        /* multiplier on the fitted limits (6) at... */
    uint32_t margin_rows; /* ...this many training rows (400); for N rows it
                             is margin * (margin_rows / N)^0.75, at least 1.5;
                             0: margin as it is */
    double lambda;        /* EWMA rate of the statistics (0.2; 1 = raw) */
    double drift;         /* online mean adaptation rate (0.03; 0 = off) */
    double clip;          /* training rows beyond median +- clip robust sds
                             in a channel are left out (6; 0 = off) */
    double holdout;       /* last fraction of the rows that calibrates the
                             limits against a fit on the rest (0 = in-sample) */
    uint32_t min_rows;    /* fewer usable rows: VG_EINVAL (32) */
} vg_mvar_opts;

/* Fills *o with the defaults above. */
void vg_mvar_opts_init(vg_mvar_opts *o);

/* Fits *out from n rows x p channels (x[i * p + j], NaN = missing) named
 * names[0..p).  scratch must hold 2 n doubles (owned by the caller, only
 * used during the call).  VG_EINVAL when p > VG_MVAR_MAX, fewer than 2
 * non-constant channels or fewer than o->min_rows usable rows (then
 * out->p is 0). */
int vg_mvar_fit(const char *const *names, uint32_t p, const double *x, size_t n, double *scratch,
                const vg_mvar_opts *o, vg_mvar_model *out);

/* VG_OK when *m is a usable model (sizes, names, finite and positive
 * where required); VG_EINVAL otherwise.  p == 0 is valid ("none"). */
int vg_mvar_check(const vg_mvar_model *m);

/* One cyclic Jacobi sweep over the q x q symmetric matrix a (row-major):
 * every off-diagonal pair (r, s) in order rotated to zero, the rotations
 * accumulated into the columns of v.  a and v are the caller's, updated in
 * place.  O(q^3); deterministic. */
void vg_mvar_sweep(double *a, double *v, uint32_t q);

/* Eigendecomposition of the q x q symmetric a by sweeps until the
 * off-diagonal part vanishes (at most 64): a's diagonal ends holding the
 * eigenvalues (unordered), v (q x q, row-major) the eigenvectors as
 * columns.  O(q^3) per sweep. */
void vg_mvar_jacobi(double *a, double *v, uint32_t q);

/* T^2 and Q of one standardised row z[0..m->p): O(p k). */
void vg_mvar_stats(const vg_mvar_model *m, const double *z, double *t2, double *q);

/* Per-row result. */
typedef struct vg_mvar_out {
    double t2, q;       /* raw statistics of this row */
    double t2_s, q_s;   /* their EWMAs */
    double ratio;       /* R (see above) */
    double score;       /* R^2 / (1 + R^2) */
    uint8_t which;      /* 0: T^2 gave R, 1: Q gave R */
    uint8_t alert;      /* alert state after this row */
    uint8_t alert_edge; /* 1 raised, 2 cleared by this row, else 0 */
    uint8_t relearnt;   /* 1: the model was re-fitted after this row */
} vg_mvar_out;

/* Online state: owns a copy of the model. */
typedef struct vg_mvar {
    vg_mvar_model m;          /* the model (loc may drift) */
    double last[VG_MVAR_MAX]; /* last value of each channel */
    double t2_s, q_s;         /* EWMAs */
    double alert_on, alert_off;
    uint64_t rows; /* rows scored */
    uint8_t alert; /* alert raised */
    /* re-learning (see above); ring and fit_scratch are written only as
     * rows arrive, so an idle object leaves their pages untouched */
    uint32_t relearn;                              /* horizon H in rows, 0 = never */
    uint32_t ring_n;                               /* rows held in ring since the last re-learn */
    uint32_t ring_pos;                             /* next ring slot */
    uint32_t win_hot;                              /* rows in alert among the window's */
    uint32_t win_pos;                              /* next window bit, 0..2 H) */
    uint32_t relearns;                             /* re-fits made */
    uint32_t relearn_fails;                        /* re-fits not usable */
    uint64_t win[VG_MVAR_WIN * VG_MVAR_RING / 64]; /* hot bit of the last W H rows */
    /* covariance adaptation (see above) */
    double adapt;                            /* rate, 0 = off */
    double mu[VG_MVAR_MAX];                  /* slow mean of the rows */
    double cov[VG_MVAR_MAX * VG_MVAR_MAX];   /* their covariance, standardised (upper half) */
    double vec[VG_MVAR_MAX * VG_MVAR_MAX];   /* its eigenvectors, p x p, columns */
    double eig0[VG_MVAR_MAX];                /* the model's eigenvalues: upper bounds */
    double eig_floor;                        /* lower bound of every eigenvalue */
    double cov_g;                            /* cov = cov_g x the stored matrix */
    uint32_t folded;                         /* rows folded since the last decomposition */
    uint32_t decomps;                        /* re-decompositions made */
    double ring[VG_MVAR_RING * VG_MVAR_MAX]; /* held rows, stride m.p */
    double fit_scratch[2 * VG_MVAR_RING];    /* vg_mvar_fit's scratch */
} vg_mvar;

/* Starts scoring with a copy of *m (vg_mvar_check must pass) and the alert
 * thresholds on the score.  VG_EINVAL for a bad model or thresholds. */
int vg_mvar_init(vg_mvar *s, const vg_mvar_model *m, double alert_on, double alert_off);

/* Sets the re-learn horizon to h rows (0: never re-learn); restarts the
 * alert window.  VG_EINVAL when h > VG_MVAR_RING or h < 32. */
int vg_mvar_set_relearn(vg_mvar *s, uint32_t h);

/* Sets the covariance adaptation rate (0: off; the model then changes
 * only by drift and re-learning).  VG_EINVAL unless 0 <= rate <= 0.25. */
int vg_mvar_set_adapt(vg_mvar *s, double rate);

/* Scores one row: x[j] is model channel j's value (NaN = missing).  May
 * re-fit the model (see above): O(n p^2 + p^3) on that row only. */
void vg_mvar_row(vg_mvar *s, const double *x, vg_mvar_out *out);

/* Called by vg_mvar_batch for every row scored: its time and verdict. */
typedef void (*vg_mvar_row_fn)(void *user, int64_t t_us, const vg_mvar_out *out);

/* Scores a decoded samples batch (vg_samples_decode) as rows, for vigild:
 * the distinct sample times of the model's channels' blocks, in increasing
 * order; at each, a channel with a sample then takes it and the others hold
 * their last value.  Blocks of other channels are ignored.  Calls fn (may
 * be NULL) once per row; returns the number of rows.  Cost: O(rows x p)
 * merge plus O(p k) per row, O(p x blocks) name look-ups; no allocation. */
uint32_t vg_mvar_batch(vg_mvar *s, const vg_samples *b, vg_mvar_row_fn fn, void *user);

/* Maps the model's channels onto a caller's columns: idx[j] = position of
 * model channel j in names[0..n), or -1 when absent. */
void vg_mvar_map(const vg_mvar_model *m, const char *const *names, uint32_t n, int *idx);

#endif
