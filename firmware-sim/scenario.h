/*
 * scenario.h - fault schedules ("plans") per device and the ground truth.
 *
 * A scenario names one fault kind ("overheat", "stuck:temp", ...), "normal"
 * (no fault) or "mixed" (device i gets kind i mod 7 in the order normal,
 * overheat, drift, spike, stuck, dropout, noisy).  A plan is the list of
 * faults of one device with their planned windows, and records when each
 * actually began and ended.
 *
 * Timing rules (n = number of ticks = floor(duration * rate), tick k is at
 * start + k / rate; every window is snapped to ticks and half-open):
 *
 *   every fault starts at tick floor(0.25 n) (SIM_FAULT_START_FRAC);
 *   drift ends at floor(0.85 n), stuck/dropout/noisy end at floor(0.60 n);
 *   spike: K = min(5, W / 10) single-sample spikes, W = the 0.25..0.60
 *          window in ticks, spike j at tick start + (2j+1) W / (2K): spikes
 *          are at least 10 samples apart, so a 3-of-5 debounce never sees
 *          two in one window; each spike is its own one-sample fault;
 *   overheat starts at the first tick >= the start at which the machine
 *          runs, and lasts until the machine stops (shutdown) or the run
 *          ends; from the default start the temperature crosses 95 degC
 *          some 15-21 s and the damage limit 120 degC some 27-34 s after
 *          onset (sooner near the 14:00 load peak, later at night; the two
 *          crossings are always 8 s or more apart; physics.h).
 *
 * Effects: drift adds an offset growing linearly from 0 to its amplitude
 * over the window; spike adds its amplitude to one sample; stuck freezes the
 * reading exactly; dropout removes samples (the whole device when the
 * channel is "*"); noisy multiplies the noise std dev by 8.
 *
 * Truth CSV (sim_truth_write): header
 *     device,channel,fault,start,end,start_us,end_us
 * one row per fault that actually began, start/end as "YYYY-MM-DD
 * HH:MM:SS.ffffff" UTC and as epoch microseconds; the window is [start, end)
 * in simulated time; channel "*" means the whole device.
 *
 * Cost: building a plan is O(faults); sim_plan_effects() is O(faults) per
 * tick (at most SIM_PLAN_MAX); no allocation.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "physics.h"

enum sim_fault_kind {
    SIM_FAULT_NONE = 0, /* "normal" */
    SIM_FAULT_OVERHEAT,
    SIM_FAULT_DRIFT,
    SIM_FAULT_SPIKE,
    SIM_FAULT_STUCK,
    SIM_FAULT_DROPOUT,
    SIM_FAULT_NOISY,
    SIM_FAULT_KINDS
};

#define SIM_SCENARIO_MIXED   (-1)      /* sim_scenario.kind: round robin */
#define SIM_CH_DEVICE        (-1)      /* fault channel: the whole device */
#define SIM_CH_DEFAULT       (-2)      /* scenario channel: the kind's default */
#define SIM_PLAN_MAX         8         /* faults per device */
#define SIM_T_NONE           INT64_MIN /* "has not happened" */
#define SIM_FAULT_START_FRAC 0.25
#define SIM_FAULT_END_FRAC   0.60
#define SIM_DRIFT_END_FRAC   0.85
#define SIM_SPIKES_MAX       5
#define SIM_SPIKE_GAP        10 /* minimum ticks between spikes */
#define SIM_NOISY_MULT       8.0

/* A parsed --scenario. */
typedef struct sim_scenario {
    int kind;    /* enum sim_fault_kind, or SIM_SCENARIO_MIXED */
    int channel; /* SIM_CH_*, SIM_CH_DEVICE, or SIM_CH_DEFAULT */
} sim_scenario;

/* The tick grid of a run. */
typedef struct sim_timing {
    int64_t start_us; /* time of tick 0, epoch us */
    double rate_hz;   /* ticks per simulated second, > 0 */
    uint64_t nticks;  /* ticks in the run */
} sim_timing;

/* One fault of one device. */
typedef struct sim_fault {
    uint8_t kind;     /* enum sim_fault_kind */
    int8_t channel;   /* SIM_CH_* or SIM_CH_DEVICE */
    int64_t start_us; /* planned onset: the first affected sample */
    int64_t end_us;   /* planned end (exclusive); INT64_MAX: open-ended */
    int64_t begun_us; /* actual onset, SIM_T_NONE until it happened */
    int64_t ended_us; /* actual end, SIM_T_NONE while open */
} sim_fault;

/* All faults of one device. */
typedef struct sim_plan {
    uint32_t nfault;               /* entries used */
    sim_fault fault[SIM_PLAN_MAX]; /* in onset order */
} sim_plan;

/* "normal", "overheat", ...; NULL when out of range. */
const char *sim_fault_name(int kind);

/* Parses "NAME[:CHANNEL]" (CHANNEL "*" = whole device, dropout only).  VG_OK,
 * or VG_EINVAL with a reason in err (errcap bytes) for unknown names and
 * combinations that make no sense (overheat on a channel other than temp,
 * mixed with a channel). */
int sim_scenario_parse(const char *spec, sim_scenario *out, char *err, size_t errcap);

/* The fault kind device `index` gets under scenario *s. */
int sim_scenario_kind_for(const sim_scenario *s, uint32_t index);

/* Time of tick k. */
int64_t sim_tick_time(const sim_timing *tm, uint64_t k);

/* Builds the plan of a device that gets fault `kind` on `channel`
 * (SIM_CH_DEFAULT picks the kind's default) under timing *tm. */
void sim_plan_build(sim_plan *p, int kind, int channel, const sim_timing *tm);

/* Computes the effects at sample time t_us into *eff and records onsets
 * and ends that t_us reaches.  `running` tells whether the machine runs
 * (an overheat only begins on a running machine). */
void sim_plan_effects(sim_plan *p, int64_t t_us, bool running, sim_effects *eff);

/* The machine stopped at t_us: ends any open overheat there. */
void sim_plan_machine_stopped(sim_plan *p, int64_t t_us);

/* Closes every fault still open at the end of the run (end_us). */
void sim_plan_finish(sim_plan *p, int64_t end_us);

/* Writes the truth CSV header line to f.  VG_OK or VG_EINVAL on I/O error. */
int sim_truth_header(FILE *f);

/* Writes one row per begun fault of device `device`.  VG_OK or VG_EINVAL. */
int sim_truth_write(FILE *f, const char *device, const sim_plan *p);

/* Drift amplitude and spike height of channel c (units of the channel). */
double sim_drift_amplitude(int c);
double sim_spike_height(int c);

#endif
