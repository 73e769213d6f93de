/*
 * sodium_dl.c - dlopen + dlsym of libsodium into a vg_crypto table (see
 * sodium_dl.h).
 *
 * The table is filled through a name/offset list, as agent/paho.c does: a
 * void * from dlsym is copied into the function pointer slot with memcpy
 * (POSIX guarantees the representations agree; ISO C does not allow the
 * cast).  The load runs once under pthread_once; its outcome (table or
 * message) is kept for every later caller.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sodium_dl.h"
#include "vg_error.h"

/* One table entry: the symbol and where its pointer goes. */
struct sodium_sym {
    const char *name; /* exported symbol */
    size_t off;       /* offsetof(vg_crypto, slot) */
};

#define SODIUM_SYM(fn, slot)                                                                       \
    {                                                                                              \
#fn, offsetof(vg_crypto, slot)                                                             \
    }

static const struct sodium_sym sodium_syms[VGD_SODIUM_NFUNC] = {
    SODIUM_SYM(sodium_init, init),
    SODIUM_SYM(crypto_sign_keypair, keypair),
    SODIUM_SYM(crypto_sign_ed25519_sk_to_pk, sk_to_pk),
    SODIUM_SYM(crypto_sign_detached, sign),
    SODIUM_SYM(crypto_sign_verify_detached, verify),
    SODIUM_SYM(crypto_generichash, hash),
};

/* The prototypes of sodium.h must fit the table's slots: a libsodium whose
 * ABI changed fails here at compile time.  __typeof__ does not evaluate its
 * operand, so no libsodium symbol is referenced (vigild must not list it). */
#define SODIUM_FITS(fn, slot)                                                                      \
    _Static_assert(                                                                                \
        __builtin_types_compatible_p(__typeof__(&fn), __typeof__(((vg_crypto *)0)->slot)),         \
        #fn " does not fit vg_crypto." #slot)
SODIUM_FITS(sodium_init, init);
SODIUM_FITS(crypto_sign_keypair, keypair);
SODIUM_FITS(crypto_sign_ed25519_sk_to_pk, sk_to_pk);
SODIUM_FITS(crypto_sign_detached, sign);
SODIUM_FITS(crypto_sign_verify_detached, verify);
SODIUM_FITS(crypto_generichash, hash);

static vg_crypto sodium_table;     /* filled by sodium__load */
static int sodium_rc = VG_ECRYPTO; /* its outcome */
static char sodium_err[256];       /* and its message when it failed */
static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

/* Resolves every entry of sodium_syms from lib into t; VG_ECRYPTO with
 * sodium_err filled when one is missing. */
static int sodium__resolve(void *lib, vg_crypto *t)
{
    for (size_t i = 0; i < VGD_SODIUM_NFUNC; i++) {
        dlerror();
        void *sym = dlsym(lib, sodium_syms[i].name);
        if (!sym) {
            const char *e = dlerror();
            snprintf(sodium_err, sizeof sodium_err, "%s has no %s (%s)", VGD_SODIUM_SONAME,
                     sodium_syms[i].name, e ? e : "NULL");
            return VG_ECRYPTO;
        }
        memcpy((char *)t + sodium_syms[i].off, &sym, sizeof sym);
    }
    return VG_OK;
}

/* The one load (pthread_once): sodium_table and sodium_rc, or sodium_err. */
static void sodium__load(void)
{
    void *lib = dlopen(VGD_SODIUM_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        const char *e = dlerror();
        snprintf(sodium_err, sizeof sodium_err,
                 "cannot load the crypto library %s (install libsodium23): %s", VGD_SODIUM_SONAME,
                 e ? e : "unknown error");
        return;
    }
    vg_crypto t;
    if (sodium__resolve(lib, &t) != VG_OK) {
        dlclose(lib);
        return;
    }
    sodium_table = t;
    sodium_rc = VG_OK;
}

/* Contract in sodium_dl.h: *out points into this file's static table. */
int vgd_sodium_load(const vg_crypto **out, char *err, size_t errlen)
{
    pthread_once(&sodium_once, sodium__load);
    *out = sodium_rc == VG_OK ? &sodium_table : NULL;
    if (sodium_rc != VG_OK && errlen)
        snprintf(err, errlen, "%s", sodium_err);
    return sodium_rc;
}
