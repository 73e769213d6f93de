/*
 * physics.h - the simulated machine: pure, deterministic device physics.
 *
 * One sim_machine is one pump set with a motor: four published channels
 *
 *   temp      machine temperature, degC: first-order thermal lag (time
 *             constant tau_temp_s) towards ambient + heat_rise_c * load;
 *             when cooling fails (the overheat fault) the equilibrium jumps
 *             by fail_rise_c and the temperature runs away towards it,
 *             crossing SIM_TEMP_DAMAGE_C some tens of seconds later;
 *   vib       vibration RMS, mm/s: grows with load and with bearing wear
 *             (wear rises slowly while running), settles with tau_vib_s;
 *   pressure  pump discharge pressure, bar: the pump runs a duty cycle
 *             (pump_period_s, pump_duty); pressure follows the pump state
 *             with tau_p_s;
 *   load      motor load, 0..1: a daily pattern (peak 14:00 UTC) plus an
 *             Ornstein-Uhlenbeck fluctuation;
 *
 * and ambient temperature has a daily swing (peak 15:00 UTC).  A stopped
 * machine has zero load: temperature relaxes to ambient, vibration falls to
 * the background level, pressure to the static head.
 *
 * Each reading adds Gaussian measurement noise.  Sensor faults (drift,
 * spike, stuck, dropout, noisy) act on readings only, through sim_effects;
 * the physical fault (overheat) acts on the state.  Every tick draws the
 * same number of random numbers whatever the faults and the machine state,
 * from separate streams per purpose, so faults never perturb the noise of
 * other channels and a seed reproduces a run exactly.
 *
 * Exact exponential discretisation (x += (target - x) * (1 - e^(-dt/tau)))
 * keeps every state stable for any sample rate.
 *
 * Cost: sim_machine_step() and sim_machine_measure() are O(channels), a few
 * exp/sin calls per tick; no allocation, no I/O, no global state.
 */
#ifndef SIM_PHYSICS_H
#define SIM_PHYSICS_H

#include <stdbool.h>
#include <stdint.h>

#include "rng.h"

enum sim_channel { SIM_CH_TEMP = 0, SIM_CH_VIB, SIM_CH_PRESSURE, SIM_CH_LOAD, SIM_NCHAN };

#define SIM_TEMP_DAMAGE_C  120.0 /* machine damaged at or above this, degC */
#define SIM_TEMP_LIMIT_REF 95.0  /* reference hard limit used in docs/tests */

/* Channel names, indexed by enum sim_channel. */
extern const char *const sim_channel_names[SIM_NCHAN];

/* Index of channel `name`, or -1 when unknown. */
int sim_channel_from_name(const char *name);

/* Per-device constants, drawn once from the seed (see sim_machine_init). */
typedef struct sim_params {
    double ambient_c;        /* daily mean ambient temperature, degC */
    double ambient_swing_c;  /* amplitude of the daily ambient cycle, degC */
    double heat_rise_c;      /* equilibrium rise over ambient at full load, degC */
    double fail_rise_c;      /* extra equilibrium rise while cooling has failed */
    double tau_temp_s;       /* thermal time constant, s */
    double load_mean;        /* daily mean load, 0..1 */
    double load_swing;       /* amplitude of the daily load cycle */
    double load_tau_s;       /* correlation time of load fluctuations, s */
    double load_sigma;       /* stationary std dev of load fluctuations */
    double vib_base;         /* vibration RMS at full load, new bearing, mm/s */
    double vib_idle;         /* background vibration of a stopped machine, mm/s */
    double wear0;            /* bearing wear at the start, 0..1 */
    double wear_per_h;       /* wear growth per running hour */
    double tau_vib_s;        /* vibration settling time constant, s */
    double pump_period_s;    /* pump duty-cycle period, s */
    double pump_duty;        /* fraction of the period the pump runs */
    double pump_phase_s;     /* offset of the cycle, s */
    double p_on_bar;         /* discharge pressure with the pump on, at no load */
    double p_load_bar;       /* extra pressure per unit load with the pump on */
    double p_off_bar;        /* pressure with the pump off (machine running) */
    double p_stop_bar;       /* static pressure of a stopped machine */
    double tau_p_s;          /* pressure time constant, s */
    double sigma[SIM_NCHAN]; /* measurement noise std dev per channel */
} sim_params;

/* Fault effects at one tick (built by scenario.c, applied here). */
typedef struct sim_effects {
    bool cooling_failed;          /* overheat: the cooling has failed */
    double offset[SIM_NCHAN];     /* added to the reading (drift, spike) */
    double noise_mult[SIM_NCHAN]; /* multiplies the noise std dev (noisy) */
    bool stuck[SIM_NCHAN];        /* reading frozen at its first stuck value */
    bool missing[SIM_NCHAN];      /* no sample at all (dropout) */
} sim_effects;

/* One tick's readings. */
typedef struct sim_reading {
    double v[SIM_NCHAN];     /* measured values */
    bool present[SIM_NCHAN]; /* false: the channel sent nothing */
} sim_reading;

/* The state of one simulated machine. */
typedef struct sim_machine {
    sim_params p;                 /* constants of this device */
    sim_rng rng_load;             /* stream for load fluctuations */
    sim_rng rng_noise[SIM_NCHAN]; /* one measurement-noise stream per channel */
    int64_t start_us;             /* simulated start time, epoch us */
    int64_t t_us;                 /* time of the current state */
    bool running;                 /* false after a shutdown until a reset */
    double load;                  /* true load, 0..1 (0 when stopped) */
    double load_dev;              /* OU deviation from the daily pattern */
    double temp_c;                /* true machine temperature */
    double wear;                  /* bearing wear, 0..1 */
    double vib;                   /* true vibration RMS */
    double pressure;              /* true pressure */
    bool held[SIM_NCHAN];         /* a stuck reading is being held */
    double held_v[SIM_NCHAN];     /* the held value */
} sim_machine;

/* Initialises *m for device number `index` of a run with `seed`, starting
 * at epoch microsecond start_us, running and in equilibrium (no start-up
 * transient).  Parameters vary per device within documented ranges. */
void sim_machine_init(sim_machine *m, uint64_t seed, uint32_t index, int64_t start_us);

/* Advances the true state from m->t_us to t_us (dt_s = the difference in
 * seconds, >= 0), with the cooling failed or not. */
void sim_machine_step(sim_machine *m, int64_t t_us, double dt_s, bool cooling_failed);

/* Takes one reading of every channel under `eff` into *out.  Consumes the
 * same random draws whatever eff says.  Updates the stuck-value memory. */
void sim_machine_measure(sim_machine *m, const sim_effects *eff, sim_reading *out);

/* Stops the machine (load to zero from the next step on). */
void sim_machine_stop(sim_machine *m);

/* Starts a stopped machine again. */
void sim_machine_start(sim_machine *m);

/* Ambient temperature at t_us for this machine, degC. */
double sim_machine_ambient(const sim_machine *m, int64_t t_us);

/* Sets *e to "no fault": zero offsets, unit noise, nothing stuck or missing. */
void sim_effects_clear(sim_effects *e);

#endif
