/*
 * gen_pump.c - vigil-mvar-corpus: a deterministic, labelled corpus of
 * multivariate pump series for scoring the multivariate detector (issue 7).
 *
 *   vigil-mvar-corpus --out DIR [--series N] [--seed K] [--train R]
 *
 * Each series is one centrifugal pump at 1 Hz with eight sensors: vib1,
 * vib2 (vibration RMS, mm/s), current (A), pressure (bar), temp_motor,
 * temp_fluid (degC, 0.1 quantised), voltage (V) and flow (m3/h).  They are
 * driven by shared latent states, so they are correlated the way a real
 * machine's are:
 *   - speed S follows a setpoint (moved by up to 5% now and then, ramped)
 *     with an AR(1) wander; demand moves the system resistance R by about
 *     +-6% (AR(1));
 *   - flow from the pump curve H = a S^2 - b Q^2 meeting the system curve
 *     H = h0 + R Q^2; pressure is the system head; hydraulic power over
 *     efficiency gives the current; the voltage sags with current;
 *   - the motor and fluid temperatures follow first-order lags of the
 *     current^2 and the hydraulic power around a wandering ambient;
 *   - vibration grows with S^2 and has heavy-tailed noise.
 * Faults change the machine, not one number, so most break correlations
 * while every channel stays inside its normal marginal range: partial valve
 * closure (R up), leak before the flow meter, cavitation (head loss, more
 * vibration and pressure/flow noise), rotor imbalance (vibration), sensor
 * bias and sensor drift (one channel off by 1.5-4 marginal sd), a stuck flow
 * sensor; and one fault visible on one channel: loss of motor cooling.
 * One fault per series (none in two of every ten), never in the first R rows
 * (the anomaly-free training part, default 400).
 *
 * Output: DIR/<name>.csv ("timestamp,vib1,...", epoch seconds),
 * DIR/<name>.labels (one line per row: "anomaly changepoint", 0/1; the
 * changepoints are a fault's first row and the first row after it), and
 * DIR/manifest.csv in the layout of bench/nab (name,part,rows,probation,
 * windows,kind): part alternates tune / held, probation is R, windows are
 * the changepoint windows, NAB-style: together 10% of the series, split
 * evenly among its changepoints and centred on each (for vigil-nab-score).
 * All randomness is a splitmix64-seeded xoshiro256** stream per series.
 * Cost: O(rows) per series, O(1) memory besides stdio.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../bench_rng.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

#define GP_T0   1700000000 /* first timestamp (epoch seconds) */
#define GP_NCH  8          /* sensors */
#define GP_ROWS 1400       /* rows per series (+- 300) */

enum fault { F_NONE, F_VALVE, F_LEAK, F_CAV, F_IMB, F_BIAS, F_DRIFT, F_STUCK, F_COOL, F_N };
enum ch { C_VIB1, C_VIB2, C_CUR, C_PRES, C_TM, C_TF, C_VOLT, C_FLOW };

static const char *const fault_name[F_N] = {
    "none", "valve", "leak", "cavitation", "imbalance", "bias", "drift", "stuck_flow", "cooling"};
static const char *const ch_name[GP_NCH] = {"vib1",       "vib2",       "current", "pressure",
                                            "temp_motor", "temp_fluid", "voltage", "flow"};
/* Typical marginal sd of each channel over normal operation (for the size
 * of sensor faults) and its measurement noise sd. */
static const double ch_marg[GP_NCH] = {0.25, 0.2, 2.0, 0.35, 1.5, 0.8, 0.6, 7.0};
static const double ch_noise[GP_NCH] = {0.05, 0.05, 0.25, 0.03, 0.1, 0.08, 0.35, 0.8};

/* Heavy-tailed unit noise: a normal with a 5% chance of 3x the spread. */
static double rng_heavy(rng *r)
{
    double z = rng_norm(r);
    return rng_unif(r) < 0.05 ? 3 * z : z;
}

/* One series' fault plan. */
typedef struct plan {
    int fault;    /* enum fault */
    long on, off; /* fault rows [on, off) */
    double sev;   /* severity in [0, 1] */
    int chan;     /* channel of a sensor fault */
    double sign;  /* its direction */
    long rows, train;
} plan;

/* Latent machine state. */
typedef struct pump {
    double s, s_set;      /* speed and setpoint (fraction of nominal) */
    double s_ramp, s_dev; /* ramped setpoint and AR(1) speed wander */
    double demand;        /* AR(1) demand, moves R */
    double r0;            /* this pump's base system resistance */
    double amb;           /* ambient temperature */
    double tm, tf;        /* motor and fluid temperature */
    double stuck;         /* stuck flow reading */
    double mains;         /* mains voltage wander */
} pump;

/* Fault effect of plan p at row i: 0 before, ramping to 1 in 10 rows. */
static double gp__active(const plan *p, long i)
{
    if (p->fault == F_NONE || i < p->on || i >= p->off)
        return 0;
    double a = (double)(i - p->on + 1) / 10.0;
    return a > 1 ? 1 : a;
}

/* Advances the latent state by one second. */
static void gp__latent(pump *m, rng *r)
{
    if (rng_unif(r) < 1.0 / 2000)
        m->s_set += 0.05 * (2 * rng_unif(r) - 1);
    double ds = m->s_set - m->s_ramp;
    m->s_ramp += ds > 0.002 ? 0.002 : ds < -0.002 ? -0.002 : ds;
    m->s_dev += -0.02 * m->s_dev + 0.004 * rng_norm(r);
    m->s = m->s_ramp + m->s_dev;
    m->demand += -0.01 * m->demand + 0.03 * rng_norm(r);
    m->amb += -0.001 * (m->amb - 22) + 0.01 * rng_norm(r);
    m->mains += -0.01 * m->mains + 0.1 * rng_norm(r);
}

/* One row of sensor values for state m under plan p at row i. */
static void gp__row(pump *m, const plan *p, long i, rng *r, double *y)
{
    double a = 60, b = 0.002, h0 = 10, f = gp__active(p, i), sev = p->sev;
    double R = m->r0 * (1 + 0.3 * m->demand), leak = 0;
    if (p->fault == F_VALVE)
        R *= 1 + f * (0.5 + 0.7 * sev);
    if (p->fault == F_LEAK) {
        leak = f * (0.06 + 0.08 * sev);
        R *= 1 - 1.5 * leak;
    }
    if (p->fault == F_CAV)
        a *= 1 - f * (0.06 + 0.08 * sev);
    double hp = a * m->s * m->s - h0;
    double q = sqrt((hp > 0 ? hp : 0) / (b + R));
    double head = h0 + R * q * q;
    double ph = 9.81 * q * head / 3600.0; /* kW */
    double cur = (ph / 0.7 + 0.6) * 1000 / (1.732 * 400 * 0.85);
    double vib = 0.6 + 1.6 * m->s * m->s;
    if (p->fault == F_CAV)
        vib *= 1 + f * (0.15 + 0.25 * sev);
    double imb = p->fault == F_IMB ? f * (0.25 + 0.4 * sev) * m->s * m->s : 0;
    double cool = p->fault == F_COOL ? f * (8 + 12 * sev) : 0;
    m->tm += (m->amb + 0.045 * cur * cur + cool - m->tm) / 300.0;
    m->tf += (m->amb + 4 + 0.5 * ph - m->tf) / 900.0;
    double noisy = p->fault == F_CAV ? 1 + 3 * f : 1;
    y[C_VIB1] = vib + imb + ch_noise[C_VIB1] * rng_heavy(r);
    y[C_VIB2] = 0.8 * vib + 0.6 * imb + 0.1 + ch_noise[C_VIB2] * rng_heavy(r);
    y[C_CUR] = cur * (1 + 0.02 * (imb > 0)) + ch_noise[C_CUR] * rng_norm(r);
    y[C_PRES] = 0.0981 * head + noisy * ch_noise[C_PRES] * rng_norm(r);
    y[C_TM] = round((m->tm + ch_noise[C_TM] * rng_norm(r)) * 10) / 10;
    y[C_TF] = round((m->tf + ch_noise[C_TF] * rng_norm(r)) * 10) / 10;
    y[C_VOLT] = 400 + m->mains - 0.12 * cur + ch_noise[C_VOLT] * rng_norm(r);
    y[C_FLOW] = q * (1 - 2 * leak) + noisy * ch_noise[C_FLOW] * rng_norm(r);
    if (p->fault == F_STUCK && f > 0)
        y[C_FLOW] = m->stuck;
    else
        m->stuck = y[C_FLOW];
    if (p->fault == F_BIAS && f > 0)
        y[p->chan] += p->sign * (1.5 + 1.0 * sev) * ch_marg[p->chan];
    if (p->fault == F_DRIFT && f > 0)
        y[p->chan] += p->sign * (2 + 2 * sev) * ch_marg[p->chan] * (double)(i - p->on) /
                      (double)(p->off - p->on);
}

/* Draws series k's plan. */
static void gp__plan(rng *r, long k, long train, plan *p)
{
    memset(p, 0, sizeof *p);
    p->rows = GP_ROWS - 300 + (long)(600 * rng_unif(r));
    p->train = train;
    p->fault = k % 10 >= 8 ? F_NONE : 1 + (int)((k / 2) % (F_N - 1));
    p->sev = rng_unif(r);
    static const int sens[] = {C_VIB1, C_CUR, C_PRES, C_TM, C_FLOW};
    p->chan = sens[(int)(rng_unif(r) * 5)];
    p->sign = rng_unif(r) < 0.5 ? -1 : 1;
    long dur = 120 + (long)(280 * rng_unif(r));
    long room = p->rows - train - 100 - dur;
    p->on = train + 100 + (long)((double)(room > 0 ? room : 0) * rng_unif(r));
    p->off = p->on + dur;
}

/* Writes the manifest line: NAB windows around the changepoints. */
static void gp__manifest(FILE *m, const char *name, const plan *p, long k)
{
    fprintf(m, "%s,%s,%ld,%ld,", name, k % 2 ? "held" : "tune", p->rows, p->train);
    if (p->fault == F_NONE) {
        fprintf(m, "-,%s\n", fault_name[p->fault]);
        return;
    }
    long w = p->rows / 10 / 2, cp[2] = {p->on, p->off};
    for (int j = 0; j < 2; j++) {
        long s = cp[j] - w / 2, e = cp[j] + (w - w / 2);
        fprintf(m, "%s%ld:%ld", j ? ";" : "", s < 0 ? 0 : s, e > p->rows ? p->rows : e);
    }
    fprintf(m, ",%s\n", fault_name[p->fault]);
}

/* Generates series k into DIR. */
static int gp__series(const char *dir, uint64_t seed, long k, long train, FILE *man)
{
    rng r;
    rng_seed(&r, seed, (uint64_t)k);
    plan p;
    gp__plan(&r, k, train, &p);
    pump m = {.s = 0.8 + 0.2 * rng_unif(&r), .r0 = 0.003 + 0.002 * rng_unif(&r), .amb = 22};
    m.s_set = m.s_ramp = m.s;
    m.tm = 45;
    m.tf = 30;
    char name[64], path[4200];
    snprintf(name, sizeof name, "pump%03ld_%s", k, fault_name[p.fault]);
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    FILE *f = fopen(path, "w");
    snprintf(path, sizeof path, "%s/%s.labels", dir, name);
    FILE *l = fopen(path, "w");
    if (!f || !l)
        return -1;
    fputs("timestamp", f);
    for (int c = 0; c < GP_NCH; c++)
        fprintf(f, ",%s", ch_name[c]);
    fputc('\n', f);
    for (long i = -4000; i < p.rows; i++) { /* warm-up: the thermal lags settle */
        double y[GP_NCH];
        gp__latent(&m, &r);
        gp__row(&m, &p, i, &r, y);
        if (i < 0)
            continue;
        fprintf(f, "%ld", GP_T0 + i);
        for (int c = 0; c < GP_NCH; c++)
            fprintf(f, ",%.4f", y[c]);
        fputc('\n', f);
        int an = p.fault != F_NONE && i >= p.on && i < p.off;
        int cp = p.fault != F_NONE && (i == p.on || i == p.off);
        fprintf(l, "%d %d\n", an, cp);
    }
    gp__manifest(man, name, &p, k);
    return fclose(f) | fclose(l);
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    long n = 40, train = 400;
    uint64_t seed = 7;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else if (!strcmp(argv[i], "--series"))
            n = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--train"))
            train = atol(argv[i + 1]);
    }
    if (!out || n <= 0 || train < 50) {
        fprintf(stderr, "usage: vigil-mvar-corpus --out DIR [--series N] [--seed K] "
                        "[--train ROWS]\n");
        return 2;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/manifest.csv", out);
    FILE *man = fopen(path, "w");
    if (!man) {
        perror(path);
        return 1;
    }
    for (long k = 0; k < n; k++)
        if (gp__series(out, seed, k, train, man) != 0) {
            fprintf(stderr, "vigil-mvar-corpus: cannot write series %ld in %s\n", k, out);
            return 1;
        }
    return fclose(man) ? 1 : 0;
}
