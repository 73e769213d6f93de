/*
 * fileio.c - whole-file read and atomic replace (see fileio.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "vg_error.h"

int vgd_file_read(const char *path, void *buf, size_t cap, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? VG_EMISSING : VG_EIO;
    size_t n = 0;
    int rc = VG_OK;
    for (;;) {
        if (n == cap) {
            char extra;
            rc = read(fd, &extra, 1) > 0 ? VG_ETOOBIG : VG_OK;
            break;
        }
        ssize_t r = read(fd, (char *)buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = VG_EIO;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    *len = n;
    return rc;
}

/* fsyncs the directory holding `path`, making a rename or unlink durable. */
static int file__sync_dir(const char *path)
{
    char copy[PATH_MAX];
    if (strlen(path) >= sizeof copy)
        return VG_EINVAL;
    strcpy(copy, path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return VG_EIO;
    int rc = fsync(fd) == 0 ? VG_OK : VG_EIO;
    close(fd);
    return rc;
}

/* Writes all of buf to fd. */
static int file__write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return VG_EIO;
        p += w;
        len -= (size_t)w;
    }
    return VG_OK;
}

int vgd_file_write_atomic(const char *path, const void *buf, size_t len)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return VG_EINVAL;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return VG_EIO;
    int rc = file__write_all(fd, buf, len);
    if (rc == VG_OK && fsync(fd) != 0)
        rc = VG_EIO;
    if (close(fd) != 0 && rc == VG_OK)
        rc = VG_EIO;
    if (rc == VG_OK && rename(tmp, path) != 0)
        rc = VG_EIO;
    if (rc != VG_OK) {
        unlink(tmp);
        return rc;
    }
    return file__sync_dir(path);
}

int vgd_file_remove(const char *path)
{
    if (unlink(path) != 0)
        return errno == ENOENT ? VG_OK : VG_EIO;
    return file__sync_dir(path);
}
