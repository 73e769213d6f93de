/*
 * dump.h - the --dump file: every published payload, in publish order.
 *
 * Format: the 4 bytes "VSD1", then one record per publication:
 *     u32 little-endian topic length, topic bytes,
 *     u32 little-endian payload length, payload bytes.
 * Two runs with the same seed and no external commands produce identical
 * dump files (compare with cmp); `vigil-sim --decode FILE` prints one as CSV.
 *
 * Cost: O(bytes) per record, buffered stdio; no allocation.
 */
#ifndef SIM_DUMP_H
#define SIM_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SIM_DUMP_TOPIC_MAX 512 /* longest topic in a dump */

/* Writes the file magic.  VG_OK or VG_EINVAL on I/O error. */
int sim_dump_begin(FILE *f);

/* Appends one record.  VG_OK or VG_EINVAL on I/O error. */
int sim_dump_write(FILE *f, const char *topic, const uint8_t *payload, size_t len);

/* Checks the file magic.  VG_OK, or VG_ESYNTAX when it is not a dump. */
int sim_dump_open(FILE *f);

/* Reads the next record: topic (NUL-terminated, tcap bytes) and payload
 * (cap bytes, *len set).  VG_OK; VG_OK with *eof true at a clean end;
 * VG_ETRUNC on a truncated record; VG_ETOOBIG when a field exceeds its
 * buffer. */
int sim_dump_read(FILE *f, char *topic, size_t tcap, uint8_t *payload, size_t cap, size_t *len,
                  bool *eof);

#endif
