/*
 * trip.h - the local side of a safety trip: the configured action (a shell
 * command run with a timeout, and/or a value written to a GPIO/sysfs file)
 * and the durable latch file.
 *
 * Nothing here touches the network: the pipeline runs the action first,
 * then latches, publishes and queues the trip record (see pipeline.h).
 *
 * The command is started with posix_spawn (safe in a multi-threaded
 * process) as `/bin/sh -c COMMAND` in its own process group, with
 * VIGIL_DEVICE, VIGIL_CHANNEL, VIGIL_REASON and VIGIL_TRIP_ID in its
 * environment; starting it does not wait.  vgd_action_poll, called from the
 * daemon's tick, reaps it and kills its whole process group with SIGKILL
 * once the timeout has passed.  The sysfs write is synchronous (open,
 * write, close: microseconds on sysfs).  Up to VGD_ACTION_SLOTS commands may
 * run at once; a trip that finds every slot busy only does the write.
 *
 * The latch (the pipeline's, with its file DATA_DIR/latched written by
 * fileio.h) is not here: this module only acts on the machine.
 *
 * Not thread-safe: used under the daemon's lock.
 */
#ifndef VGD_TRIP_H
#define VGD_TRIP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "vg_msg.h"

#define VGD_ACTION_SLOTS 4

/* Outcomes counted by vgd_action_poll. */
typedef struct vgd_action_result {
    uint32_t ok;     /* commands that exited with status 0 */
    uint32_t failed; /* exited non-zero or by a signal we did not send */
    uint32_t killed; /* killed at the timeout */
} vgd_action_result;

typedef struct vgd_action {
    const char *command;                /* shell command or "" (not owned, must outlive) */
    const char *sysfs_path;             /* file to write or "" (not owned) */
    const char *sysfs_value;            /* what to write (not owned) */
    uint32_t timeout_ms;                /* kill after this */
    pid_t pid[VGD_ACTION_SLOTS];        /* running commands (process group ids), 0 = free */
    int64_t deadline[VGD_ACTION_SLOTS]; /* their kill times, us (CLOCK_MONOTONIC) */
} vgd_action;

/* Sets up *a with no command running; the strings are borrowed. */
void vgd_action_init(vgd_action *a, const char *command, uint32_t timeout_ms,
                     const char *sysfs_path, const char *sysfs_value);

/* Runs the action for trip *sd at monotonic time now_us: writes the sysfs
 * value (if configured), then starts the command (if configured) without
 * waiting.  Returns VG_OK when everything configured was done or started,
 * VG_EIO when the write or the spawn failed (the other part is still
 * attempted), VG_ENOSPC when every command slot is busy. */
int vgd_action_run(vgd_action *a, const vg_shutdown *sd, int64_t now_us);

/* Reaps finished commands and kills those past their deadline; adds the
 * outcomes to *r.  Returns the number still running. */
int vgd_action_poll(vgd_action *a, int64_t now_us, vgd_action_result *r);

/* Kills and reaps every running command (shutdown of the daemon). */
void vgd_action_stop(vgd_action *a, vgd_action_result *r);

#endif
