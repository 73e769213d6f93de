/*
 * test_sim_io.c - vigil-sim's data paths without a broker: the actuator's
 * command handling (real CBOR from the core's encoders), the sample batch
 * encoder (decoded back with the core's decoder), the --dump format, the
 * --replay CSV reader and the time formatting.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "firmware-sim/actuator.h"
#include "firmware-sim/batch.h"
#include "firmware-sim/dump.h"
#include "firmware-sim/replay.h"
#include "firmware-sim/simtime.h"
#include "vg_error.h"
#include "vg_msg.h"

#define T0 SIM_DEFAULT_START_US

/* ---- actuator ------------------------------------------------------------ */

/* Encodes a shutdown for `dev` into *c. */
static void make_shutdown(sim_cmd *c, const char *dev, uint64_t trip)
{
    vg_shutdown s = {.detector = VG_DET_LIMIT, .trip_id = trip, .t_us = T0};
    snprintf(s.device, sizeof s.device, "%s", dev);
    snprintf(s.channel, sizeof s.channel, "temp");
    snprintf(s.reason, sizeof s.reason, "limit 95");
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_shutdown_encode(&s, c->payload, sizeof c->payload, &len), VG_OK);
    c->kind = SIM_CMD_SHUTDOWN;
    c->len = (uint32_t)len;
}

/* Encodes a reset for `dev` into *c. */
static void make_reset(sim_cmd *c, const char *dev)
{
    vg_reset r = {.t_us = T0};
    snprintf(r.device, sizeof r.device, "%s", dev);
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vg_reset_encode(&r, c->payload, sizeof c->payload, &len), VG_OK);
    c->kind = SIM_CMD_RESET;
    c->len = (uint32_t)len;
}

static void test_mailbox(void)
{
    sim_mailbox mb;
    sim_cmd out;
    CU_ASSERT_EQUAL_FATAL(sim_mailbox_init(&mb), VG_OK);
    CU_ASSERT_EQUAL(sim_mailbox_take(&mb, &out), 0);
    for (int i = 0; i < SIM_MAILBOX_CAP; i++)
        CU_ASSERT_EQUAL(sim_mailbox_post(&mb, SIM_CMD_RESET, &i, sizeof i), VG_OK);
    int x = 99;
    CU_ASSERT_EQUAL(sim_mailbox_post(&mb, SIM_CMD_RESET, &x, sizeof x), VG_ENOSPC);
    static uint8_t big[SIM_CMD_PAYLOAD_MAX + 1];
    CU_ASSERT_EQUAL(sim_mailbox_post(&mb, SIM_CMD_SHUTDOWN, big, sizeof big), VG_ETOOBIG);
    CU_ASSERT_EQUAL(mb.dropped, 2);
    for (int i = 0; i < SIM_MAILBOX_CAP; i++) {
        int v = -1;
        CU_ASSERT_EQUAL(sim_mailbox_take(&mb, &out), 1);
        memcpy(&v, out.payload, sizeof v);
        CU_ASSERT_EQUAL(v, i); /* FIFO */
    }
    CU_ASSERT_EQUAL(sim_mailbox_take(&mb, &out), 0);
    sim_mailbox_destroy(&mb);
}

static void test_actuator_shutdown_reset(void)
{
    static const sim_timing tm = {T0, 10.0, 600};
    sim_machine m;
    sim_plan p;
    sim_actuator a;
    sim_effects e;
    sim_cmd c;
    sim_machine_init(&m, 1, 0, T0);
    sim_plan_build(&p, SIM_FAULT_OVERHEAT, SIM_CH_DEFAULT, &tm);
    sim_actuator_init(&a, "sim-0", 60.0);
    sim_plan_effects(&p, T0 + 20 * 1000000LL, true, &e);
    CU_ASSERT(e.cooling_failed);
    m.temp_c = 97.0;

    make_shutdown(&c, "sim-9", 1); /* another device's */
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 21000000, NULL), SIM_ACT_IGNORED);
    CU_ASSERT(m.running);
    make_shutdown(&c, "sim-0", 7);
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 22000000, NULL), SIM_ACT_STOPPED);
    CU_ASSERT_FALSE(m.running);
    CU_ASSERT_EQUAL(a.nstop, 1);
    CU_ASSERT_EQUAL(a.stop[0].trip_id, 7);
    CU_ASSERT_EQUAL(a.stop[0].t_us, T0 + 22000000);
    CU_ASSERT_STRING_EQUAL(a.stop[0].channel, "temp");
    CU_ASSERT_EQUAL(p.fault[0].ended_us, T0 + 22000000); /* the overheat ends at the stop */
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 23000000, NULL), SIM_ACT_IGNORED);

    c.len = 0; /* the agent clearing its retained shutdown */
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 24000000, NULL), SIM_ACT_CLEARED);
    c.len = 3;
    memcpy(c.payload, "\xff\x00\x01", 3);
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 24000000, NULL), SIM_ACT_BAD);

    make_reset(&c, "sim-0");
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 25000000, NULL), SIM_ACT_REFUSED);
    CU_ASSERT_FALSE(m.running);
    m.temp_c = 50.0; /* cooled down */
    CU_ASSERT_EQUAL(sim_actuator_handle(&a, &c, &m, &p, T0 + 90000000, NULL), SIM_ACT_RESTARTED);
    CU_ASSERT(m.running);
    CU_ASSERT_EQUAL(a.stop[0].restart_us, T0 + 90000000);
    CU_ASSERT_EQUAL(a.shutdowns, 3);
    CU_ASSERT_EQUAL(a.ignored, 2);
    CU_ASSERT_EQUAL(a.cleared, 1);
    CU_ASSERT_EQUAL(a.bad, 1);
    CU_ASSERT_EQUAL(a.resets, 1);
    CU_ASSERT_EQUAL(a.resets_refused, 1);
}

static void test_actuator_damage(void)
{
    sim_machine m;
    sim_actuator a;
    sim_machine_init(&m, 1, 0, T0);
    sim_actuator_init(&a, "sim-0", 60.0);
    m.temp_c = SIM_TEMP_DAMAGE_C - 0.1;
    sim_actuator_observe(&a, &m, T0 + 1);
    CU_ASSERT_EQUAL(a.damage_us, SIM_T_NONE);
    m.temp_c = SIM_TEMP_DAMAGE_C;
    sim_actuator_observe(&a, &m, T0 + 2);
    sim_actuator_observe(&a, &m, T0 + 3);
    CU_ASSERT_EQUAL(a.damage_us, T0 + 2);
}

/* ---- batches --------------------------------------------------------------- */

static void test_batch_roundtrip(void)
{
    static const char *const names[] = {"temp", "vib", "pressure"};
    sim_batch b;
    CU_ASSERT_EQUAL_FATAL(sim_batch_init(&b, 3, names, 4), VG_OK);
    uint8_t buf[4096];
    size_t len = 0;
    CU_ASSERT_EQUAL(sim_batch_encode(&b, "dev-1", 0, buf, sizeof buf, &len), VG_EMISSING);
    int full = 0;
    for (int r = 0; r < 4; r++) {
        int64_t t = T0 + r * 250000;
        CU_ASSERT_EQUAL(sim_batch_add(&b, 0, t, 20.0 + r), VG_OK);
        if (r != 2)
            CU_ASSERT_EQUAL(sim_batch_add(&b, 2, t, -1.5 * r), VG_OK); /* r 2 missing */
        full = sim_batch_end_row(&b);
    }
    CU_ASSERT_EQUAL(full, 1);
    CU_ASSERT_EQUAL(sim_batch_add(&b, 0, T0, 1.0), VG_ENOSPC);
    CU_ASSERT_EQUAL(sim_batch_samples(&b), 7);
    CU_ASSERT_EQUAL_FATAL(sim_batch_encode(&b, "dev-1", 42, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT(len <= sim_batch_max_bytes(3, 4));
    vg_block blocks[8];
    vg_samples s = {.block = blocks, .block_cap = 8};
    CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, len, &s), VG_OK);
    CU_ASSERT_STRING_EQUAL(s.device, "dev-1");
    CU_ASSERT_EQUAL(s.seq, 42);
    CU_ASSERT_EQUAL(s.nblock, 2); /* vib had no sample: left out */
    CU_ASSERT(s.block[0].name_len == 4 && memcmp(s.block[0].name, "temp", 4) == 0);
    CU_ASSERT_EQUAL(s.block[1].n, 3);
    CU_ASSERT_EQUAL(vg_block_time(&s.block[1], s.t0_us, 2), T0 + 750000);
    CU_ASSERT(vg_block_value(&s.block[1], 2) == -4.5);
    CU_ASSERT(vg_block_value(&s.block[0], 3) == 23.0);
    sim_batch_reset(&b);
    CU_ASSERT_EQUAL(sim_batch_samples(&b), 0);
    CU_ASSERT_EQUAL(sim_batch_end_row(&b), 0);
    sim_batch_free(&b);
}

static void test_batch_max_bytes(void)
{
    /* the bound holds for the largest names and a full 64-row batch */
    static char n0[VG_CHANNEL_MAX + 1], n1[VG_CHANNEL_MAX + 1];
    memset(n0, 'a', VG_CHANNEL_MAX);
    memset(n1, 'b', VG_CHANNEL_MAX);
    const char *const names[] = {n0, n1};
    sim_batch b;
    CU_ASSERT_EQUAL_FATAL(sim_batch_init(&b, 2, names, 64), VG_OK);
    for (int r = 0; r < 64; r++) {
        sim_batch_add(&b, 0, T0 + (int64_t)r * 3600000000LL, r * 0.1); /* sint64 offsets */
        sim_batch_add(&b, 1, T0 + r, -r * 0.1);
        sim_batch_end_row(&b);
    }
    static uint8_t buf[1 << 16];
    size_t len = 0;
    char dev[VG_DEVICE_MAX + 1];
    memset(dev, 'd', VG_DEVICE_MAX);
    dev[VG_DEVICE_MAX] = '\0';
    CU_ASSERT_EQUAL(sim_batch_encode(&b, dev, UINT64_MAX, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT(len <= sim_batch_max_bytes(2, 64));
    sim_batch_free(&b);
    CU_ASSERT_EQUAL(sim_batch_init(&b, 0, names, 4), VG_EINVAL);
    CU_ASSERT_EQUAL(sim_batch_init(&b, 2, names, VG_BATCH_MAX_SAMPLES + 1), VG_EINVAL);
}

/* ---- dump ---------------------------------------------------------------- */

static void test_dump_roundtrip(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_FATAL(f != NULL);
    const uint8_t p1[] = {1, 2, 3}, p2[] = {0xa0};
    CU_ASSERT_EQUAL(sim_dump_begin(f), VG_OK);
    CU_ASSERT_EQUAL(sim_dump_write(f, "vigil/v1/a/samples", p1, sizeof p1), VG_OK);
    CU_ASSERT_EQUAL(sim_dump_write(f, "vigil/v1/b/samples", p2, sizeof p2), VG_OK);
    rewind(f);
    char topic[64];
    uint8_t buf[16];
    size_t len;
    bool eof;
    CU_ASSERT_EQUAL(sim_dump_open(f), VG_OK);
    CU_ASSERT_EQUAL(sim_dump_read(f, topic, sizeof topic, buf, sizeof buf, &len, &eof), VG_OK);
    CU_ASSERT(!eof && len == 3 && memcmp(buf, p1, 3) == 0);
    CU_ASSERT_STRING_EQUAL(topic, "vigil/v1/a/samples");
    CU_ASSERT_EQUAL(sim_dump_read(f, topic, 8, buf, sizeof buf, &len, &eof), VG_ETOOBIG);
    rewind(f);
    CU_ASSERT_EQUAL(sim_dump_open(f), VG_OK);
    sim_dump_read(f, topic, sizeof topic, buf, sizeof buf, &len, &eof);
    CU_ASSERT_EQUAL(sim_dump_read(f, topic, sizeof topic, buf, sizeof buf, &len, &eof), VG_OK);
    CU_ASSERT(!eof && len == 1 && buf[0] == 0xa0);
    CU_ASSERT_EQUAL(sim_dump_read(f, topic, sizeof topic, buf, sizeof buf, &len, &eof), VG_OK);
    CU_ASSERT(eof);
    fclose(f);
    /* a truncated record and a file that is not a dump */
    f = tmpfile();
    CU_ASSERT_FATAL(f != NULL);
    sim_dump_begin(f);
    sim_dump_write(f, "t", p1, sizeof p1);
    fflush(f);
    CU_ASSERT_EQUAL(ftruncate(fileno(f), 4 + 4 + 1 + 4 + 2), 0);
    rewind(f);
    CU_ASSERT_EQUAL(sim_dump_open(f), VG_OK);
    CU_ASSERT_EQUAL(sim_dump_read(f, topic, sizeof topic, buf, sizeof buf, &len, &eof), VG_ETRUNC);
    rewind(f);
    fputs("XXXX", f);
    rewind(f);
    CU_ASSERT_EQUAL(sim_dump_open(f), VG_ESYNTAX);
    fclose(f);
}

/* ---- replay CSV reader ---------------------------------------------------- */

/* A read-only stream over a string. */
static FILE *text_file(const char *s)
{
    FILE *f = tmpfile();
    if (f) {
        fputs(s, f);
        rewind(f);
    }
    return f;
}

static void test_replay_reader(void)
{
    FILE *f = text_file("timestamp,temp,\"flow\"\r\n"
                        "2024-03-01 12:00:00.5,1.5,2\r\n"
                        "\r\n"
                        "1709294401,,NaN\n"
                        "2024-03-01T12:00:02,-3e2,nan\n");
    CU_ASSERT_FATAL(f != NULL);
    sim_csv r;
    CU_ASSERT_EQUAL_FATAL(sim_csv_open(&r, f), VG_OK);
    CU_ASSERT_EQUAL(r.nchan, 2);
    CU_ASSERT_STRING_EQUAL(r.names[0], "temp");
    CU_ASSERT_STRING_EQUAL(r.names[1], "flow");
    int64_t t;
    double v[2];
    bool present[2], eof;
    CU_ASSERT_EQUAL(sim_csv_next(&r, &t, v, present, &eof), VG_OK);
    CU_ASSERT(!eof && t == 1709294400500000LL && present[0] && present[1] && v[0] == 1.5);
    CU_ASSERT_EQUAL(sim_csv_next(&r, &t, v, present, &eof), VG_OK); /* blank line skipped */
    CU_ASSERT(t == 1709294401000000LL && !present[0] && !present[1]);
    CU_ASSERT_EQUAL(sim_csv_next(&r, &t, v, present, &eof), VG_OK);
    CU_ASSERT(t == 1709294402000000LL && present[0] && v[0] == -300.0 && !present[1]);
    CU_ASSERT_EQUAL(sim_csv_next(&r, &t, v, present, &eof), VG_OK);
    CU_ASSERT(eof);
    sim_csv_close(&r);
    fclose(f);
}

static void test_replay_reader_errors(void)
{
    static const char *const bad[] = {
        "",                   /* no header */
        "t\n1,2\n",           /* no channel */
        "t,a,a\n",            /* duplicate channel */
        "t,bad name\n",       /* invalid channel name */
        "t,a\n1,2,3\n",       /* too many cells */
        "t,a\nyesterday,2\n", /* bad timestamp */
        "t,a\n1,two\n",       /* not a number */
        "t,a\n1,\"2\n",       /* unbalanced quote */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        FILE *f = text_file(bad[i]);
        CU_ASSERT_FATAL(f != NULL);
        sim_csv r;
        int64_t t;
        double v[4];
        bool present[4], eof = false;
        int rc = sim_csv_open(&r, f);
        if (rc == VG_OK)
            rc = sim_csv_next(&r, &t, v, present, &eof);
        CU_ASSERT_EQUAL(rc, VG_ESYNTAX);
        CU_ASSERT(r.err[0] != '\0');
        sim_csv_close(&r);
        fclose(f);
    }
}

/* ---- time ---------------------------------------------------------------- */

static void test_time_format(void)
{
    char b[SIM_TIME_TEXT_MAX];
    CU_ASSERT_STRING_EQUAL(sim_time_format(T0, b), "2024-01-01 08:00:00.000000");
    CU_ASSERT_STRING_EQUAL(sim_time_format(951782400123456LL, b), "2000-02-29 00:00:00.123456");
    CU_ASSERT_STRING_EQUAL(sim_time_format(-1, b), "1969-12-31 23:59:59.999999");
    CU_ASSERT_DOUBLE_EQUAL(sim_time_of_day_s(T0), 8 * 3600.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(sim_time_of_day_s(-1000000), 86399.0, 1e-9);
}

int init_sim_io_tests(void)
{
    CU_pSuite s = CU_add_suite("sim_io", NULL, NULL);
    if (!s || !CU_add_test(s, "mailbox", test_mailbox) ||
        !CU_add_test(s, "actuator shutdown and reset", test_actuator_shutdown_reset) ||
        !CU_add_test(s, "actuator damage", test_actuator_damage) ||
        !CU_add_test(s, "batch round trip", test_batch_roundtrip) ||
        !CU_add_test(s, "batch size bound", test_batch_max_bytes) ||
        !CU_add_test(s, "dump round trip", test_dump_roundtrip) ||
        !CU_add_test(s, "replay reader", test_replay_reader) ||
        !CU_add_test(s, "replay reader errors", test_replay_reader_errors) ||
        !CU_add_test(s, "time format", test_time_format))
        return CU_get_error();
    return 0;
}
