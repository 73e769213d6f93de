/*
 * paho.c - dlopen + dlsym of Paho's MQTTAsync (see paho.h), and TCP_NODELAY
 * on Paho's sockets.
 *
 * Nagle: Paho never sets TCP_NODELAY and has no socket-option hook.  On
 * the trip path vigild sends the PUBACK of the violating batch and then,
 * a few hundred microseconds later, the retained shutdown: with Nagle the
 * shutdown waits for the TCP ACK of the PUBACK, which the broker delays
 * (delayed ACK, 40 ms on Linux), so a shutdown took 40-90 ms instead of a
 * fraction of one (bench/bench_vigild_latency.sh).  vigild therefore
 * defines connect() below and exports it (-Wl,--export-dynamic-symbol=
 * connect in agent/CMakeLists.txt): Paho, loaded later, binds its connect
 * to this one, which sets TCP_NODELAY on stream sockets of the internet
 * families and calls libc's connect (dlsym RTLD_NEXT).  Any other caller
 * in the process gets the same, harmless, behaviour.  The table is
 * filled through a name/offset list, so adding a function is one line in
 * paho.h and one here; a void * from dlsym is copied into the function
 * pointer slot with memcpy (POSIX guarantees the representations agree;
 * ISO C does not allow the cast).
 */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>

#include "paho.h"
#include "vg_error.h"

/* One table entry: the symbol and where its pointer goes. */
struct paho_sym {
    const char *name; /* exported symbol */
    size_t off;       /* offsetof(vgd_paho, slot) */
};

#define PAHO_SYM(f)                                                                                \
    {                                                                                              \
        "MQTTAsync_" #f, offsetof(vgd_paho, f)                                                     \
    }

static const struct paho_sym paho_syms[VGD_PAHO_NFUNC] = {
    PAHO_SYM(createWithOptions), PAHO_SYM(setCallbacks),
    PAHO_SYM(setConnected),      PAHO_SYM(connect),
    PAHO_SYM(disconnect),        PAHO_SYM(isConnected),
    PAHO_SYM(subscribeMany),     PAHO_SYM(sendMessage),
    PAHO_SYM(freeMessage),       PAHO_SYM(free),
    PAHO_SYM(destroy),           PAHO_SYM(setTraceLevel),
};

static vgd_paho paho_table[2]; /* by variant: plain, TLS */
static int paho_loaded[2];     /* table filled */

const char *vgd_paho_soname(int tls)
{
    return tls ? VGD_PAHO_TLS : VGD_PAHO_PLAIN;
}

/* Resolves every entry of paho_syms from lib into t. */
static int paho__resolve(void *lib, vgd_paho *t, const char *so, char *err, size_t errlen)
{
    for (size_t i = 0; i < VGD_PAHO_NFUNC; i++) {
        dlerror();
        void *sym = dlsym(lib, paho_syms[i].name);
        if (!sym) {
            const char *e = dlerror();
            snprintf(err, errlen, "%s has no %s (%s); is it Paho MQTT C 1.3?", so,
                     paho_syms[i].name, e ? e : "NULL");
            return VG_EMISSING;
        }
        memcpy((char *)t + paho_syms[i].off, &sym, sizeof sym);
    }
    return VG_OK;
}

int vgd_paho_load(int tls, const vgd_paho **out, char *err, size_t errlen)
{
    tls = tls ? 1 : 0;
    *out = NULL;
    if (paho_loaded[tls]) {
        *out = &paho_table[tls];
        return VG_OK;
    }
    const char *so = vgd_paho_soname(tls);
    void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(err, errlen, "cannot load the MQTT library %s (install libpaho-mqtt1.3): %s", so,
                 e ? e : "unknown error");
        return VG_EMISSING;
    }
    vgd_paho t;
    int rc = paho__resolve(lib, &t, so, err, errlen);
    if (rc != VG_OK) {
        dlclose(lib);
        return rc;
    }
    paho_table[tls] = t;
    paho_loaded[tls] = 1;
    *out = &paho_table[tls];
    return VG_OK;
}

/* ---- TCP_NODELAY for Paho's sockets (see the header comment) ---------- */

typedef int paho_connect_fn(int, const struct sockaddr *, socklen_t);
static paho_connect_fn *paho_real_connect; /* libc's connect */
static pthread_once_t paho_connect_once = PTHREAD_ONCE_INIT;

static void paho__find_connect(void)
{
    void *sym = dlsym(RTLD_NEXT, "connect");
    memcpy(&paho_real_connect, &sym, sizeof sym);
}

/* Sets TCP_NODELAY when fd is a TCP socket; failures are ignored (Nagle
 * stays on, nothing else changes). */
static void paho__nodelay(int fd, const struct sockaddr *sa)
{
    int type = 0, one = 1;
    socklen_t tl = sizeof type;
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
        return;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* connect(2) with TCP_NODELAY first; exported from vigild. */
int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    pthread_once(&paho_connect_once, paho__find_connect);
    paho__nodelay(fd, sa);
    if (!paho_real_connect)
        return -1;
    return paho_real_connect(fd, sa, len);
}
