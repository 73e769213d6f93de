/*
 * physics.c - the simulated machine; see physics.h for the model.
 *
 * Random streams per device (stream id = index * 16 + purpose): 0 draws the
 * per-device parameters once, 1 drives the load fluctuation, 2.. are the
 * per-channel measurement noise.  Each tick draws exactly one normal from
 * the load stream and one from each noise stream.
 */
#include "physics.h"

#include <math.h>
#include <string.h>

#include "simtime.h"

#define SIM_PI            3.14159265358979323846
#define SIM_DAY_S         86400.0
#define PHYS_STREAM_PARM  0
#define PHYS_STREAM_LOAD  1
#define PHYS_STREAM_NOISE 2

const char *const sim_channel_names[SIM_NCHAN] = {"temp", "vib", "pressure", "load"};

/* See physics.h. */
int sim_channel_from_name(const char *name)
{
    for (int c = 0; c < SIM_NCHAN; c++) {
        if (strcmp(name, sim_channel_names[c]) == 0)
            return c;
    }
    return -1;
}

/* Uniform draw in [lo, hi) from r. */
static double physics__between(sim_rng *r, double lo, double hi)
{
    return lo + (hi - lo) * sim_rng_uniform(r);
}

/* Fills *p with the nominal constants varied per device from stream r. */
static void physics__params(sim_params *p, sim_rng *r)
{
    p->ambient_c = physics__between(r, 20.0, 24.0);
    p->ambient_swing_c = 4.0;
    p->heat_rise_c = physics__between(r, 45.0, 55.0);
    p->fail_rise_c = 180.0;
    p->tau_temp_s = physics__between(r, 55.0, 65.0);
    p->load_mean = physics__between(r, 0.50, 0.60);
    p->load_swing = 0.30;
    p->load_tau_s = 300.0;
    p->load_sigma = 0.05;
    p->vib_base = physics__between(r, 2.2, 2.8);
    p->vib_idle = 0.30;
    p->wear0 = physics__between(r, 0.05, 0.35);
    p->wear_per_h = 0.002;
    p->tau_vib_s = 1.5;
    p->pump_period_s = physics__between(r, 45.0, 75.0);
    p->pump_duty = physics__between(r, 0.55, 0.70);
    p->pump_phase_s = physics__between(r, 0.0, p->pump_period_s);
    p->p_on_bar = 5.5;
    p->p_load_bar = 1.0;
    p->p_off_bar = 1.8;
    p->p_stop_bar = 1.0;
    p->tau_p_s = 2.5;
    p->sigma[SIM_CH_TEMP] = 0.15;
    p->sigma[SIM_CH_VIB] = 0.05;
    p->sigma[SIM_CH_PRESSURE] = 0.03;
    p->sigma[SIM_CH_LOAD] = 0.01;
}

/* Daily load pattern at t_us (before fluctuations): peak at 14:00 UTC. */
static double physics__daily_load(const sim_params *p, int64_t t_us)
{
    double h = sim_time_of_day_s(t_us) / 3600.0;
    return p->load_mean + p->load_swing * sin(2.0 * SIM_PI * (h - 8.0) / 24.0);
}

/* Clamps x to [lo, hi]. */
static double physics__clamp(double x, double lo, double hi)
{
    return x < lo ? lo : x > hi ? hi : x;
}

/* Moves x towards target over dt with time constant tau (exact for a
 * first-order lag with a constant target). */
static double physics__relax(double x, double target, double dt, double tau)
{
    return target + (x - target) * exp(-dt / tau);
}

/* True when the pump is on at t_us (machine running). */
static bool physics__pump_on(const sim_machine *m, int64_t t_us)
{
    double s = (double)(t_us - m->start_us) / 1e6 + m->p.pump_phase_s;
    return fmod(s, m->p.pump_period_s) < m->p.pump_duty * m->p.pump_period_s;
}

/* Equilibrium temperature for the current load and cooling state. */
static double physics__temp_target(const sim_machine *m, int64_t t_us, bool cooling_failed)
{
    double t = sim_machine_ambient(m, t_us) + m->p.heat_rise_c * m->load;
    if (m->running && cooling_failed)
        t += m->p.fail_rise_c;
    return t;
}

/* Vibration the machine settles to at the current load and wear. */
static double physics__vib_target(const sim_machine *m)
{
    if (!m->running)
        return m->p.vib_idle;
    double wear = 1.0 + 3.0 * m->wear * m->wear;
    return m->p.vib_idle + m->p.vib_base * (0.3 + 0.7 * m->load) * wear;
}

/* Pressure the pump settles to at t_us. */
static double physics__p_target(const sim_machine *m, int64_t t_us)
{
    if (!m->running)
        return m->p.p_stop_bar;
    if (physics__pump_on(m, t_us))
        return m->p.p_on_bar + m->p.p_load_bar * m->load;
    return m->p.p_off_bar;
}

/* Sets the load for t_us from the daily pattern and the OU deviation. */
static void physics__set_load(sim_machine *m, int64_t t_us)
{
    double l = physics__daily_load(&m->p, t_us) + m->load_dev;
    m->load = m->running ? physics__clamp(l, 0.05, 1.0) : 0.0;
}

/* See physics.h. */
double sim_machine_ambient(const sim_machine *m, int64_t t_us)
{
    double h = sim_time_of_day_s(t_us) / 3600.0;
    return m->p.ambient_c + m->p.ambient_swing_c * sin(2.0 * SIM_PI * (h - 9.0) / 24.0);
}

/* See physics.h. */
void sim_machine_init(sim_machine *m, uint64_t seed, uint32_t index, int64_t start_us)
{
    memset(m, 0, sizeof *m);
    uint64_t base = (uint64_t)index * 16u;
    sim_rng prng;
    sim_rng_seed(&prng, seed, base + PHYS_STREAM_PARM);
    physics__params(&m->p, &prng);
    sim_rng_seed(&m->rng_load, seed, base + PHYS_STREAM_LOAD);
    for (int c = 0; c < SIM_NCHAN; c++)
        sim_rng_seed(&m->rng_noise[c], seed, base + PHYS_STREAM_NOISE + (uint64_t)c);
    m->start_us = start_us;
    m->t_us = start_us;
    m->running = true;
    m->wear = m->p.wear0;
    physics__set_load(m, start_us);
    m->temp_c = physics__temp_target(m, start_us, false);
    m->vib = physics__vib_target(m);
    m->pressure = physics__p_target(m, start_us);
}

/* See physics.h. */
void sim_machine_step(sim_machine *m, int64_t t_us, double dt_s, bool cooling_failed)
{
    double a = exp(-dt_s / m->p.load_tau_s);
    double z = sim_rng_normal(&m->rng_load);
    m->load_dev = m->load_dev * a + m->p.load_sigma * sqrt(1.0 - a * a) * z;
    physics__set_load(m, t_us);
    if (m->running)
        m->wear = fmin(1.0, m->wear + m->p.wear_per_h * dt_s / 3600.0);
    m->temp_c = physics__relax(m->temp_c, physics__temp_target(m, t_us, cooling_failed), dt_s,
                               m->p.tau_temp_s);
    m->vib = physics__relax(m->vib, physics__vib_target(m), dt_s, m->p.tau_vib_s);
    m->pressure = physics__relax(m->pressure, physics__p_target(m, t_us), dt_s, m->p.tau_p_s);
    m->t_us = t_us;
}

/* True (noise-free) value of channel c. */
static double physics__true_value(const sim_machine *m, int c)
{
    switch (c) {
    case SIM_CH_TEMP:
        return m->temp_c;
    case SIM_CH_VIB:
        return m->vib;
    case SIM_CH_PRESSURE:
        return m->pressure;
    default:
        return m->load;
    }
}

/* See physics.h. */
void sim_machine_measure(sim_machine *m, const sim_effects *eff, sim_reading *out)
{
    for (int c = 0; c < SIM_NCHAN; c++) {
        double z = sim_rng_normal(&m->rng_noise[c]);
        double v = physics__true_value(m, c) + m->p.sigma[c] * eff->noise_mult[c] * z;
        v += eff->offset[c];
        if (c == SIM_CH_LOAD || c == SIM_CH_VIB)
            v = fmax(v, 0.0);
        if (eff->stuck[c]) {
            if (!m->held[c]) {
                m->held[c] = true;
                m->held_v[c] = v;
            }
            v = m->held_v[c];
        } else {
            m->held[c] = false;
        }
        out->v[c] = v;
        out->present[c] = !eff->missing[c];
    }
}

/* See physics.h. */
void sim_machine_stop(sim_machine *m)
{
    m->running = false;
    m->load = 0.0;
}

/* See physics.h. */
void sim_machine_start(sim_machine *m)
{
    m->running = true;
    physics__set_load(m, m->t_us);
}

/* See physics.h. */
void sim_effects_clear(sim_effects *e)
{
    memset(e, 0, sizeof *e);
    for (int c = 0; c < SIM_NCHAN; c++)
        e->noise_mult[c] = 1.0;
}
