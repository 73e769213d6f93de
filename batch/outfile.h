/*
 * outfile.h - small helpers for the files vigil-batch writes: atomic
 * whole-file writes (temp file + rename, so a reader never sees half a
 * bundle), whole-file reads, and JSON string escaping.
 * Cost: O(bytes); one fsync-free write and rename per file.
 */
#ifndef VB_OUTFILE_H
#define VB_OUTFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes buf[0..len) to dir/name atomically.  VG_EIO on failure. */
int vb_write_file(const char *dir, const char *name, const void *buf, size_t len);

/* Reads the whole file `path` (at most `max` bytes) into a malloc'd buffer
 * the caller frees.  VG_EIO when unreadable, VG_ETOOBIG when larger. */
int vb_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);

/* Creates directory `path` (and its parents) when missing. */
int vb_mkdir_p(const char *path);

/* Writes s as a JSON string literal (with quotes) to f. */
void vb_json_str(FILE *f, const char *s);

#endif
