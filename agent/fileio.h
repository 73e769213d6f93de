/*
 * fileio.h - the two small-file operations vigild's state needs: read a
 * whole file into a caller buffer, and replace a file atomically and
 * durably (write FILE.tmp, fsync, rename over FILE, fsync the directory),
 * so that after a crash at any instant FILE holds either the old or the new
 * contents, never a mix.  Used for the last good model bundle and the trip
 * latch.  Cost: O(bytes) plus two fsyncs per write.
 */
#ifndef VGD_FILEIO_H
#define VGD_FILEIO_H

#include <stddef.h>

/* Reads `path` into buf[0..cap); *len gets its size.  VG_EMISSING when it
 * does not exist, VG_ETOOBIG when larger than cap, VG_EIO otherwise. */
int vgd_file_read(const char *path, void *buf, size_t cap, size_t *len);

/* Replaces `path` with buf[0..len) atomically and durably (see above).
 * VG_EIO on failure (the old file is then untouched); VG_EINVAL when the
 * path is too long. */
int vgd_file_write_atomic(const char *path, const void *buf, size_t len);

/* Removes `path` durably (unlink + fsync of the directory).  VG_OK when it
 * did not exist. */
int vgd_file_remove(const char *path);

#endif
