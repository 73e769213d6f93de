/*
 * keys.c - key files (see keys.h).
 */
#include "keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vg_error.h"
#include "vg_hex.h"

int vb_key_read(const char *path, uint8_t *key, size_t n, char *err, size_t errlen)
{
    char text[2 * VG_SK_BYTES + 64];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return VG_EIO;
    }
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    if (vg_hex_decode(text, len, key, n) != VG_OK) {
        snprintf(err, errlen, "%s: not a key file (want %zu hex digits)", path, 2 * n);
        return VG_ESYNTAX;
    }
    return VG_OK;
}

/* Writes hex of key[0..n) and a newline to a new file `path`. */
static int keys__write(const char *path, const uint8_t *key, size_t n, mode_t mode, char *err,
                       size_t errlen)
{
    char hex[2 * VG_SK_BYTES + 2];
    vg_hex_encode(key, n, hex);
    size_t len = strlen(hex);
    hex[len++] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return errno == EEXIST ? VG_EEXIST : VG_EIO;
    }
    int ok = write(fd, hex, len) == (ssize_t)len;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, errlen, "%s: write failed", path);
        return VG_EIO;
    }
    return VG_OK;
}

int vb_keygen_files(const char *prefix, char *err, size_t errlen)
{
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES];
    char pub[4096], sec[4096];
    snprintf(pub, sizeof pub, "%s.pub", prefix);
    snprintf(sec, sizeof sec, "%s.key", prefix);
    int rc = vg_keygen(pk, sk);
    if (rc != VG_OK) {
        snprintf(err, errlen, "cannot make a key pair: %s", vg_strerror(rc));
        return rc;
    }
    rc = keys__write(sec, sk, VG_SK_BYTES, 0600, err, errlen);
    if (rc == VG_OK)
        rc = keys__write(pub, pk, VG_PK_BYTES, 0644, err, errlen);
    memset(sk, 0, sizeof sk);
    return rc;
}

void vb_key_public(const uint8_t sk[VG_SK_BYTES], uint8_t pk[VG_PK_BYTES])
{
    memcpy(pk, sk + VG_SK_BYTES - VG_PK_BYTES, VG_PK_BYTES);
}
