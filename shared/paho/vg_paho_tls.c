/* vg_paho_tls.c - Paho's TLS options and handshake reason (see vg_paho_tls.h). */
#include <stdio.h>

#include "vg_paho_tls.h"
#include "vg_tlsmsg.h"

enum { TLS_EMPTY = 0, TLS_WRITING = 1, TLS_SET = 2 };

/* "" -> NULL: Paho's optional file names. */
static const char *paho_tls__opt(const char *s)
{
    return s && s[0] ? s : NULL;
}

/* Paho's ssl_error_cb: one OpenSSL error line ("TID:error:CODE:LIB:FUNC:
 * REASON:FILE:LINE:"); keeps the REASON of the first line of a handshake.
 * Returns 1 (Paho goes on with the next line). */
static int paho_tls__on_error(const char *str, size_t len, void *u)
{
    vg_paho_tls *t = u;
    int empty = TLS_EMPTY;
    if (atomic_compare_exchange_strong(&t->state, &empty, TLS_WRITING)) {
        vg_tls_reason(str, len, t->reason, sizeof t->reason);
        atomic_store(&t->state, TLS_SET);
    }
    return 1;
}

void vg_paho_tls_apply(vg_paho_tls *t, int tls, MQTTAsync_connectOptions *co, const char *ca_file,
                       const char *cert_file, const char *key_file)
{
    atomic_store(&t->state, TLS_EMPTY);
    if (!tls)
        return;
    MQTTAsync_SSLOptions so = MQTTAsync_SSLOptions_initializer;
    so.trustStore = paho_tls__opt(ca_file);
    so.keyStore = paho_tls__opt(cert_file);
    so.privateKey = paho_tls__opt(key_file);
    so.enableServerCertAuth = 1;
    so.verify = 1;
    so.ssl_error_cb = paho_tls__on_error;
    so.ssl_error_context = t;
    t->so = so;
    co->ssl = &t->so;
}

int vg_paho_tls_take(vg_paho_tls *t, char *out, size_t cap)
{
    int set = atomic_load(&t->state) == TLS_SET;
    snprintf(out, cap, "%s", set ? t->reason : "");
    if (set)
        atomic_store(&t->state, TLS_EMPTY);
    return set;
}
