/*
 * device.h - one simulated device: machine, fault plan, actuator, command
 * mailbox and the batch being filled.  Pure apart from the mailbox mutex:
 * no MQTT here (mqtt.h / outbox.h publish what this produces).
 *
 * Per tick (sim_device_tick): take queued commands and act on them at this
 * tick's simulated time, compute the fault effects, advance the physics,
 * watch for damage, take a reading and add the present samples to the batch.
 *
 * Cost: O(channels + faults + commands) per tick; memory is the batch
 * (SIM_NCHAN * batch samples) plus the mailbox, allocated by
 * sim_device_init().
 */
#ifndef SIM_DEVICE_H
#define SIM_DEVICE_H

#include <stdint.h>
#include <stdio.h>

#include "actuator.h"
#include "batch.h"
#include "physics.h"
#include "scenario.h"
#include "vg_model.h"

typedef struct sim_device {
    char name[VG_DEVICE_MAX + 1]; /* device id, e.g. "sim-3" */
    uint32_t index;               /* position in the fleet (seeds its streams) */
    int kind;                     /* enum sim_fault_kind of its scenario */
    sim_machine machine;          /* physics */
    sim_plan plan;                /* faults and their actual times */
    sim_actuator act;             /* shutdown / reset handling */
    sim_mailbox mailbox;          /* commands from the MQTT thread */
    sim_batch batch;              /* samples not yet published */
    sim_reading last;             /* the most recent reading */
    int64_t last_t_us;            /* time of the previous tick */
    uint64_t seq;                 /* sequence number of the next batch */
    uint64_t samples;             /* samples produced (published or not) */
    struct sim_outbox *box;       /* its outbox (set before its connection opens), or NULL */
} sim_device;

/* Initialises device `index` named `name` with fault `kind` on `channel`
 * (SIM_CH_DEFAULT for the kind's default) under timing *tm.  VG_OK, or
 * VG_EINVAL (bad name or batch size) / VG_ENOMEM. */
int sim_device_init(sim_device *d, const char *name, uint32_t index, uint64_t seed, int kind,
                    int channel, const sim_timing *tm, uint32_t batch, double restart_below_c);

/* Frees what sim_device_init() allocated. */
void sim_device_free(sim_device *d);

/* Runs one tick at simulated time t_us (see above).  Returns 1 when the
 * batch is full and should be published now, else 0. */
int sim_device_tick(sim_device *d, int64_t t_us, FILE *log);

#endif
