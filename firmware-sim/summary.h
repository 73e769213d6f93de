/*
 * summary.h - the end-of-run report a person reads (stdout).
 *
 * Layout: a header (mode, devices, scenario, seed, simulated span and wall
 * time), a table with one row per device (batches and samples published /
 * acknowledged, resends, connects), a "total:" line of key=value pairs that
 * scripts may parse (renewals = MQTT clients replaced, sim_conn_renew), publish and acknowledge
 * rates, then for a fleet the faults injected with the time from each onset to the machine's stop
 * (or "no trip" / "DAMAGE"), the trips seen, and a final "result:" line.
 *
 * Cost: O(devices + faults); no allocation.
 */
#ifndef SIM_SUMMARY_H
#define SIM_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "device.h"

/* Publishing counters of one device. */
typedef struct sim_counts {
    uint64_t batches_pub; /* batches published (first sends) */
    uint64_t batches_ack; /* batches the broker acknowledged */
    uint64_t samples_pub; /* samples in the published batches */
    uint64_t samples_ack; /* samples in the acknowledged batches */
    uint64_t resends;     /* sends repeated after a failure */
    uint64_t connects;    /* successful connects (1 + reconnects) */
    uint64_t renewals;    /* MQTT clients replaced because the session wedged */
} sim_counts;

/* What a run did, for the report. */
typedef struct sim_report {
    const char *mode;     /* "fleet" or "replay" */
    const char *scenario; /* scenario text, or the replayed file */
    uint64_t seed;        /* --seed */
    double rate_hz;       /* samples per second per channel (fleet) */
    uint32_t batch;       /* rows per batch */
    int64_t sim_start_us; /* simulated time of the first sample */
    int64_t sim_end_us;   /* end of the simulated span */
    double wall_s;        /* wall seconds, first tick to drained */
    double publish_s;     /* wall seconds, first tick to last publication */
    double lag_max_s;     /* worst lag behind the paced schedule */
    bool interrupted;     /* stopped early by a signal */
    bool dry_run;         /* nothing was sent */
} sim_report;

/* Prints the header, the per-device table, the totals and the rates for n
 * devices named names[i] with counters c[i].  Returns 1 when every
 * published batch was acknowledged (or the run was dry), else 0. */
int sim_report_counts(FILE *f, const sim_report *r, const char *const *names, const sim_counts *c,
                      uint32_t n);

/* Prints the faults injected, the time from onset to stop, damage and the
 * trips seen of n simulated devices. */
void sim_report_faults(FILE *f, const sim_report *r, const sim_device *d, uint32_t n);

/* Prints the closing "result:" line from sim_report_counts()'s verdict. */
void sim_report_result(FILE *f, const sim_report *r, const sim_counts *c, uint32_t n);

#endif
