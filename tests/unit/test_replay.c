/*
 * test_replay.c - vigil-replay's pipeline end to end on real files: output
 * shape, trips from the config's envelope, missing cells, training, and
 * errors that name file, line and column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "replay.h"
#include "vg_conf.h"
#include "vg_error.h"
#include "vg_msg.h"

static char in_path[64], out_path[64], err_path[64], model_path[64];
static int run_mvar;              /* opts.mvar of the next run() */
static const vg_model *run_model; /* opts.model of the next run() */

static int suite_init(void)
{
    snprintf(in_path, sizeof in_path, "/tmp/vg-replay-in-%d.csv", (int)getpid());
    snprintf(out_path, sizeof out_path, "/tmp/vg-replay-out-%d.csv", (int)getpid());
    snprintf(err_path, sizeof err_path, "/tmp/vg-replay-err-%d.txt", (int)getpid());
    snprintf(model_path, sizeof model_path, "/tmp/vg-replay-model-%d.cbor", (int)getpid());
    return 0;
}

static int suite_clean(void)
{
    unlink(in_path);
    unlink(out_path);
    unlink(err_path);
    unlink(model_path);
    return 0;
}

/* Runs the replay of `csv` with `conf`; returns its status, fills *st and
 * leaves the output and diagnostics in out_path / err_path. */
static int run(const char *csv, const vg_conf *conf, uint64_t train, const char *save,
               vg_replay_stats *st)
{
    FILE *f = fopen(in_path, "w");
    fputs(csv, f);
    fclose(f);
    FILE *out = fopen(out_path, "w"), *err = fopen(err_path, "w");
    vg_replay_opts o = {.path = in_path,
                        .conf = conf,
                        .train_rows = train,
                        .save_model = save,
                        .mvar = run_mvar,
                        .model = run_model,
                        .out = out,
                        .err = err};
    int rc = vg_replay_run(&o, st);
    fclose(out);
    fclose(err);
    return rc;
}

static char *slurp(const char *path)
{
    static char buf[1 << 20];
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static void test_output_and_trip(void)
{
    static vg_conf c;
    vg_conf_init(&c);
    vg_conf_set(&c, "channel.temp", "hi", "95");
    vg_conf_set(&c, "channel.temp", "trip", "true");
    vg_conf_set(&c, "channel.temp", "debounce_n", "2");
    vg_conf_set(&c, "channel.temp", "debounce_m", "3");
    const char *csv = "timestamp,temp,\"vib (mm/s)\"\n"
                      "2026-01-01 00:00:00,60,1\n"
                      "2026-01-01 00:00:01,96,1\n"
                      "2026-01-01 00:00:02,,1\n"
                      "2026-01-01 00:00:03,97,NaN\n"
                      "2026-01-01 00:00:04,50,1\n";
    vg_replay_stats st;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 0, NULL, &st), VG_OK);
    CU_ASSERT_EQUAL(st.rows, 5);
    CU_ASSERT_EQUAL(st.channels, 2);
    CU_ASSERT_EQUAL(st.missing, 2);
    CU_ASSERT_EQUAL(st.samples, 8);
    CU_ASSERT_EQUAL(st.trips, 1);
    CU_ASSERT_EQUAL(st.first_trip_us, 1767225603000000);
    CU_ASSERT_STRING_EQUAL(slurp(out_path), "timestamp,anomaly_score,alert,trip\n"
                                            "2026-01-01 00:00:00,0.000000,0,0\n"
                                            "2026-01-01 00:00:01,0.000000,0,0\n"
                                            "2026-01-01 00:00:02,0.000000,0,0\n"
                                            "2026-01-01 00:00:03,0.800000,1,1\n"
                                            "2026-01-01 00:00:04,0.800000,1,1\n");
}

static void expect_error(const char *csv, int want_rc, const char *want_msg)
{
    static vg_conf c;
    vg_conf_init(&c);
    vg_replay_stats st;
    CU_ASSERT_EQUAL(run(csv, &c, 0, NULL, &st), want_rc);
    char *err = slurp(err_path);
    char want[256];
    snprintf(want, sizeof want, "%s:%s", in_path, want_msg);
    if (!strstr(err, want))
        fprintf(stderr, "\n  expected '%s' in '%s'\n", want, err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

static void test_errors_name_line_and_column(void)
{
    expect_error("", VG_ETRUNC, "0: empty file");
    expect_error("timestamp\n", VG_EMISSING, "1: header needs");
    expect_error("t,a,a\n", VG_EEXIST, "1:3: duplicate column 'a'");
    expect_error("t,a\n1,2\n2,x\n", VG_ESYNTAX, "3:2: 'x' is not a number");
    expect_error("t,a\n1,2\nyesterday,3\n", VG_ESYNTAX, "3:1: bad timestamp");
    expect_error("t,a\n5,2\n4,3\n", VG_EORDER, "3:1: timestamp '4' goes back in time");
    expect_error("t,a\n1,2,3\n", VG_ESYNTAX, "2: expected 2 fields, found 3");
    expect_error("t,a\n1,\"2\n", VG_ESYNTAX, "2:2: unbalanced");
    expect_error("t,a\n1,inf\n", VG_ESYNTAX, "2:2: 'inf' is not a number");
}

static void test_train_rows(void)
{
    static vg_conf c;
    vg_conf_init(&c);
    static char csv[1 << 18];
    size_t n = (size_t)snprintf(csv, sizeof csv, "timestamp,x\n");
    for (int i = 0; i < 3000; i++) {
        double x = 10 + ((i * 7919) % 101) / 100.0; /* bounded noise in [10, 11] */
        if (i == 2500)
            x = 30; /* the anomaly */
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%.3f\n", 1000 + i, x);
    }
    vg_replay_stats st;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 1000, model_path, &st), VG_OK);
    CU_ASSERT_EQUAL(st.rows, 3000); /* training rows are scored too */
    CU_ASSERT_TRUE(st.alerts_raised >= 1);
    /* the only alert rows are at or after the anomaly */
    char *out = slurp(out_path);
    char *first = NULL;
    for (char *p = strchr(out, '\n'); p && p[1]; p = strchr(p + 1, '\n')) {
        char *c2 = strchr(p + 1, ',');
        c2 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (c2 && c2[1] == '1') {
            first = p + 1;
            break;
        }
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    CU_ASSERT_EQUAL(strncmp(first, "3500,", 5), 0);
    /* the saved model decodes and carries the fitted channel */
    static vg_model m;
    static uint8_t buf[1 << 16];
    FILE *f = fopen(model_path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &m), VG_OK);
    CU_ASSERT_EQUAL(m.nchan, 1);
    CU_ASSERT_STRING_EQUAL(m.chan[0].name, "x");
    CU_ASSERT_TRUE(m.chan[0].loc > 10 && m.chan[0].loc < 11);
    CU_ASSERT_EQUAL(m.train_from_us, 1000000000);
}

static void test_quoted_timestamps_in_training(void)
{
    /* Training rows and later rows print their timestamps the same way. */
    static vg_conf c;
    vg_conf_init(&c);
    static char csv[1 << 16];
    size_t n = (size_t)snprintf(csv, sizeof csv, "t,x\n");
    for (int i = 0; i < 40; i++)
        n += (size_t)snprintf(csv + n, sizeof csv - n, "\"%d\",%d\n", 1000 + i, i % 5);
    vg_replay_stats st;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 20, NULL, &st), VG_OK);
    char *out = slurp(out_path);
    CU_ASSERT_PTR_NULL(strchr(out, '"'));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n1019,"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\n1020,"));
}

/* Alert rows of out_path inside [from, to) and outside it (by row). */
static void count_alerts(int from, int to, int *in, int *out)
{
    char *o = slurp(out_path);
    int row = -1;
    *in = *out = 0;
    for (char *p = strchr(o, '\n'); p && p[1]; p = strchr(p + 1, '\n'), row++) {
        char *c2 = strchr(p + 1, ',');
        c2 = c2 ? strchr(c2 + 1, ',') : NULL;
        if (c2 && c2[1] == '1')
            *(row + 1 >= from && row + 1 < to ? in : out) += 1;
    }
}

static void test_multivariate(void)
{
    /* a and b follow one load L (uniform, independent rows), c is its own
     * noise; in rows [2000, 2200) b follows 1 - L instead: every channel's
     * marginal distribution is unchanged, the correlation is broken. */
    static vg_conf c;
    vg_conf_init(&c);
    static char csv[1 << 18];
    size_t n = (size_t)snprintf(csv, sizeof csv, "timestamp,a,b,c\n");
    uint64_t h = 12345;
    for (int i = 0; i < 3000; i++) {
        double u[3];
        for (int k = 0; k < 3; k++) {
            h = h * 6364136223846793005ull + 1442695040888963407ull;
            u[k] = (double)(h >> 11) * 0x1.0p-53;
        }
        double l = u[0], lb = i >= 2000 && i < 2200 ? 1 - l : l;
        n += (size_t)snprintf(csv + n, sizeof csv - n, "%d,%.4f,%.4f,%.4f\n", 1000 + i,
                              l + 0.05 * u[1], 2 * lb + 0.1 * u[2], u[1]);
    }
    vg_replay_stats st;
    int in, out;
    run_mvar = VG_REPLAY_MVAR_OFF;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 1000, NULL, &st), VG_OK);
    CU_ASSERT_EQUAL(st.mvar_channels, 0);
    count_alerts(2000, 2200, &in, &out);
    int uni_in = in;
    CU_ASSERT_TRUE(uni_in < 10); /* univariate limits cannot see it (measured: 0) */
    run_mvar = VG_REPLAY_MVAR_JOINT;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 1000, model_path, &st), VG_OK);
    CU_ASSERT_EQUAL(st.mvar_channels, 3);
    count_alerts(2000, 2200, &in, &out);
    CU_ASSERT_TRUE(in >= 180);
    CU_ASSERT_TRUE(out < 30); /* measured: 21, the EWMA tail just after */
    static char first[1 << 17];
    strcpy(first, slurp(out_path));
    /* the saved model carries the multivariate part; run with it, the
     * output is the same row for row */
    static vg_model m;
    static uint8_t buf[1 << 16];
    FILE *f = fopen(model_path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    CU_ASSERT_EQUAL_FATAL(vg_model_decode(buf, len, &m), VG_OK);
    CU_ASSERT_EQUAL(m.mvar.p, 3);
    CU_ASSERT_STRING_EQUAL(m.mvar.name[1], "b");
    run_model = &m;
    CU_ASSERT_EQUAL_FATAL(run(csv, &c, 0, NULL, &st), VG_OK);
    run_model = NULL;
    CU_ASSERT_STRING_EQUAL(slurp(out_path), first);
    /* one numeric column: no multivariate part, nothing printed about it */
    CU_ASSERT_EQUAL_FATAL(run("t,x\n1,1\n2,2\n3,1\n", &c, 2, NULL, &st), VG_OK);
    CU_ASSERT_EQUAL(st.mvar_channels, 0);
}

int init_replay_tests(void)
{
    CU_pSuite s = CU_add_suite("replay", suite_init, suite_clean);
    if (!s || !CU_add_test(s, "output and trip", test_output_and_trip) ||
        !CU_add_test(s, "errors name line and column", test_errors_name_line_and_column) ||
        !CU_add_test(s, "train rows", test_train_rows) ||
        !CU_add_test(s, "quoted timestamps in training", test_quoted_timestamps_in_training) ||
        !CU_add_test(s, "multivariate detector", test_multivariate))
        return CU_get_error();
    return 0;
}
