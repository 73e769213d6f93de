/*
 * test_vgd_trip.c - the local trip action for real: a command that exits
 * is reaped as ok with the trip's VIGIL_* environment; one that outlives
 * its timeout is killed with its whole process group; a sysfs write lands
 * in the file; a missing sysfs path is reported.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "trip.h"
#include "vg_error.h"

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void nap_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Polls until nothing runs or `ms` passed; returns what still runs. */
static int poll_until_idle(vgd_action *a, vgd_action_result *r, int ms)
{
    int running = 1;
    for (int i = 0; i < ms / 10 && running; i++) {
        running = vgd_action_poll(a, mono_us(), r);
        if (running)
            nap_ms(10);
    }
    return running;
}

static void test_command_env_and_exit(void)
{
    char out[64], cmd[200];
    snprintf(out, sizeof out, "/tmp/vgd-trip-%d.out", (int)getpid());
    snprintf(cmd, sizeof cmd, "echo \"$VIGIL_DEVICE $VIGIL_CHANNEL $VIGIL_TRIP_ID\" > %s", out);
    vgd_action a;
    vgd_action_init(&a, cmd, 5000, "", "");
    vg_shutdown sd = {.device = "d1", .channel = "temp", .trip_id = 7};
    CU_ASSERT_EQUAL(vgd_action_run(&a, &sd, mono_us()), VG_OK);
    vgd_action_result r = {0};
    CU_ASSERT_EQUAL(poll_until_idle(&a, &r, 5000), 0);
    CU_ASSERT_EQUAL(r.ok, 1);
    char line[64] = {0};
    FILE *f = fopen(out, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_NOT_NULL(fgets(line, sizeof line, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(line, "d1 temp 7\n");
    remove(out);
}

static void test_timeout_kills_group(void)
{
    char pidf[64], cmd[200];
    snprintf(pidf, sizeof pidf, "/tmp/vgd-trip-%d.pid", (int)getpid());
    /* a grandchild sleeping long: killing only the shell would leave it */
    snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; wait", pidf);
    vgd_action a;
    vgd_action_init(&a, cmd, 200, "", "");
    vg_shutdown sd = {.device = "d1", .channel = "temp", .trip_id = 1};
    int64_t t0 = mono_us();
    CU_ASSERT_EQUAL(vgd_action_run(&a, &sd, t0), VG_OK);
    vgd_action_result r = {0};
    CU_ASSERT_EQUAL(poll_until_idle(&a, &r, 3000), 0);
    CU_ASSERT_EQUAL(r.killed, 1);
    CU_ASSERT_TRUE(mono_us() - t0 >= 200000);
    CU_ASSERT_TRUE(mono_us() - t0 < 2000000);
    int gpid = 0;
    FILE *f = fopen(pidf, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fscanf(f, "%d", &gpid), 1);
    fclose(f);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d/stat", gpid);
    nap_ms(50);
    FILE *st = fopen(proc, "r"); /* gone, or a zombie awaiting init */
    if (st) {
        int p;
        char comm[64], state = 0;
        CU_ASSERT_EQUAL(fscanf(st, "%d %63s %c", &p, comm, &state), 3);
        CU_ASSERT_EQUAL(state, 'Z');
        fclose(st);
    }
    remove(pidf);
}

static void test_sysfs_write(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/vgd-trip-%d.gpio", (int)getpid());
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("1", f);
    fclose(f);
    vgd_action a;
    vgd_action_init(&a, "", 1000, path, "0");
    vg_shutdown sd = {.device = "d1", .channel = "temp", .trip_id = 1};
    CU_ASSERT_EQUAL(vgd_action_run(&a, &sd, mono_us()), VG_OK);
    char v[8] = {0};
    f = fopen(path, "r");
    CU_ASSERT_PTR_NOT_NULL(fgets(v, sizeof v, f));
    fclose(f);
    CU_ASSERT_STRING_EQUAL(v, "0");
    remove(path);
    vgd_action_init(&a, "", 1000, "/nonexistent/dir/value", "0");
    CU_ASSERT_EQUAL(vgd_action_run(&a, &sd, mono_us()), VG_EIO);
}

int init_vgd_trip_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_trip", NULL, NULL);
    if (!s || !CU_add_test(s, "command env and exit", test_command_env_and_exit) ||
        !CU_add_test(s, "timeout kills the group", test_timeout_kills_group) ||
        !CU_add_test(s, "sysfs write", test_sysfs_write))
        return CU_get_error();
    return 0;
}
