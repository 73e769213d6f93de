/*
 * simtime.h - timestamps and clocks for vigil-sim.
 *
 * Two clocks exist in the simulator and are never mixed up:
 *
 *   - simulated time: epoch microseconds (UTC) carried in every sample, the
 *     truth file and the summary.  It starts at --start (default
 *     SIM_DEFAULT_START_US, a fixed instant so seeded runs are identical) and
 *     advances by exactly one sample period per tick;
 *   - wall time: CLOCK_MONOTONIC microseconds, used only for pacing (a tick
 *     is computed when wall time reaches its scheduled instant) and for the
 *     rates in the summary.
 *
 * Text timestamps are written in the vigil-replay CSV format, "YYYY-MM-DD
 * HH:MM:SS.ffffff" (UTC); parsing them is the core's job (vg_csv_parse_time).
 *
 * Cost: formatting is O(1), no allocation.
 */
#ifndef SIM_TIME_H
#define SIM_TIME_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#define SIM_DEFAULT_START_US 1704096000000000LL /* 2024-01-01 08:00:00 UTC */
#define SIM_TIME_TEXT_MAX    48                 /* bytes for sim_time_format() */

/* Writes `us` as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) into buf, which must
 * hold SIM_TIME_TEXT_MAX bytes; returns buf. */
char *sim_time_format(int64_t us, char *buf);

/* Seconds since midnight UTC of `us`, in [0, 86400). */
double sim_time_of_day_s(int64_t us);

/* CLOCK_MONOTONIC now, in microseconds. */
int64_t sim_mono_us(void);

/* CLOCK_REALTIME now, in epoch microseconds. */
int64_t sim_epoch_us(void);

/* Sleeps until CLOCK_MONOTONIC reaches mono_us (returns at once if it has);
 * restarts after signals only when `*stop` is still zero (stop may be NULL). */
void sim_sleep_until(int64_t mono_us, const volatile sig_atomic_t *stop);

#endif
