/*
 * trip.c - the local trip action: sysfs write and a spawned command with a
 * timeout (see trip.h).  Cost: a trip is one open/write/close plus one
 * posix_spawn; a poll is one waitpid(WNOHANG) per running command.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trip.h"
#include "vg_error.h"

extern char **environ;

void vgd_action_init(vgd_action *a, const char *command, uint32_t timeout_ms,
                     const char *sysfs_path, const char *sysfs_value)
{
    memset(a, 0, sizeof(*a));
    a->command = command;
    a->timeout_ms = timeout_ms;
    a->sysfs_path = sysfs_path;
    a->sysfs_value = sysfs_value;
}

/* Writes the configured value to the sysfs/GPIO file. */
static int action__write(const vgd_action *a)
{
    int fd = open(a->sysfs_path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return VG_EIO;
    size_t n = strlen(a->sysfs_value);
    ssize_t w;
    do
        w = write(fd, a->sysfs_value, n);
    while (w < 0 && errno == EINTR);
    int rc = (w == (ssize_t)n && close(fd) == 0) ? VG_OK : VG_EIO;
    if (w != (ssize_t)n)
        close(fd);
    return rc;
}

/* Builds the child's environment: ours plus the trip's VIGIL_* variables.
 * `env` has room for the inherited entries + 5; strings live in `store`. */
static void action__env(const vg_shutdown *sd, char **env, size_t cap, char store[4][200])
{
    size_t n = 0;
    for (char **e = environ; e && *e && n + 5 < cap; e++)
        if (strncmp(*e, "VIGIL_", 6) != 0)
            env[n++] = *e;
    snprintf(store[0], 200, "VIGIL_DEVICE=%s", sd->device);
    snprintf(store[1], 200, "VIGIL_CHANNEL=%s", sd->channel);
    snprintf(store[2], 200, "VIGIL_REASON=%s", sd->reason);
    snprintf(store[3], 200, "VIGIL_TRIP_ID=%llu", (unsigned long long)sd->trip_id);
    for (int i = 0; i < 4; i++)
        env[n++] = store[i];
    env[n] = NULL;
}

/* Starts the command in slot i, in its own process group. */
static int action__spawn(vgd_action *a, int i, const vg_shutdown *sd, int64_t now_us)
{
    char *env[256], store[4][200];
    action__env(sd, env, sizeof env / sizeof env[0], store);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    char *argv[] = {"/bin/sh", "-c", (char *)a->command, NULL};
    pid_t pid;
    int err = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, env);
    posix_spawnattr_destroy(&attr);
    if (err != 0)
        return VG_EIO;
    a->pid[i] = pid;
    a->deadline[i] = now_us + (int64_t)a->timeout_ms * 1000;
    return VG_OK;
}

int vgd_action_run(vgd_action *a, const vg_shutdown *sd, int64_t now_us)
{
    int rc = VG_OK;
    if (a->sysfs_path && a->sysfs_path[0] && action__write(a) != VG_OK)
        rc = VG_EIO;
    if (!a->command || !a->command[0])
        return rc;
    for (int i = 0; i < VGD_ACTION_SLOTS; i++) {
        if (a->pid[i] == 0) {
            int src = action__spawn(a, i, sd, now_us);
            return rc != VG_OK ? rc : src;
        }
    }
    return rc != VG_OK ? rc : VG_ENOSPC;
}

/* Reaps slot i if it has exited (blocking when `block`). */
static void action__reap(vgd_action *a, int i, int block, int was_killed, vgd_action_result *r)
{
    int status;
    pid_t p = waitpid(a->pid[i], &status, block ? 0 : WNOHANG);
    if (p == 0 || (p < 0 && errno == EINTR))
        return;
    if (p > 0 && was_killed)
        r->killed++;
    else if (p > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
        r->ok++;
    else
        r->failed++;
    a->pid[i] = 0;
}

int vgd_action_poll(vgd_action *a, int64_t now_us, vgd_action_result *r)
{
    int running = 0;
    for (int i = 0; i < VGD_ACTION_SLOTS; i++) {
        if (a->pid[i] == 0)
            continue;
        if (now_us >= a->deadline[i]) {
            kill(-a->pid[i], SIGKILL);
            action__reap(a, i, 1, 1, r);
        } else {
            action__reap(a, i, 0, 0, r);
        }
        running += a->pid[i] != 0;
    }
    return running;
}

void vgd_action_stop(vgd_action *a, vgd_action_result *r)
{
    for (int i = 0; i < VGD_ACTION_SLOTS; i++) {
        if (a->pid[i] == 0)
            continue;
        action__reap(a, i, 0, 0, r);
        if (a->pid[i] != 0) {
            kill(-a->pid[i], SIGKILL);
            action__reap(a, i, 1, 1, r);
        }
    }
}
