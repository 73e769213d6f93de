/*
 * log.c - vigild's logger (see log.h).  Cost per line: a vsnprintf into a
 * stack buffer and one write(2) or syslog(3).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "vg_error.h"

#define LOG_LINE_MAX 1024 /* longest line written; longer ones are cut */

static atomic_int log_level = VGD_INFO; /* lines above it are dropped */
static int log_syslog;                  /* 1: syslog, 0: stderr */

static const char *const log_names[] = {"error", "warning", "info", "debug"};
static const int log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

int vgd_log_parse_level(const char *s, int *level)
{
    for (int i = 0; i < 4; i++) {
        char digit[2] = {(char)('0' + i), '\0'};
        if (strcasecmp(s, log_names[i]) == 0 || strcmp(s, digit) == 0 ||
            (i == 1 && strcasecmp(s, "warn") == 0) || (i == 0 && strcasecmp(s, "err") == 0)) {
            *level = i;
            return VG_OK;
        }
    }
    return VG_ESYNTAX;
}

int vgd_log_init(const char *target, int level, const char *ident)
{
    if (strcmp(target, "syslog") == 0)
        log_syslog = 1;
    else if (strcmp(target, "stderr") == 0)
        log_syslog = 0;
    else
        return VG_ESYNTAX;
    if (log_syslog)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    vgd_log_set_level(level);
    return VG_OK;
}

void vgd_log_set_level(int level)
{
    atomic_store(&log_level, level < VGD_ERR ? VGD_ERR : level > VGD_DEBUG ? VGD_DEBUG : level);
}

/* Formats and writes one line; the level is already checked. */
static void log__write(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void log__write(int level, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    if (log_syslog) {
        vsnprintf(line, sizeof line, fmt, ap);
        syslog(log_prio[level], "%s", line);
        return;
    }
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ vigild %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, log_names[level]);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w; /* nowhere to report a failing stderr */
}

void vgd_log(int level, const char *fmt, ...)
{
    if (level > atomic_load(&log_level))
        return;
    va_list ap;
    va_start(ap, fmt);
    log__write(level, fmt, ap);
    va_end(ap);
}

int vgd_log_burst(vgd_burst *b, int64_t now_us, int64_t gap_us, int level, const char *fmt, ...)
{
    if (b->last_us != 0 && now_us - b->last_us < gap_us) {
        b->suppressed++;
        return 0;
    }
    if (b->suppressed && level <= atomic_load(&log_level))
        vgd_log(level, "(%llu similar events suppressed)", (unsigned long long)b->suppressed);
    b->suppressed = 0;
    b->last_us = now_us;
    if (level > atomic_load(&log_level))
        return 0;
    va_list ap;
    va_start(ap, fmt);
    log__write(level, fmt, ap);
    va_end(ap);
    return 1;
}
