/*
 * actuator.h - the simulated machine's actuator: shutdown and reset.
 *
 * Commands arrive on the MQTT client's thread (cmd/shutdown, cmd/reset) and
 * are posted, as raw payload bytes, into the device's sim_mailbox; the
 * simulation thread takes them out between ticks and hands each to
 * sim_actuator_handle(), which decodes it with the core codec (one call:
 * vg_shutdown_decode / vg_reset_decode) and acts on the machine:
 *
 *   shutdown  a valid shutdown for this device stops a running machine at
 *             the current simulated time; the stop is recorded with the
 *             trip id, channel, reason and true temperature, and any open
 *             overheat fault ends there.  An empty payload (the agent
 *             clearing its retained shutdown) and shutdowns for a stopped
 *             machine are counted and otherwise ignored;
 *   reset     restarts a stopped machine once the cause has cleared: the
 *             overheat has ended (it ends when the machine stops) and the
 *             true temperature is below the restart temperature
 *             (--restart-temp).  Otherwise the reset is refused and counted.
 *
 * The actuator also watches for damage: the first tick at which a running
 * machine's true temperature reaches SIM_TEMP_DAMAGE_C.
 *
 * Cost: mailbox post/take are O(payload) under a mutex; handling a command
 * is O(payload).  The mailbox holds SIM_MAILBOX_CAP commands; more are
 * dropped and counted (a device that receives more than that between two
 * ticks is being flooded).
 */
#ifndef SIM_ACTUATOR_H
#define SIM_ACTUATOR_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "physics.h"
#include "scenario.h"
#include "vg_model.h"

#define SIM_CMD_PAYLOAD_MAX 2048 /* larger command payloads are rejected */
#define SIM_MAILBOX_CAP     4
#define SIM_STOPS_MAX       16 /* stops recorded per device */
#define SIM_STOP_REASON_MAX 63

enum sim_cmd_kind { SIM_CMD_SHUTDOWN = 1, SIM_CMD_RESET = 2 };

/* One received command, as raw bytes. */
typedef struct sim_cmd {
    uint8_t kind;                         /* enum sim_cmd_kind */
    uint32_t len;                         /* payload bytes */
    uint8_t payload[SIM_CMD_PAYLOAD_MAX]; /* as received */
} sim_cmd;

/* A bounded, thread-safe FIFO of commands for one device. */
typedef struct sim_mailbox {
    pthread_mutex_t lock;          /* guards every field below */
    uint32_t head;                 /* index of the oldest command */
    uint32_t count;                /* commands queued */
    uint64_t dropped;              /* commands lost to a full box or size */
    sim_cmd slot[SIM_MAILBOX_CAP]; /* ring storage */
} sim_mailbox;

/* One stop of the machine. */
typedef struct sim_stop {
    int64_t t_us;                         /* simulated time of the stop */
    int64_t restart_us;                   /* restart time, SIM_T_NONE if none */
    uint64_t trip_id;                     /* from the shutdown command */
    double temp_c;                        /* true temperature at the stop */
    char channel[VG_CHANNEL_MAX + 1];     /* channel that tripped */
    char reason[SIM_STOP_REASON_MAX + 1]; /* reason text (truncated) */
} sim_stop;

/* Actuator state and counters of one device. */
typedef struct sim_actuator {
    const char *device;           /* this device's id (borrowed) */
    double restart_below_c;       /* reset accepted below this temperature */
    uint32_t nstop;               /* entries used in stop[] */
    sim_stop stop[SIM_STOPS_MAX]; /* stops in time order */
    uint64_t stops_total;         /* all stops, also those not recorded */
    uint64_t shutdowns;           /* valid shutdowns received */
    uint64_t cleared;             /* empty payloads (retained shutdown cleared) */
    uint64_t ignored;             /* valid, but machine already stopped / other device */
    uint64_t bad;                 /* undecodable command payloads */
    uint64_t resets;              /* resets that restarted the machine */
    uint64_t resets_refused;      /* resets refused (running, or still hot) */
    int64_t damage_us;            /* first damage time, SIM_T_NONE if none */
} sim_actuator;

/* Outcome of sim_actuator_handle(). */
enum sim_act_result {
    SIM_ACT_STOPPED = 0, /* machine stopped */
    SIM_ACT_RESTARTED,   /* machine restarted */
    SIM_ACT_CLEARED,     /* empty shutdown payload */
    SIM_ACT_IGNORED,     /* nothing to do */
    SIM_ACT_REFUSED,     /* reset while the cause has not cleared */
    SIM_ACT_BAD          /* undecodable payload */
};

/* Initialises an empty mailbox.  VG_OK or VG_ENOMEM. */
int sim_mailbox_init(sim_mailbox *mb);

/* Releases the mailbox's mutex. */
void sim_mailbox_destroy(sim_mailbox *mb);

/* Copies a command into the mailbox (any thread).  VG_OK, VG_ETOOBIG when
 * len > SIM_CMD_PAYLOAD_MAX, VG_ENOSPC when full (both counted in dropped). */
int sim_mailbox_post(sim_mailbox *mb, int kind, const void *payload, size_t len);

/* Moves the oldest command into *out.  Returns 1 when one was taken, 0 when
 * the mailbox was empty. */
int sim_mailbox_take(sim_mailbox *mb, sim_cmd *out);

/* Initialises the actuator of `device` (borrowed; must outlive *a). */
void sim_actuator_init(sim_actuator *a, const char *device, double restart_below_c);

/* Acts on one command at simulated time t_us (see above); logs one line per
 * action to `log` when not NULL.  Returns an enum sim_act_result. */
int sim_actuator_handle(sim_actuator *a, const sim_cmd *cmd, sim_machine *m, sim_plan *p,
                        int64_t t_us, FILE *log);

/* Records damage when the running machine's true temperature has reached
 * the damage limit at t_us for the first time. */
void sim_actuator_observe(sim_actuator *a, const sim_machine *m, int64_t t_us);

#endif
