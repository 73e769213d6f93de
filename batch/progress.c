/*
 * progress.c - live progress line on a TTY (see progress.h).
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define PROGRESS_PERIOD_S 0.1

/* Monotonic seconds. */
static double progress__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void vb_progress_start(vb_progress *p, const char *label, const char *unit, uint64_t total)
{
    const char *env = getenv("VB_PROGRESS");
    p->label = label;
    p->unit = unit;
    p->total = total;
    p->done = 0;
    p->t0 = p->last = progress__now();
    p->tty = env && *env ? env[0] == '1' : isatty(2);
}

/* Writes the line: label, done/total, rate, time left. */
static void progress__draw(const vb_progress *p, double now, int final)
{
    double el = now - p->t0;
    double rate = el > 0 ? (double)p->done / el : 0;
    fprintf(stderr, "\r%s: %llu", p->label, (unsigned long long)p->done);
    if (p->total)
        fprintf(stderr, "/%llu", (unsigned long long)p->total);
    fprintf(stderr, " %s  %.1f/s", p->unit, rate);
    if (!final && p->total && rate > 0 && p->done <= p->total)
        fprintf(stderr, "  %.0f s left   ", (double)(p->total - p->done) / rate);
    else
        fprintf(stderr, "  %.1f s         ", el);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

void vb_progress_step(vb_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->tty)
        return;
    double now = progress__now();
    if (now - p->last < PROGRESS_PERIOD_S)
        return;
    p->last = now;
    progress__draw(p, now, 0);
}

void vb_progress_end(vb_progress *p)
{
    if (p->tty)
        progress__draw(p, progress__now(), 1);
}
