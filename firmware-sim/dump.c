/*
 * dump.c - the --dump record format; see dump.h.
 */
#include "dump.h"

#include <string.h>

#include "vg_error.h"

static const char dump__magic[4] = {'V', 'S', 'D', '1'};

/* Writes v as 4 little-endian bytes. */
static bool dump__put_u32(FILE *f, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return fwrite(b, 1, 4, f) == 4;
}

/* Reads 4 little-endian bytes; returns the bytes read (0..4). */
static size_t dump__get_u32(FILE *f, uint32_t *v)
{
    uint8_t b[4];
    size_t n = fread(b, 1, 4, f);
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return n;
}

/* See dump.h. */
int sim_dump_begin(FILE *f)
{
    return fwrite(dump__magic, 1, 4, f) == 4 ? VG_OK : VG_EINVAL;
}

/* See dump.h. */
int sim_dump_write(FILE *f, const char *topic, const uint8_t *payload, size_t len)
{
    size_t tl = strlen(topic);
    bool ok = dump__put_u32(f, (uint32_t)tl) && fwrite(topic, 1, tl, f) == tl &&
              dump__put_u32(f, (uint32_t)len) && fwrite(payload, 1, len, f) == len;
    return ok ? VG_OK : VG_EINVAL;
}

/* See dump.h. */
int sim_dump_open(FILE *f)
{
    char m[4];
    if (fread(m, 1, 4, f) != 4 || memcmp(m, dump__magic, 4) != 0)
        return VG_ESYNTAX;
    return VG_OK;
}

/* See dump.h. */
int sim_dump_read(FILE *f, char *topic, size_t tcap, uint8_t *payload, size_t cap, size_t *len,
                  bool *eof)
{
    uint32_t tl, pl;
    *eof = false;
    size_t got = dump__get_u32(f, &tl);
    if (got == 0 && feof(f)) {
        *eof = true;
        return VG_OK;
    }
    if (got != 4)
        return VG_ETRUNC;
    if (tl >= tcap)
        return VG_ETOOBIG;
    if (fread(topic, 1, tl, f) != tl || dump__get_u32(f, &pl) != 4)
        return VG_ETRUNC;
    topic[tl] = '\0';
    if (pl > cap)
        return VG_ETOOBIG;
    if (fread(payload, 1, pl, f) != pl)
        return VG_ETRUNC;
    *len = pl;
    return VG_OK;
}
