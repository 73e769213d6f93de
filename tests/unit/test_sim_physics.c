/*
 * test_sim_physics.c - vigil-sim's pure model: PRNG, machine physics, fault
 * plans and their timing rules, and the end-to-end safety property the
 * scenarios are built for (a 3-of-5 debounced 95 C limit trips an overheat
 * before the 120 C damage limit and never trips on spikes).
 *
 * Every test runs the real code over simulated time; nothing is mocked.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "firmware-sim/device.h"
#include "firmware-sim/physics.h"
#include "firmware-sim/rng.h"
#include "firmware-sim/scenario.h"
#include "firmware-sim/simtime.h"
#include "vg_error.h"

#define T0   SIM_DEFAULT_START_US
#define US   1000000LL
#define RATE 10.0

/* ---- PRNG ---------------------------------------------------------------- */

static void test_rng_reproducible(void)
{
    sim_rng a, b, c;
    sim_rng_seed(&a, 42, 7);
    sim_rng_seed(&b, 42, 7);
    sim_rng_seed(&c, 42, 8);
    int same_c = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = sim_rng_u64(&a), y = sim_rng_u64(&b), z = sim_rng_u64(&c);
        CU_ASSERT_EQUAL(x, y);
        same_c += x == z;
    }
    CU_ASSERT(same_c < 2);
}

static void test_rng_distributions(void)
{
    sim_rng r;
    sim_rng_seed(&r, 1, 0);
    double su = 0, sn = 0, sn2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = sim_rng_uniform(&r);
        CU_ASSERT(u >= 0.0 && u < 1.0);
        su += u;
        double z = sim_rng_normal(&r);
        sn += z;
        sn2 += z * z;
    }
    CU_ASSERT(fabs(su / n - 0.5) < 0.005);
    CU_ASSERT(fabs(sn / n) < 0.01);
    CU_ASSERT(fabs(sn2 / n - 1.0) < 0.02);
}

/* ---- physics ------------------------------------------------------------- */

/* Steps m for `secs` seconds at RATE with the given cooling state; returns
 * the last true temperature. */
static double run_machine(sim_machine *m, int64_t *t, double secs, bool cooling_failed)
{
    int64_t step = (int64_t)(US / RATE);
    for (int64_t end = *t + (int64_t)(secs * US); *t < end;) {
        *t += step;
        sim_machine_step(m, *t, 1.0 / RATE, cooling_failed);
    }
    return m->temp_c;
}

static void test_physics_deterministic(void)
{
    sim_machine a, b;
    sim_effects e;
    sim_effects_clear(&e);
    sim_machine_init(&a, 9, 3, T0);
    sim_machine_init(&b, 9, 3, T0);
    for (int k = 1; k <= 600; k++) {
        sim_reading ra, rb;
        sim_machine_step(&a, T0 + k * 100000, 0.1, false);
        sim_machine_step(&b, T0 + k * 100000, 0.1, false);
        sim_machine_measure(&a, &e, &ra);
        sim_machine_measure(&b, &e, &rb);
        CU_ASSERT(memcmp(ra.v, rb.v, sizeof ra.v) == 0);
    }
}

static void test_physics_normal_band(void)
{
    /* Twenty devices over an afternoon hour (peak load): temperature stays
     * well inside the 95 C reference limit, everything finite. */
    for (uint32_t d = 0; d < 20; d++) {
        sim_machine m;
        sim_effects e;
        sim_effects_clear(&e);
        int64_t start = T0 + 6 * 3600 * US, t = start;
        sim_machine_init(&m, 5, d, start);
        double hi = -1e9, lo = 1e9;
        for (int k = 0; k < 3600; k++) {
            sim_reading r;
            t += US;
            sim_machine_step(&m, t, 1.0, false);
            sim_machine_measure(&m, &e, &r);
            hi = fmax(hi, r.v[SIM_CH_TEMP]);
            lo = fmin(lo, r.v[SIM_CH_TEMP]);
            CU_ASSERT(isfinite(r.v[SIM_CH_VIB]) && r.v[SIM_CH_VIB] >= 0);
            CU_ASSERT(r.v[SIM_CH_LOAD] >= 0 && r.v[SIM_CH_LOAD] <= 1.1);
        }
        CU_ASSERT(hi < SIM_TEMP_LIMIT_REF - 5);
        CU_ASSERT(lo > 20);
    }
}

static void test_physics_thermal_inertia(void)
{
    /* A stopped machine cools towards ambient as a first-order lag: after
     * one time constant about e^-1 of the excess remains. */
    sim_machine m;
    int64_t t = T0;
    sim_machine_init(&m, 1, 0, T0);
    double t_start = m.temp_c, amb = sim_machine_ambient(&m, T0);
    sim_machine_stop(&m);
    run_machine(&m, &t, m.p.tau_temp_s, false);
    double left = (m.temp_c - sim_machine_ambient(&m, t)) / (t_start - amb);
    CU_ASSERT(fabs(left - exp(-1.0)) < 0.03);
    CU_ASSERT_DOUBLE_EQUAL(m.load, 0.0, 0.0);
    /* restarted, the load comes back and the machine warms up again */
    sim_machine_start(&m);
    double cold = m.temp_c;
    run_machine(&m, &t, 60, false);
    CU_ASSERT(m.load > 0.2);
    CU_ASSERT(m.temp_c > cold + 3);
}

static void test_physics_wear_and_pressure(void)
{
    sim_machine a, b;
    int64_t ta = T0, tb = T0;
    sim_machine_init(&a, 2, 0, T0);
    sim_machine_init(&b, 2, 0, T0);
    a.wear = 0.05;
    b.wear = 0.8;
    run_machine(&a, &ta, 10, false);
    run_machine(&b, &tb, 10, false);
    CU_ASSERT(b.vib > a.vib * 1.5); /* vibration grows with bearing wear */
    /* the pump's duty cycle: over two periods both pressure levels occur */
    double hi = 0, lo = 1e9;
    for (int k = 0; k < (int)(2 * a.p.pump_period_s * RATE); k++) {
        run_machine(&a, &ta, 1.0 / RATE, false);
        hi = fmax(hi, a.pressure);
        lo = fmin(lo, a.pressure);
    }
    CU_ASSERT(hi > 5.0);
    CU_ASSERT(lo < 2.5);
}

static void test_physics_overheat_timing(void)
{
    /* Cooling fails at onset: 95 C is crossed no sooner than 5 s after, and
     * the 120 C damage limit at least 8 s after that (so a debounced limit
     * has time to act), whatever the device's parameters. */
    for (uint32_t d = 0; d < 50; d++) {
        sim_machine m;
        int64_t t = T0;
        sim_machine_init(&m, 11, d, T0);
        double s95 = -1, s120 = -1;
        for (int k = 1; k <= 900 && s120 < 0; k++) {
            run_machine(&m, &t, 0.1, true);
            if (s95 < 0 && m.temp_c >= 95)
                s95 = k * 0.1;
            if (m.temp_c >= SIM_TEMP_DAMAGE_C)
                s120 = k * 0.1;
        }
        CU_ASSERT(s95 >= 5.0);
        CU_ASSERT(s120 > 0 && s120 - s95 >= 8.0);
        CU_ASSERT(s120 <= 60.0);
    }
}

static void test_physics_sensor_effects(void)
{
    sim_machine m;
    sim_effects e;
    sim_reading r;
    int64_t t = T0;
    sim_machine_init(&m, 3, 1, T0);
    sim_effects_clear(&e);
    e.stuck[SIM_CH_PRESSURE] = true;
    e.missing[SIM_CH_VIB] = true;
    double held = 0, d_norm = 0, d_noisy = 0, prev = 0;
    for (int k = 0; k < 200; k++) {
        run_machine(&m, &t, 0.1, false);
        sim_machine_measure(&m, &e, &r);
        if (k == 0)
            held = r.v[SIM_CH_PRESSURE];
        CU_ASSERT(r.v[SIM_CH_PRESSURE] == held); /* bit-exact freeze */
        CU_ASSERT_FALSE(r.present[SIM_CH_VIB]);
        CU_ASSERT(r.present[SIM_CH_TEMP]);
        if (k > 0)
            d_norm += (r.v[SIM_CH_LOAD] - prev) * (r.v[SIM_CH_LOAD] - prev);
        prev = r.v[SIM_CH_LOAD];
    }
    e.stuck[SIM_CH_PRESSURE] = false;
    e.noise_mult[SIM_CH_LOAD] = SIM_NOISY_MULT;
    for (int k = 0; k < 200; k++) {
        run_machine(&m, &t, 0.1, false);
        sim_machine_measure(&m, &e, &r);
        if (k > 0)
            d_noisy += (r.v[SIM_CH_LOAD] - prev) * (r.v[SIM_CH_LOAD] - prev);
        prev = r.v[SIM_CH_LOAD];
        CU_ASSERT(k == 0 || r.v[SIM_CH_PRESSURE] != held);
    }
    CU_ASSERT(d_noisy > 20 * d_norm); /* variance ratio ~ 8^2 */
}

/* ---- scenarios ----------------------------------------------------------- */

static const sim_timing g_tm = {T0, RATE, 600}; /* --duration 60 --rate 10 */

static void test_scenario_parse(void)
{
    sim_scenario s;
    char err[128];
    CU_ASSERT_EQUAL(sim_scenario_parse("normal", &s, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(s.kind, SIM_FAULT_NONE);
    CU_ASSERT_EQUAL(sim_scenario_parse("stuck:temp", &s, err, sizeof err), VG_OK);
    CU_ASSERT(s.kind == SIM_FAULT_STUCK && s.channel == SIM_CH_TEMP);
    CU_ASSERT_EQUAL(sim_scenario_parse("dropout:*", &s, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(s.channel, SIM_CH_DEVICE);
    CU_ASSERT_EQUAL(sim_scenario_parse("mixed", &s, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(sim_scenario_kind_for(&s, 0), SIM_FAULT_NONE);
    CU_ASSERT_EQUAL(sim_scenario_kind_for(&s, 1), SIM_FAULT_OVERHEAT);
    CU_ASSERT_EQUAL(sim_scenario_kind_for(&s, 13), SIM_FAULT_NOISY);
    CU_ASSERT_EQUAL(sim_scenario_kind_for(&s, 14), SIM_FAULT_NONE);
    const char *bad[] = {
        "bogus", "overheat:vib", "mixed:temp", "normal:temp", "noisy:*", "drift:flow", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(sim_scenario_parse(bad[i], &s, err, sizeof err), VG_EINVAL);
        CU_ASSERT(err[0] != '\0');
    }
}

static void test_scenario_timing_rules(void)
{
    sim_plan p;
    sim_plan_build(&p, SIM_FAULT_STUCK, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.nfault, 1);
    CU_ASSERT_EQUAL(p.fault[0].channel, SIM_CH_PRESSURE);
    CU_ASSERT_EQUAL(p.fault[0].start_us, T0 + 15 * US);
    CU_ASSERT_EQUAL(p.fault[0].end_us, T0 + 36 * US);
    sim_plan_build(&p, SIM_FAULT_DRIFT, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.fault[0].end_us, T0 + 51 * US);
    sim_plan_build(&p, SIM_FAULT_DROPOUT, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.fault[0].channel, SIM_CH_DEVICE);
    sim_plan_build(&p, SIM_FAULT_OVERHEAT, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.fault[0].end_us, INT64_MAX);
    sim_plan_build(&p, SIM_FAULT_NONE, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.nfault, 0);
    /* spikes: five single samples inside 25%..60%, >= 10 samples apart */
    sim_plan_build(&p, SIM_FAULT_SPIKE, SIM_CH_DEFAULT, &g_tm);
    CU_ASSERT_EQUAL(p.nfault, SIM_SPIKES_MAX);
    for (uint32_t i = 0; i < p.nfault; i++) {
        CU_ASSERT_EQUAL(p.fault[i].end_us - p.fault[i].start_us, US / 10);
        CU_ASSERT(p.fault[i].start_us >= T0 + 15 * US && p.fault[i].end_us <= T0 + 36 * US);
        if (i > 0)
            CU_ASSERT(p.fault[i].start_us - p.fault[i - 1].start_us >= SIM_SPIKE_GAP * US / 10);
    }
    /* a short run gets fewer spikes rather than crowded ones */
    sim_timing short_tm = {T0, RATE, 100};
    sim_plan_build(&p, SIM_FAULT_SPIKE, SIM_CH_DEFAULT, &short_tm);
    CU_ASSERT_EQUAL(p.nfault, 3);
}

static void test_scenario_effects_and_truth(void)
{
    sim_plan p;
    sim_effects e;
    sim_plan_build(&p, SIM_FAULT_DRIFT, SIM_CH_VIB, &g_tm);
    sim_plan_effects(&p, T0 + 14 * US, true, &e);
    CU_ASSERT_DOUBLE_EQUAL(e.offset[SIM_CH_VIB], 0.0, 0.0);
    CU_ASSERT_EQUAL(p.fault[0].begun_us, SIM_T_NONE);
    sim_plan_effects(&p, T0 + 33 * US, true, &e); /* half-way through */
    CU_ASSERT_DOUBLE_EQUAL(e.offset[SIM_CH_VIB], sim_drift_amplitude(SIM_CH_VIB) / 2, 1e-9);
    CU_ASSERT_EQUAL(p.fault[0].begun_us, T0 + 33 * US);
    sim_plan_effects(&p, T0 + 52 * US, true, &e);
    CU_ASSERT_EQUAL(p.fault[0].ended_us, T0 + 51 * US);
    /* a spike adds its height to exactly one sample */
    sim_plan_build(&p, SIM_FAULT_SPIKE, SIM_CH_PRESSURE, &g_tm);
    sim_plan_effects(&p, p.fault[1].start_us, true, &e);
    CU_ASSERT_DOUBLE_EQUAL(e.offset[SIM_CH_PRESSURE], sim_spike_height(SIM_CH_PRESSURE), 0.0);
    sim_plan_effects(&p, p.fault[1].start_us + US / 10, true, &e);
    CU_ASSERT_DOUBLE_EQUAL(e.offset[SIM_CH_PRESSURE], 0.0, 0.0);
    CU_ASSERT_EQUAL(p.fault[1].ended_us, p.fault[1].end_us);
    /* overheat: waits for a running machine, ends when it stops */
    sim_plan_build(&p, SIM_FAULT_OVERHEAT, SIM_CH_DEFAULT, &g_tm);
    sim_plan_effects(&p, T0 + 15 * US, false, &e);
    CU_ASSERT_FALSE(e.cooling_failed);
    sim_plan_effects(&p, T0 + 16 * US, true, &e);
    CU_ASSERT(e.cooling_failed);
    sim_plan_machine_stopped(&p, T0 + 30 * US);
    sim_plan_effects(&p, T0 + 31 * US, true, &e);
    CU_ASSERT_FALSE(e.cooling_failed);
    FILE *f = tmpfile();
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(sim_truth_header(f), VG_OK);
    CU_ASSERT_EQUAL(sim_truth_write(f, "sim-1", &p), VG_OK);
    rewind(f);
    char line[256];
    CU_ASSERT(fgets(line, sizeof line, f) &&
              strcmp(line, "device,channel,fault,start,end,start_us,end_us\n") == 0);
    CU_ASSERT(fgets(line, sizeof line, f) &&
              strcmp(line, "sim-1,temp,overheat,2024-01-01 08:00:16.000000,"
                           "2024-01-01 08:00:30.000000,1704096016000000,1704096030000000\n") == 0);
    CU_ASSERT(fgets(line, sizeof line, f) == NULL);
    fclose(f);
}

/* ---- the safety property the scenarios exist for ------------------------ */

/* Number of bits set in the low 5 bits of h. */
static int bits5(unsigned h)
{
    int n = 0;
    for (int i = 0; i < 5; i++)
        n += (h >> i) & 1u;
    return n;
}

/* Runs device 0 with fault `kind` for 60 s at 10 Hz through a 3-of-5
 * debounced 95 C limit on its temperature readings; returns the first time
 * it would trip (or SIM_T_NONE) and the damage time in *damage. */
static int64_t debounced_trip(int kind, uint64_t seed, int64_t *damage)
{
    sim_device d;
    int64_t trip = SIM_T_NONE;
    unsigned hist = 0;
    if (sim_device_init(&d, "sim-0", 0, seed, kind, SIM_CH_DEFAULT, &g_tm, 10, 60.0) != VG_OK)
        return INT64_MIN + 1;
    for (uint64_t k = 0; k < g_tm.nticks; k++) {
        int64_t t = sim_tick_time(&g_tm, k);
        if (sim_device_tick(&d, t, NULL))
            sim_batch_reset(&d.batch);
        if (!d.last.present[SIM_CH_TEMP])
            continue;
        hist = ((hist << 1) | (d.last.v[SIM_CH_TEMP] > SIM_TEMP_LIMIT_REF)) & 0x1f;
        if (trip == SIM_T_NONE && bits5(hist) >= 3)
            trip = t;
    }
    *damage = d.act.damage_us;
    sim_device_free(&d);
    return trip;
}

static void test_debounce_trips_overheat_not_spikes(void)
{
    for (uint64_t seed = 1; seed <= 10; seed++) {
        int64_t damage;
        int64_t trip = debounced_trip(SIM_FAULT_OVERHEAT, seed, &damage);
        CU_ASSERT(trip != SIM_T_NONE && damage != SIM_T_NONE);
        CU_ASSERT(trip > T0 + 15 * US + 5 * US); /* not before the fault */
        CU_ASSERT(damage - trip >= 8 * US);      /* time to act */
        CU_ASSERT_EQUAL(debounced_trip(SIM_FAULT_SPIKE, seed, &damage), SIM_T_NONE);
        CU_ASSERT_EQUAL(debounced_trip(SIM_FAULT_NONE, seed, &damage), SIM_T_NONE);
        CU_ASSERT_EQUAL(debounced_trip(SIM_FAULT_NOISY, seed, &damage), SIM_T_NONE);
    }
}

static void test_spikes_are_visible(void)
{
    /* ...while a single-sample limit would see every spike. */
    sim_device d;
    CU_ASSERT_FATAL(sim_device_init(&d, "sim-3", 3, 1, SIM_FAULT_SPIKE, SIM_CH_DEFAULT, &g_tm, 10,
                                    60.0) == VG_OK);
    int over = 0;
    for (uint64_t k = 0; k < g_tm.nticks; k++) {
        if (sim_device_tick(&d, sim_tick_time(&g_tm, k), NULL))
            sim_batch_reset(&d.batch);
        over += d.last.v[SIM_CH_TEMP] > SIM_TEMP_LIMIT_REF;
    }
    CU_ASSERT_EQUAL(over, SIM_SPIKES_MAX);
    sim_device_free(&d);
}

int init_sim_physics_tests(void)
{
    CU_pSuite s = CU_add_suite("sim_physics", NULL, NULL);
    if (!s || !CU_add_test(s, "rng reproducible per stream", test_rng_reproducible) ||
        !CU_add_test(s, "rng distributions", test_rng_distributions) ||
        !CU_add_test(s, "physics deterministic", test_physics_deterministic) ||
        !CU_add_test(s, "physics normal band", test_physics_normal_band) ||
        !CU_add_test(s, "thermal inertia", test_physics_thermal_inertia) ||
        !CU_add_test(s, "wear and pump duty", test_physics_wear_and_pressure) ||
        !CU_add_test(s, "overheat timing", test_physics_overheat_timing) ||
        !CU_add_test(s, "sensor effects", test_physics_sensor_effects) ||
        !CU_add_test(s, "scenario parse", test_scenario_parse) ||
        !CU_add_test(s, "scenario timing rules", test_scenario_timing_rules) ||
        !CU_add_test(s, "scenario effects and truth", test_scenario_effects_and_truth) ||
        !CU_add_test(s, "3-of-5 trips overheat, not spikes",
                     test_debounce_trips_overheat_not_spikes) ||
        !CU_add_test(s, "spikes are visible", test_spikes_are_visible))
        return CU_get_error();
    return 0;
}
