/*
 * simtime.c - timestamp text and clocks; see simtime.h.
 *
 * Calendar arithmetic is the proleptic Gregorian day count (days from
 * 1970-01-01) done with integer era arithmetic, so formatting needs no time
 * zone database and no gmtime().
 */
#include "simtime.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

#define SIM_US_PER_S   1000000LL
#define SIM_US_PER_DAY (86400LL * SIM_US_PER_S)

/* Civil date y-m-d of day z (days since 1970-01-01); the inverse of
 * vg_days_from_civil(). */
static void simtime__civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* See simtime.h. */
char *sim_time_format(int64_t us, char *buf)
{
    int64_t days = us / SIM_US_PER_DAY;
    int64_t rem = us % SIM_US_PER_DAY;
    if (rem < 0) {
        rem += SIM_US_PER_DAY;
        days--;
    }
    int64_t y;
    int m, d;
    simtime__civil_from_days(days, &y, &m, &d);
    int64_t s = rem / SIM_US_PER_S;
    snprintf(buf, SIM_TIME_TEXT_MAX, "%04lld-%02d-%02d %02lld:%02lld:%02lld.%06lld", (long long)y,
             m, d, (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60),
             (long long)(rem % SIM_US_PER_S));
    return buf;
}

/* See simtime.h. */
double sim_time_of_day_s(int64_t us)
{
    int64_t rem = us % SIM_US_PER_DAY;
    if (rem < 0)
        rem += SIM_US_PER_DAY;
    return (double)rem / (double)SIM_US_PER_S;
}

/* Reads clock `id` in microseconds. */
static int64_t simtime__clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * SIM_US_PER_S + ts.tv_nsec / 1000;
}

/* See simtime.h. */
int64_t sim_mono_us(void)
{
    return simtime__clock_us(CLOCK_MONOTONIC);
}

/* See simtime.h. */
int64_t sim_epoch_us(void)
{
    return simtime__clock_us(CLOCK_REALTIME);
}

/* See simtime.h. */
void sim_sleep_until(int64_t mono_us, const volatile sig_atomic_t *stop)
{
    struct timespec ts = {.tv_sec = (time_t)(mono_us / SIM_US_PER_S),
                          .tv_nsec = (long)(mono_us % SIM_US_PER_S) * 1000};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
        if (stop && *stop)
            return;
    }
}
