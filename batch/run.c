/*
 * run.c - the batch stages behind `retrain`, `publish`, `report` and the
 * nightly `run` (retrain -> publish -> report).
 *
 * Each stage opens what it needs, does its work, prints a one-line summary
 * on stderr and returns VB_EXIT_OK or VB_EXIT_FAIL with a message naming
 * the stage and the cause.  `run` stops at the first failing stage.  Every
 * stage is safe to re-run: retrain writes the same files for the same
 * warehouse (and "unchanged" once they are published), publish skips
 * bundles the registry already holds, report is rewritten whole.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"
#include "mqtt.h"
#include "publish.h"
#include "report.h"
#include "retrain.h"
#include "vg_error.h"

/* Loads the secret key of --sign-key (if any) into sk; 1 when loaded. */
static int run__keys(const vb_cli *c, uint8_t sk[VG_SK_BYTES], uint8_t pk[VG_PK_BYTES],
                     int *have_sk, int *have_pk)
{
    char err[512];
    *have_sk = *have_pk = 0;
    if (c->sign_key) {
        if (vb_key_read(c->sign_key, sk, VG_SK_BYTES, err, sizeof err) != VG_OK) {
            fprintf(stderr, "vigil-batch %s: --sign-key %s\n", c->cmd, err);
            return VB_EXIT_FAIL;
        }
        vb_key_public(sk, pk);
        *have_sk = *have_pk = 1;
    }
    if (c->verify_key) {
        if (vb_key_read(c->verify_key, pk, VG_PK_BYTES, err, sizeof err) != VG_OK) {
            fprintf(stderr, "vigil-batch %s: --verify-key %s\n", c->cmd, err);
            return VB_EXIT_FAIL;
        }
        *have_pk = 1;
    }
    return VB_EXIT_OK;
}

/* Opens the warehouse (read-only when asked) or reports why not. */
static vb_wh *run__wh(const vb_cli *c, int readonly)
{
    char err[512];
    vb_wh *w = NULL;
    vb_wh_opts o = {.readonly = readonly};
    if (vb_wh_open(c->warehouse, &o, &w, err, sizeof err) != VG_OK)
        fprintf(stderr, "vigil-batch %s: %s\n", c->cmd, err);
    return w;
}

/* See cli.h. */
int vb_cmd_retrain(vb_cli *c)
{
    uint8_t sk[VG_SK_BYTES], pk[VG_PK_BYTES];
    int have_sk, have_pk;
    if (run__keys(c, sk, pk, &have_sk, &have_pk) != VB_EXIT_OK)
        return VB_EXIT_FAIL;
    vb_wh *w = run__wh(c, 1);
    if (!w)
        return VB_EXIT_FAIL;
    char err[512];
    vb_retrain_stats st;
    c->rt.out_dir = c->out;
    c->rt.sign_key = have_sk ? sk : NULL;
    c->rt.conf = c->conf;
    c->rt.from_us = c->from_us;
    c->rt.to_us = c->to_us;
    int rc = vb_retrain_run(w, &c->rt, &st, err, sizeof err);
    vb_wh_close(w);
    memset(sk, 0, sizeof sk);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-batch retrain: %s\n", err);
        return VB_EXIT_FAIL;
    }
    fprintf(stderr,
            "vigil-batch retrain: shard %u/%u: %u devices: %u to publish, %u held back, %u "
            "unchanged, %u skipped; %llu training samples in [%lld, %lld) us\n",
            c->rt.shard.i, c->rt.shard.n, st.devices, st.publish, st.held, st.unchanged, st.skipped,
            (unsigned long long)st.samples, (long long)st.from_us, (long long)st.to_us);
    return VB_EXIT_OK;
}

/* Publishes the items retained on <root>/<dev>/model and records them. */
static int run__publish_items(const vb_cli *c, vb_wh *w, vb_pub_list *l)
{
    char err[512], topic[256];
    vb_mqtt *m = NULL;
    char cid[96];
    snprintf(cid, sizeof cid, "vigil-batch-publish-%ld", (long)getpid());
    vb_mqtt_opts mo = {.uri = c->broker, .client_id = cid, .auth = &c->auth};
    int fail = VB_MQTT_FAIL_NONE;
    if (vb_mqtt_open(&mo, &m, &fail, err, sizeof err) != VG_OK) {
        fprintf(stderr, "vigil-batch publish: %s\n", err);
        return vb_exit_for_mqtt(fail);
    }
    int rc = VG_OK;
    unsigned sent = 0, held = 0, skipped = 0;
    for (size_t i = 0; i < l->n && rc == VG_OK; i++) {
        vb_pub_item *it = &l->item[i];
        if (it->already) {
            skipped++;
            continue;
        }
        if (!it->held) {
            snprintf(topic, sizeof topic, "%s/%s/model", c->root, it->device);
            if ((rc = vb_mqtt_publish(m, topic, it->bundle, it->bundle_len, 1)) != VG_OK)
                fprintf(stderr, "vigil-batch publish: %s: no PUBACK from %s\n", topic, c->broker);
        }
        if (rc == VG_OK && w && (rc = vb_pub_record(w, it)) != VG_OK)
            fprintf(stderr, "vigil-batch publish: registry: %s\n", vb_wh_errmsg(w));
        sent += rc == VG_OK && !it->held;
        held += rc == VG_OK && it->held;
    }
    vb_mqtt_close(m);
    fprintf(stderr,
            "vigil-batch publish: %u published, %u held back recorded, %u already published%s\n",
            sent, held, skipped, w ? "" : " (no --warehouse: registry not updated)");
    return rc == VG_OK ? VB_EXIT_OK : VB_EXIT_FAIL;
}

/* See cli.h. */
int vb_cmd_publish(vb_cli *c)
{
    uint8_t sk[VG_SK_BYTES], pk[VG_PK_BYTES];
    int have_sk, have_pk;
    if (run__keys(c, sk, pk, &have_sk, &have_pk) != VB_EXIT_OK)
        return VB_EXIT_FAIL;
    vb_wh *w = c->warehouse ? run__wh(c, 0) : NULL;
    if (c->warehouse && !w)
        return VB_EXIT_FAIL;
    vb_pub_list l;
    char err[512];
    int rc =
        vb_pub_load(c->bundles, have_sk ? sk : NULL, have_pk ? pk : NULL, w, &l, err, sizeof err);
    memset(sk, 0, sizeof sk);
    int out = VB_EXIT_FAIL;
    if (rc != VG_OK)
        fprintf(stderr, "vigil-batch publish: %s\n", err);
    else
        out = run__publish_items(c, w, &l);
    vb_pub_free(&l);
    vb_wh_close(w);
    return out;
}

/* See cli.h. */
int vb_cmd_report(vb_cli *c)
{
    vb_wh *w = run__wh(c, 1);
    if (!w)
        return VB_EXIT_FAIL;
    vb_report_opts o = {
        .html_path = c->out, .json_path = c->json, .recent_hours = c->recent_hours, .width = 720};
    char err[512];
    int rc = vb_report_write(w, &o, err, sizeof err);
    vb_wh_close(w);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-batch report: %s\n", err);
        return VB_EXIT_FAIL;
    }
    fprintf(stderr, "vigil-batch report: wrote %s\n", c->out);
    return VB_EXIT_OK;
}

/* See cli.h. */
int vb_cmd_run(vb_cli *c)
{
    const char *out = c->out;
    static const struct {
        const char *name;     /* stage name in messages */
        int (*fn)(vb_cli *c); /* the stage */
    } stages[] = {
        {"retrain", vb_cmd_retrain}, {"publish", vb_cmd_publish}, {"report", vb_cmd_report}};
    for (size_t i = 0; i < sizeof stages / sizeof stages[0]; i++) {
        c->cmd = stages[i].name;
        c->bundles = out;
        c->out = strcmp(stages[i].name, "report") == 0 ? c->report : out;
        int rc = stages[i].fn(c);
        if (rc != VB_EXIT_OK) {
            fprintf(stderr, "vigil-batch run: stage %s failed (see above); later stages not run\n",
                    stages[i].name);
            return rc == VB_EXIT_UNREACHABLE || rc == VB_EXIT_AUTH ? rc : VB_EXIT_FAIL;
        }
    }
    fprintf(stderr, "vigil-batch run: retrain, publish and report done\n");
    return VB_EXIT_OK;
}
