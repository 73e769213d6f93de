/*
 * device.c - one simulated device; see device.h.
 */
#include "device.h"

#include <string.h>

#include "vg_error.h"

/* See device.h. */
int sim_device_init(sim_device *d, const char *name, uint32_t index, uint64_t seed, int kind,
                    int channel, const sim_timing *tm, uint32_t batch, double restart_below_c)
{
    memset(d, 0, sizeof *d);
    size_t len = strlen(name);
    if (!vg_valid_device(name, len))
        return VG_EINVAL;
    memcpy(d->name, name, len + 1);
    d->index = index;
    d->kind = kind;
    sim_machine_init(&d->machine, seed, index, tm->start_us);
    sim_plan_build(&d->plan, kind, channel, tm);
    sim_actuator_init(&d->act, d->name, restart_below_c);
    d->last_t_us = tm->start_us;
    int rc = sim_batch_init(&d->batch, SIM_NCHAN, sim_channel_names, batch);
    if (rc != VG_OK)
        return rc;
    rc = sim_mailbox_init(&d->mailbox);
    if (rc != VG_OK)
        sim_batch_free(&d->batch);
    return rc;
}

/* See device.h. */
void sim_device_free(sim_device *d)
{
    sim_batch_free(&d->batch);
    sim_mailbox_destroy(&d->mailbox);
}

/* Acts on every queued command at t_us. */
static void device__commands(sim_device *d, int64_t t_us, FILE *log)
{
    sim_cmd cmd;
    while (sim_mailbox_take(&d->mailbox, &cmd))
        sim_actuator_handle(&d->act, &cmd, &d->machine, &d->plan, t_us, log);
}

/* See device.h. */
int sim_device_tick(sim_device *d, int64_t t_us, FILE *log)
{
    device__commands(d, t_us, log);
    sim_effects eff;
    sim_plan_effects(&d->plan, t_us, d->machine.running, &eff);
    double dt = (double)(t_us - d->last_t_us) / 1e6;
    sim_machine_step(&d->machine, t_us, dt, eff.cooling_failed);
    d->last_t_us = t_us;
    sim_actuator_observe(&d->act, &d->machine, t_us);
    sim_machine_measure(&d->machine, &eff, &d->last);
    for (uint32_t c = 0; c < SIM_NCHAN; c++) {
        if (d->last.present[c] && sim_batch_add(&d->batch, c, t_us, d->last.v[c]) == VG_OK)
            d->samples++;
    }
    return sim_batch_end_row(&d->batch);
}
