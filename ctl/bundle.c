/*
 * bundle.c - `vigilctl bundle FILE [--trust-key KEYFILE]`: decode a model
 * bundle (COSE_Sign1, shared/vg_bundle.h), verify its signature, print its
 * thresholds per channel.
 *
 * Design: the structure and model are decoded first without the key
 * (payload.c's ctl_bundle_peek) so that a bundle whose signature fails can
 * still be shown; then, with --trust-key, vg_bundle_open verifies it
 * exactly as vigild does (same code).  Exit 0 when the signature verifies
 * (or no key was given: "not verified" is printed), 1 when it does not,
 * 5 when the file is not a bundle or the key file is bad.
 * Cost: O(bundle) plus one Ed25519 verification.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "payload.h"
#include "vg_bundle.h"
#include "vg_error.h"
#include "vg_hex.h"

/* One threshold column of the human table. */
typedef struct bundle_col {
    const char *name; /* header */
    size_t offset;    /* double field of vg_chan_model */
} bundle_col;

#define CM(f) offsetof(vg_chan_model, f)
static const bundle_col cols[] = {
    {"lo", CM(lo)},           {"hi", CM(hi)},
    {"loc", CM(loc)},         {"scale", CM(scale)},
    {"z_thr", CM(z_thr)},     {"ewma_l", CM(ewma_l)},
    {"cusum_h", CM(cusum_h)}, {"rate_max", CM(rate_max)},
    {"stale_s", CM(stale_s)},
};
#define NCOLS (sizeof cols / sizeof cols[0])

/* Reads a hex public key file into pk; CTL_EXIT_OK or CTL_EXIT_INPUT. */
static int bundle__key(const char *path, uint8_t pk[VG_PK_BYTES])
{
    uint8_t *txt;
    size_t n;
    int rc = ctl_read_file(path, 4096, &txt, &n);
    if (rc != CTL_EXIT_OK)
        return rc;
    rc = vg_hex_decode((const char *)txt, n, pk, VG_PK_BYTES);
    free(txt);
    if (rc != VG_OK) {
        fprintf(stderr, "vigilctl bundle: %s is not an Ed25519 public key (64 hex digits)\n", path);
        return CTL_EXIT_INPUT;
    }
    return CTL_EXIT_OK;
}

/* The human-readable report. */
static void bundle__human(const vg_model *m, const char *verdict)
{
    char t[40], f[40], e[40];
    ctl_fmt_time(m->created_us, t);
    ctl_fmt_time(m->train_from_us, f);
    ctl_fmt_time(m->train_to_us, e);
    printf("device     %s\nversion    %" PRIu64 "\ncreated    %s\ntrained on %s .. %s\n"
           "signature  %s\nchannels   %" PRIu32 "\n\n%-16s",
           m->device, m->version, t, f, e, verdict, m->nchan, "channel");
    for (size_t c = 0; c < NCOLS; c++)
        printf(" %11s", cols[c].name);
    printf("\n");
    for (uint32_t i = 0; i < m->nchan; i++) {
        printf("%-16s", m->chan[i].name);
        for (size_t c = 0; c < NCOLS; c++) {
            double v;
            memcpy(&v, (const char *)&m->chan[i] + cols[c].offset, sizeof v);
            if (isnan(v))
                printf(" %11s", "-");
            else
                printf(" %11.5g", v);
        }
        printf("\n");
    }
}

/* The JSON report: {"file", "signature", "valid", model members}. */
static void bundle__json(const char *file, const vg_model *m, const char *verdict, int valid)
{
    ctl_sb out;
    ctl_json j;
    ctl_sb_init(&out);
    ctl_json_init(&j, &out);
    ctl_json_obj(&j);
    ctl_json_kstr(&j, "file", file);
    ctl_json_kstr(&j, "signature", verdict);
    ctl_json_key(&j, "valid");
    if (valid < 0)
        ctl_json_null(&j);
    else
        ctl_json_bool(&j, valid != 0);
    ctl_model_json(m, &j);
    ctl_json_obj_end(&j);
    printf("%s\n", ctl_sb_str(&out));
    ctl_sb_free(&out);
}

/* Verifies with the key; returns 1 valid, 0 invalid (reason in *why). */
static int bundle__verify(const uint8_t *buf, size_t len, const uint8_t pk[VG_PK_BYTES],
                          const char **why)
{
    static vg_model m; /* ~10 KiB: off the stack */
    int rc = vg_crypto_init();
    if (rc == VG_OK)
        rc = vg_bundle_open(buf, len, pk, NULL, 0, &m);
    *why = vg_strerror(rc);
    return rc == VG_OK;
}

int ctl_cmd_bundle(ctl_opts *o)
{
    static vg_model m;
    uint8_t pk[VG_PK_BYTES], *buf;
    size_t len;
    ctl_bundle_info info;
    int rc = o->trust_key ? bundle__key(o->trust_key, pk) : CTL_EXIT_OK;
    if (rc == CTL_EXIT_OK)
        rc = ctl_read_file(o->args[0], VG_BUNDLE_MAX_BYTES, &buf, &len);
    if (rc != CTL_EXIT_OK)
        return rc;
    int drc = ctl_bundle_peek(buf, len, &info, &m);
    if (drc != VG_OK) {
        fprintf(stderr, "vigilctl bundle: %s is not a model bundle: %s\n", o->args[0],
                vg_strerror(drc));
        free(buf);
        return CTL_EXIT_INPUT;
    }
    int valid = -1;
    char verdict[160] = "not verified (no --trust-key)";
    const char *why = "";
    if (o->trust_key) {
        valid = bundle__verify(buf, len, pk, &why);
        snprintf(verdict, sizeof verdict, "%s%s", valid ? "valid" : "INVALID: ", valid ? "" : why);
    }
    if (o->json)
        bundle__json(o->args[0], &m, verdict, valid);
    else
        bundle__human(&m, verdict);
    if (valid == 0)
        fprintf(stderr, "vigilctl bundle: %s: signature does not verify under %s (%s)\n",
                o->args[0], o->trust_key, why);
    free(buf);
    return valid == 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}
