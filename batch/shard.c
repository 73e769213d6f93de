/*
 * shard.c - stable device partitioning (see shard.h).
 */
#include "shard.h"

#include <errno.h>
#include <stdlib.h>

#include "vg_error.h"

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull
#define SHARD_MAX  65536u

uint64_t vb_shard_hash(const char *s)
{
    uint64_t h = FNV_OFFSET;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= FNV_PRIME;
    }
    return h;
}

int vb_shard_owns(const vb_shard *sh, const char *device)
{
    return sh->n <= 1 || vb_shard_hash(device) % sh->n == sh->i;
}

/* Parses a decimal unsigned number ending at `stop`; VG_ESYNTAX if not. */
static int shard__num(const char *s, char stop, const char **end, unsigned long *v)
{
    char *e;
    if (*s < '0' || *s > '9')
        return VG_ESYNTAX;
    errno = 0;
    *v = strtoul(s, &e, 10);
    if (errno || *e != stop)
        return VG_ESYNTAX;
    *end = e;
    return VG_OK;
}

int vb_shard_parse(const char *text, vb_shard *out)
{
    unsigned long i, n;
    const char *e;
    if (shard__num(text, '/', &e, &i) != VG_OK || shard__num(e + 1, '\0', &e, &n) != VG_OK)
        return VG_ESYNTAX;
    if (n == 0 || n > SHARD_MAX || i >= n)
        return VG_EINVAL;
    out->i = (uint32_t)i;
    out->n = (uint32_t)n;
    return VG_OK;
}
