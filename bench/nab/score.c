/*
 * score.c - vigil-nab-score: scores detector output by the NAB rules.
 *
 *   vigil-nab-score --manifest FILE --dir DIR --det NAME [--part tune|held|all]
 *                   [--col score|alert]
 *
 * Reads every series of the chosen part from the manifest (see
 * gen_corpus.c), and for each the detector's output DIR/<name>.<NAME>.csv
 * (a header, then one row per input row: timestamp,anomaly_score,alert,...;
 * only the row order matters).  A row is a detection when its column is at
 * or above the threshold.  Rules (after the NAB scoring description):
 *
 *   - rows in the probationary period are not scored;
 *   - in a labelled window [s, e) only the earliest detection counts, with
 *     reward A_tp * sigma(-(e - i) / (e - s)), where sigma(y) is the scaled
 *     sigmoid 2 / (1 + exp(5 y)) - 1 (y > 3: -1); so 0.987 at the window's
 *     start, 0 at its end;
 *   - a detection outside every window costs A_fp * sigma(y) with y its
 *     distance past the end of the previous window in window lengths (small
 *     just after a window, -A_fp from three lengths on), or A_fp in full
 *     before the first window;
 *   - a window without detection costs A_fn;
 *   - per profile (standard 1/0.11/1, low-FP 1/0.22/1, low-FN 1/0.11/2 for
 *     A_tp/A_fp/A_fn) the raw sum over the part is normalised to
 *     100 (S - S_null) / (S_perfect - S_null): the null detector never fires,
 *     the perfect one fires at the first row of every window.
 *
 * --col score sweeps the threshold and picks, per profile, the one that is
 * best over the whole part (one threshold for every series, as NAB does);
 * --col alert scores the 0/1 alert column as it is (threshold 0.5).
 * Output: one line per profile, "det part col profile thr score tp fp fn".
 * Cost: O(thresholds x rows) time, the part's score columns in memory.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SC_MAX_WIN  16  /* windows per series at most */
#define SC_NPROFILE 3   /* standard, reward_low_FP, reward_low_FN */
#define SC_MAX_THR  512 /* thresholds in the sweep */

/* One series: its labels and the detector column. */
typedef struct sc_series {
    char name[128];      /* series name */
    long rows, prob;     /* length, probationary rows */
    int nwin;            /* windows */
    long ws[SC_MAX_WIN]; /* window starts (row) */
    long we[SC_MAX_WIN]; /* window ends (row, exclusive) */
    double *col;         /* detector column, rows values */
} sc_series;

/* Unweighted tallies of one evaluation. */
typedef struct sc_tally {
    double tp; /* sum of sigmoid rewards of detected windows */
    double fp; /* sum of (negative) false-positive sigmoids */
    long ntp;  /* windows detected */
    long nfn;  /* windows missed */
    long nfp;  /* false-positive rows */
} sc_tally;

static const char *const sc_prof_name[SC_NPROFILE] = {"standard", "low_fp", "low_fn"};
static const double sc_atp[SC_NPROFILE] = {1.0, 1.0, 1.0};
static const double sc_afp[SC_NPROFILE] = {0.11, 0.22, 0.11};
static const double sc_afn[SC_NPROFILE] = {1.0, 1.0, 2.0};

/* NAB's scaled sigmoid of a relative position y. */
static double sc_sigmoid(double y)
{
    return y > 3.0 ? -1.0 : 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

/* Parses "s:e;s:e" or "-" into s's windows; windows ending inside the
 * probationary period are dropped (they cannot be scored). */
static void sc_parse_windows(sc_series *s, const char *w)
{
    s->nwin = 0;
    while (*w && *w != '-' && s->nwin < SC_MAX_WIN) {
        char *end;
        long a = strtol(w, &end, 10);
        if (*end != ':')
            return;
        long b = strtol(end + 1, &end, 10);
        if (b > s->prob && b > a) {
            s->ws[s->nwin] = a < s->prob ? s->prob : a;
            s->we[s->nwin++] = b;
        }
        w = *end == ';' ? end + 1 : end;
    }
}

/* Reads column `col` (1-based field) of file path into s->col. */
static int sc_read_output(sc_series *s, const char *path, int col)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[1024];
    long r = 0;
    s->col = calloc((size_t)s->rows, sizeof(double));
    if (!s->col || !fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (fgets(line, sizeof line, f) && r < s->rows) {
        char *p = line;
        for (int k = 0; k < col && p; k++) {
            p = strchr(p, ',');
            p = p ? p + 1 : NULL;
        }
        s->col[r++] = p ? strtod(p, NULL) : 0.0;
    }
    fclose(f);
    return r == s->rows ? 0 : -1;
}

/* Tallies series s at threshold thr into *t. */
static void sc_eval_series(const sc_series *s, double thr, sc_tally *t)
{
    int k = 0, det = 0;
    for (long i = s->prob; i < s->rows; i++) {
        while (k < s->nwin && i >= s->we[k]) {
            t->nfn += !det;
            k++;
            det = 0;
        }
        if (!(s->col[i] >= thr))
            continue;
        if (k < s->nwin && i >= s->ws[k]) {
            if (!det) {
                t->tp += sc_sigmoid(-(double)(s->we[k] - i) / (double)(s->we[k] - s->ws[k]));
                t->ntp++;
                det = 1;
            }
        } else if (k > 0) {
            double len = (double)(s->we[k - 1] - s->ws[k - 1]);
            t->fp += sc_sigmoid((double)(i - s->we[k - 1] + 1) / len);
            t->nfp++;
        } else {
            t->fp -= 1.0;
            t->nfp++;
        }
    }
    for (; k < s->nwin; k++, det = 0)
        t->nfn += !det;
}

/* Normalised score of a tally for profile p over nwin windows. */
static double sc_normalise(const sc_tally *t, int p, long nwin)
{
    double raw = sc_atp[p] * t->tp + sc_afp[p] * t->fp - sc_afn[p] * (double)t->nfn;
    double null = -sc_afn[p] * (double)nwin, perfect = sc_atp[p] * sc_sigmoid(-1.0) * (double)nwin;
    return nwin ? 100.0 * (raw - null) / (perfect - null) : 0.0;
}

/* Thresholds of the sweep: a linear grid and a fine grid towards 1. */
static int sc_thresholds(double *thr)
{
    int n = 0;
    for (int i = 1; i <= 200; i++)
        thr[n++] = i * 0.005;
    for (int i = 5; i <= 120; i++)
        thr[n++] = 1.0 - pow(10.0, -(double)i / 10.0);
    thr[n++] = INFINITY; /* never fires: the null detector */
    return n;
}

/* Loads the manifest's series of `part` and their outputs. */
static int sc_load(const char *manifest, const char *dir, const char *det, const char *part,
                   int col, sc_series **out, int *n)
{
    FILE *m = fopen(manifest, "r");
    if (!m)
        return -1;
    char line[4096];
    int cap = 0;
    *n = 0;
    *out = NULL;
    while (fgets(line, sizeof line, m)) {
        char name[128], prt[16], win[2048];
        long rows, prob;
        if (sscanf(line, "%127[^,],%15[^,],%ld,%ld,%2047[^,]", name, prt, &rows, &prob, win) != 5)
            continue;
        if (strcmp(part, "all") && strcmp(part, prt))
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            *out = realloc(*out, sizeof(sc_series) * (size_t)cap);
        }
        sc_series *s = &(*out)[(*n)++];
        memset(s, 0, sizeof(*s));
        snprintf(s->name, sizeof s->name, "%s", name);
        s->rows = rows;
        s->prob = prob;
        sc_parse_windows(s, win);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.%s.csv", dir, name, det);
        if (sc_read_output(s, path, col) != 0) {
            fprintf(stderr, "vigil-nab-score: %s: missing or short output\n", path);
            fclose(m);
            return -1;
        }
    }
    fclose(m);
    return 0;
}

/* Tally of every series at threshold thr. */
static void sc_eval_all(const sc_series *s, int n, double thr, sc_tally *t)
{
    memset(t, 0, sizeof(*t));
    for (int i = 0; i < n; i++)
        sc_eval_series(&s[i], thr, t);
}

int main(int argc, char **argv)
{
    const char *manifest = NULL, *dir = NULL, *det = NULL, *part = "all", *colname = "score";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--manifest"))
            manifest = v;
        else if (!strcmp(k, "--dir"))
            dir = v;
        else if (!strcmp(k, "--det"))
            det = v;
        else if (!strcmp(k, "--part"))
            part = v;
        else if (!strcmp(k, "--col"))
            colname = v;
    }
    if (!manifest || !dir || !det) {
        fprintf(stderr, "usage: vigil-nab-score --manifest F --dir D --det NAME "
                        "[--part tune|held|all] [--col score|alert]\n");
        return 2;
    }
    int alert = !strcmp(colname, "alert"), n;
    sc_series *s;
    if (sc_load(manifest, dir, det, part, alert ? 2 : 1, &s, &n) != 0)
        return 1;
    long nwin = 0;
    for (int i = 0; i < n; i++)
        nwin += s[i].nwin;
    double thr[SC_MAX_THR];
    int nthr = alert ? 1 : sc_thresholds(thr);
    if (alert)
        thr[0] = 0.5;
    double best[SC_NPROFILE], bthr[SC_NPROFILE];
    sc_tally bt[SC_NPROFILE];
    for (int p = 0; p < SC_NPROFILE; p++)
        best[p] = -INFINITY;
    for (int j = 0; j < nthr; j++) {
        sc_tally t;
        sc_eval_all(s, n, thr[j], &t);
        for (int p = 0; p < SC_NPROFILE; p++) {
            double v = sc_normalise(&t, p, nwin);
            if (v > best[p]) {
                best[p] = v;
                bthr[p] = thr[j];
                bt[p] = t;
            }
        }
    }
    for (int p = 0; p < SC_NPROFILE; p++)
        printf("%s %s %s %s %.6g %.1f %ld %ld %ld\n", det, part, colname, sc_prof_name[p], bthr[p],
               best[p], bt[p].ntp, bt[p].nfp, bt[p].nfn);
    for (int i = 0; i < n; i++)
        free(s[i].col);
    free(s);
    return 0;
}
