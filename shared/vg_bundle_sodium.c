/*
 * vg_bundle_sodium.c - the vg_crypto table of a linked libsodium and the
 * bundle entry points that use it (vg_bundle.h).
 *
 * Why a file of its own: vg_bundle.c calls its crypto through a table, so
 * a program that only references the *_with functions (vigild, which
 * dlopen()s libsodium on the first bundle, agent/sodium_dl.h) never pulls
 * this object out of the static core and never references a libsodium
 * symbol.  Everything else (vigil-batch, vigilctl, vigil-replay, the tools
 * and the tests) keeps calling vg_bundle_open / vg_bundle_sign / vg_keygen
 * as before and links libsodium through vigil-core.
 *
 * Cost: the wrappers add one indirect call to vg_bundle.c's; sodium_init
 * is idempotent and cheap after the first call.
 */
#include <sodium.h>

#include "vg_bundle.h"
#include "vg_error.h"

static const vg_crypto bundle_sodium = {
    .init = sodium_init,
    .keypair = crypto_sign_keypair,
    .sk_to_pk = crypto_sign_ed25519_sk_to_pk,
    .sign = crypto_sign_detached,
    .verify = crypto_sign_verify_detached,
    .hash = crypto_generichash,
};

/* Contract in vg_bundle.h: a static table, never NULL. */
const vg_crypto *vg_crypto_sodium(void)
{
    return &bundle_sodium;
}

/* Contract in vg_bundle.h: sodium_init() returns 0, or 1 when already done. */
int vg_crypto_init(void)
{
    return sodium_init() < 0 ? VG_ECRYPTO : VG_OK;
}

/* Contract in vg_bundle.h: pk/sk are the caller's, filled by libsodium. */
int vg_keygen(uint8_t pk[VG_PK_BYTES], uint8_t sk[VG_SK_BYTES])
{
    if (!pk || !sk)
        return VG_EINVAL;
    if (vg_crypto_init() != VG_OK)
        return VG_ECRYPTO;
    return crypto_sign_keypair(pk, sk) == 0 ? VG_OK : VG_ECRYPTO;
}

/* Contract in vg_bundle.h (vg_bundle_sign_with with libsodium). */
int vg_bundle_sign(const vg_model *m, const uint8_t sk[VG_SK_BYTES], uint8_t *buf, size_t cap,
                   size_t *len)
{
    return vg_bundle_sign_with(&bundle_sodium, m, sk, buf, cap, len);
}

/* Contract in vg_bundle.h (vg_bundle_open_with with libsodium). */
int vg_bundle_open(const uint8_t *buf, size_t len, const uint8_t pk[VG_PK_BYTES],
                   const char *device, uint64_t current_version, vg_model *out)
{
    return vg_bundle_open_with(&bundle_sodium, buf, len, pk, device, current_version, out);
}
