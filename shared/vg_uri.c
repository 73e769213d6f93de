/* vg_uri.c - broker URI schemes, rewritten for Paho (see vg_uri.h). */
#include <stdio.h>
#include <string.h>

#include "vg_error.h"
#include "vg_uri.h"

/* One accepted scheme: what the user writes, what Paho is given. */
struct uri_scheme {
    const char *given; /* "mqtt://" */
    const char *paho;  /* "tcp://" */
    int tls;           /* needs Paho's TLS variant and options */
};

static const struct uri_scheme uri_schemes[] = {
    {"tcp://", "tcp://", 0}, {"mqtt://", "tcp://", 0},  {"ws://", "ws://", 0},
    {"ssl://", "ssl://", 1}, {"mqtts://", "ssl://", 1}, {"wss://", "wss://", 1},
};

/* The table row whose scheme starts uri, or NULL. */
static const struct uri_scheme *uri__scheme(const char *uri)
{
    for (size_t i = 0; i < sizeof uri_schemes / sizeof uri_schemes[0]; i++)
        if (strncmp(uri, uri_schemes[i].given, strlen(uri_schemes[i].given)) == 0)
            return &uri_schemes[i];
    return NULL;
}

int vg_uri_paho(const char *uri, char *out, size_t cap, int *tls)
{
    const struct uri_scheme *s = uri ? uri__scheme(uri) : NULL;
    const char *rest = s ? uri + strlen(s->given) : NULL;
    int rc = !rest || !rest[0] ? VG_EINVAL : VG_OK;
    if (rc == VG_OK) {
        int n = snprintf(out, cap, "%s%s", s->paho, rest);
        rc = n < 0 || (size_t)n >= cap ? VG_ENOSPC : VG_OK;
    }
    if (rc != VG_OK && cap > 0)
        out[0] = '\0';
    if (tls)
        *tls = rc == VG_OK ? s->tls : 0;
    return rc;
}
