/*
 * paho.h - Eclipse Paho MQTTAsync, loaded at run time.
 *
 * Why: Debian ships Paho's async client twice, libpaho-mqtt3a (plain TCP)
 * and libpaho-mqtt3as (TLS, linked against OpenSSL).  Linking the TLS
 * variant costs every vigild, even one talking tcp:// to the gateway's
 * local broker (the common topology: deploy/ bridges that broker to the
 * cloud over TLS), libcrypto and libssl in its address space and about
 * 3.5 MB of resident pages that OpenSSL's initialisation touches.  So
 * vigild links neither: vgd_paho_load dlopen()s the variant its broker URI
 * needs ("libpaho-mqtt3as.so.1" for the TLS schemes of vg_uri.h, else
 * "libpaho-mqtt3a.so.1"; RTLD_NOW | RTLD_LOCAL) and resolves the 12
 * functions vigild calls into a table.  MQTTAsync.h is still included for
 * the types and option initialisers, so the ABI is checked at compile time
 * against the same soname (SONAME .1, Debian package libpaho-mqtt1.3).
 *
 * Cost: one dlopen and 12 dlsym at start (well under a millisecond);
 * afterwards every call is one indirect call.  The library stays loaded
 * for the life of the process (Paho's threads run inside it), so there is
 * no unload.  Not thread-safe: call vgd_paho_load from one thread before
 * any client exists (vigild: the main thread at start).
 */
#ifndef VGD_PAHO_H
#define VGD_PAHO_H

#include <stddef.h>

#include <MQTTAsync.h>

#define VGD_PAHO_PLAIN "libpaho-mqtt3a.so.1"  /* tcp:// (and ws://) */
#define VGD_PAHO_TLS   "libpaho-mqtt3as.so.1" /* ssl://, mqtts://, wss:// */
#define VGD_PAHO_NFUNC 12                     /* entries of vgd_paho */

/* The MQTTAsync functions vigild uses, same signatures as MQTTAsync.h.
 * Every entry is non-NULL in a table returned by vgd_paho_load. */
typedef struct vgd_paho {
    int (*createWithOptions)(MQTTAsync *h, const char *uri, const char *id, int persistence,
                             void *persistence_ctx, MQTTAsync_createOptions *o);
    int (*setCallbacks)(MQTTAsync h, void *ctx, MQTTAsync_connectionLost *cl,
                        MQTTAsync_messageArrived *ma, MQTTAsync_deliveryComplete *dc);
    int (*setConnected)(MQTTAsync h, void *ctx, MQTTAsync_connected *co);
    int (*connect)(MQTTAsync h, const MQTTAsync_connectOptions *o);
    int (*disconnect)(MQTTAsync h, const MQTTAsync_disconnectOptions *o);
    int (*isConnected)(MQTTAsync h);
    int (*subscribeMany)(MQTTAsync h, int n, char *const *topic, const int *qos,
                         MQTTAsync_responseOptions *r);
    int (*sendMessage)(MQTTAsync h, const char *topic, const MQTTAsync_message *m,
                       MQTTAsync_responseOptions *r);
    void (*freeMessage)(MQTTAsync_message **m);
    void (*free)(void *p);
    void (*destroy)(MQTTAsync *h);
    void (*setTraceLevel)(enum MQTTASYNC_TRACE_LEVELS level);
} vgd_paho;

/* Loads the plain (tls = 0) or TLS (tls = 1) variant once per process and
 * returns its table in *out.  VG_OK, or VG_EMISSING with a message naming
 * the library, the missing symbol and dlerror() in err (the package to
 * install is libpaho-mqtt1.3). */
int vgd_paho_load(int tls, const vgd_paho **out, char *err, size_t errlen);

/* The soname vgd_paho_load opens for `tls` (for messages and tests). */
const char *vgd_paho_soname(int tls);

#endif
