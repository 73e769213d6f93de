/*
 * outfile.c - atomic writes, reads, directories, JSON strings (see
 * outfile.h).
 */
#include "outfile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vg_error.h"

int vb_write_file(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return VG_EIO;
    int ok = fwrite(buf, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return VG_EIO;
    }
    return VG_OK;
}

int vb_read_file(const char *path, size_t max, uint8_t **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return VG_EIO;
    uint8_t *b = malloc(max + 1);
    size_t n = b ? fread(b, 1, max + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        return b ? VG_EIO : VG_ENOMEM;
    }
    if (n > max) {
        free(b);
        return VG_ETOOBIG;
    }
    *buf = b;
    *len = n;
    return VG_OK;
}

int vb_mkdir_p(const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return VG_EIO;
        *s = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return VG_EIO;
    return VG_OK;
}

void vb_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}
