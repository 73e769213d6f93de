/*
 * log.h - vigild's logger: levels, stderr or syslog, and burst suppression.
 *
 * One process-wide logger (the daemon has exactly one).  A line costs one
 * vsnprintf and one write(2) (stderr) or syslog(3) call; lines under the
 * current level cost one integer compare.  Thread-safe: the level is an
 * atomic int and each line is written with a single call.
 *
 * Burst suppression (vgd_log_burst): a caller-owned vgd_burst logs the first
 * event of a burst, then counts silently until `gap_us` have passed, then
 * logs "N more" with the next event.  Bad input is logged this way so that
 * a flood of garbage never floods the log.
 */
#ifndef VGD_LOG_H
#define VGD_LOG_H

#include <stdint.h>

enum vgd_level { VGD_ERR = 0, VGD_WARN = 1, VGD_INFO = 2, VGD_DEBUG = 3 };

/* State of one burst-suppressed message kind (zero-initialise). */
typedef struct vgd_burst {
    int64_t last_us;     /* time of the last line written */
    uint64_t suppressed; /* events counted since, not logged */
} vgd_burst;

/* Parses "error", "warning", "info", "debug" (or 0..3) into *level;
 * VG_ESYNTAX otherwise. */
int vgd_log_parse_level(const char *s, int *level);

/* Selects the destination ("stderr" or "syslog", else VG_ESYNTAX) and the
 * level.  `ident` is kept by reference for syslog (give a static string). */
int vgd_log_init(const char *target, int level, const char *ident);

/* Changes the level (SIGHUP). */
void vgd_log_set_level(int level);

/* Logs one line at `level` (printf format, no trailing newline needed). */
void vgd_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs like vgd_log unless suppressed by *b (see above); returns 1 when a
 * line was written. */
int vgd_log_burst(vgd_burst *b, int64_t now_us, int64_t gap_us, int level, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
