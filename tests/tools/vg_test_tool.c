/*
 * vg_test_tool.c - vigil-test-tool: what the vigild integration tests and
 * benchmarks need besides vigil-sim and mosquitto's clients.  Built only
 * with VIGIL_TESTS; never installed; the daemon has no signing code.
 *
 *   keygen PK SK                     Ed25519 key pair as hex text files
 *   sign SK DEVICE VERSION OUT [CHAN:LO:HI ...]
 *                                    a signed bundle (limits per channel)
 *   tamper IN OUT                    flips one bit of the signature
 *   samples DEVICE SEQ T0_US DT_US CHAN V1,V2,... OUT
 *                                    a CBOR samples batch (nan/inf allowed)
 *   decode                           reads `mosquitto_sub -F '%t %x'` lines
 *                                    on stdin, prints one decoded line each
 *
 * Each command is O(input).  Exit status 0 on success, 1 on failure.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vg_bundle.h"
#include "vg_error.h"
#include "vg_hex.h"
#include "vg_msg.h"

#define TOOL_MAX (1u << 20) /* largest payload handled */

static int tool__write(const char *path, const void *buf, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "vigil-test-tool: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static int tool__read(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 1;
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return 0;
}

static int tool__keygen(char **a)
{
    uint8_t pk[VG_PK_BYTES], sk[VG_SK_BYTES];
    char hex[2 * VG_SK_BYTES + 2];
    if (vg_crypto_init() != VG_OK || vg_keygen(pk, sk) != VG_OK)
        return 1;
    vg_hex_encode(pk, VG_PK_BYTES, hex);
    strcat(hex, "\n");
    if (tool__write(a[0], hex, strlen(hex)))
        return 1;
    vg_hex_encode(sk, VG_SK_BYTES, hex);
    strcat(hex, "\n");
    return tool__write(a[1], hex, strlen(hex));
}

/* Parses CHAN:LO:HI into a channel model. */
static int tool__chan(const char *spec, vg_chan_model *m)
{
    char name[VG_CHANNEL_MAX + 1];
    double lo, hi;
    const char *c1 = strchr(spec, ':');
    if (!c1 || (size_t)(c1 - spec) > VG_CHANNEL_MAX || sscanf(c1 + 1, "%lf:%lf", &lo, &hi) != 2)
        return 1;
    memcpy(name, spec, (size_t)(c1 - spec));
    name[c1 - spec] = '\0';
    vg_chan_model_clear(m, name);
    m->lo = lo;
    m->hi = hi;
    return 0;
}

static int tool__sign(int n, char **a)
{
    static vg_model m;
    static uint8_t out[VG_BUNDLE_MAX_BYTES];
    uint8_t sk[VG_SK_BYTES];
    char text[512];
    size_t len;
    if (n < 4 || tool__read(a[0], (uint8_t *)text, sizeof text, &len) ||
        vg_hex_decode(text, len, sk, VG_SK_BYTES) != VG_OK) {
        fprintf(stderr, "vigil-test-tool: bad key or arguments\n");
        return 1;
    }
    memset(&m, 0, sizeof m);
    snprintf(m.device, sizeof m.device, "%s", a[1]);
    m.version = strtoull(a[2], NULL, 10);
    m.created_us = 1;
    for (int i = 4; i < n && m.nchan < VG_MODEL_MAX_CHANNEL; i++)
        if (tool__chan(a[i], &m.chan[m.nchan++]))
            return 1;
    if (vg_crypto_init() != VG_OK || vg_bundle_sign(&m, sk, out, sizeof out, &len) != VG_OK)
        return 1;
    return tool__write(a[3], out, len);
}

static int tool__tamper(char **a)
{
    static uint8_t buf[VG_BUNDLE_MAX_BYTES];
    size_t len;
    if (tool__read(a[0], buf, sizeof buf, &len) || len < 2)
        return 1;
    buf[len - 1] ^= 1; /* the signature is the last item */
    return tool__write(a[1], buf, len);
}

static int tool__samples(char **a)
{
    static int64_t t[VG_BATCH_MAX_SAMPLES];
    static double v[VG_BATCH_MAX_SAMPLES];
    static uint8_t out[TOOL_MAX];
    uint64_t seq = strtoull(a[1], NULL, 10);
    int64_t t0 = strtoll(a[2], NULL, 10), dt = strtoll(a[3], NULL, 10);
    uint32_t n = 0;
    for (char *p = a[5]; *p && n < VG_BATCH_MAX_SAMPLES; n++) {
        char *end;
        v[n] = strtod(p, &end);
        t[n] = t0 + (int64_t)n * dt;
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p)
            return 1;
    }
    vg_column col = {a[4], n, t, v};
    size_t len;
    int rc = vg_samples_encode(a[0], seq, t0, &col, 1, out, sizeof out, &len);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-test-tool: encode: %s\n", vg_strerror(rc));
        return 1;
    }
    return tool__write(a[6], out, len);
}

/* Prints one archive chunk: a line per item "archive KIND SEQ MODEL N"
 * with N the samples in a samples batch. */
static void tool__archive(const uint8_t *b, size_t n)
{
    static vg_archive_item items[4096];
    static vg_block blocks[VG_BATCH_MAX_CHANNEL];
    vg_archive a = {.item = items, .item_cap = 4096};
    if (vg_archive_decode(b, n, &a) != VG_OK) {
        puts("archive bad");
        return;
    }
    for (uint32_t i = 0; i < a.nitem; i++) {
        uint64_t ns = 0;
        vg_samples s = {.block = blocks, .block_cap = VG_BATCH_MAX_CHANNEL};
        if (items[i].kind == VG_ARCH_SAMPLES &&
            vg_samples_decode(items[i].payload, items[i].len, &s) == VG_OK)
            for (uint32_t k = 0; k < s.nblock; k++)
                ns += s.block[k].n;
        printf("archive %u %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", items[i].kind, items[i].seq,
               items[i].model_version, ns);
    }
}

/* Decodes one payload by its topic's suffix. */
static void tool__decode_one(const char *topic, const uint8_t *b, size_t n)
{
    size_t tl = strlen(topic);
#define ENDS(s) (tl >= strlen(s) && strcmp(topic + tl - strlen(s), s) == 0)
    static vg_status st;
    vg_shutdown sd;
    vg_alert al;
    vg_model_ack ack;
    if (ENDS("/cmd/shutdown") && n == 0)
        puts("shutdown clear");
    else if (ENDS("/cmd/shutdown") && vg_shutdown_decode(b, n, &sd) == VG_OK)
        printf("shutdown %" PRIu64 " %s %s\n", sd.trip_id, sd.channel, sd.reason);
    else if (ENDS("/alerts") && vg_alert_decode(b, n, &al) == VG_OK)
        printf("alert %s %s %s %.3f %" PRIu64 "\n", al.raised ? "raised" : "cleared", al.channel,
               vg_detector_name(al.detector), al.score, al.model_version);
    else if (ENDS("/model/ack") && vg_model_ack_decode(b, n, &ack) == VG_OK)
        printf("ack %u %" PRIu64 " %" PRIu64 " %s\n", ack.applied, ack.version, ack.running_version,
               ack.reason);
    else if (ENDS("/status") && vg_status_decode(b, n, &st) == VG_OK)
        printf("status %u %u %" PRIu64 "\n", st.online, st.latched, st.model_version);
    else if (ENDS("/archive"))
        tool__archive(b, n);
    else
        printf("other %s %zu\n", topic, n);
    fflush(stdout);
#undef ENDS
}

static int tool__decode(void)
{
    static char line[2 * TOOL_MAX + 1024];
    static uint8_t buf[TOOL_MAX];
    while (fgets(line, sizeof line, stdin)) {
        char *sp = strchr(line, ' ');
        size_t hl;
        if (!sp) {
            sp = line + strcspn(line, "\n");
            hl = 0;
        } else {
            *sp++ = '\0';
            hl = strcspn(sp, "\n");
        }
        if (hl / 2 > sizeof buf || vg_hex_decode(sp, hl, buf, hl / 2) != VG_OK) {
            *sp = '\0';
            hl = 0;
        }
        line[strcspn(line, "\n")] = '\0';
        tool__decode_one(line, buf, hl / 2);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : "";
    if (strcmp(cmd, "keygen") == 0 && argc == 4)
        return tool__keygen(argv + 2);
    if (strcmp(cmd, "sign") == 0 && argc >= 6)
        return tool__sign(argc - 2, argv + 2);
    if (strcmp(cmd, "tamper") == 0 && argc == 4)
        return tool__tamper(argv + 2);
    if (strcmp(cmd, "samples") == 0 && argc == 9)
        return tool__samples(argv + 2);
    if (strcmp(cmd, "decode") == 0)
        return tool__decode();
    fputs("usage: vigil-test-tool keygen PK SK | sign SK DEVICE VERSION OUT [CHAN:LO:HI...]\n"
          "       | tamper IN OUT | samples DEVICE SEQ T0_US DT_US CHAN V1,V2,... OUT | decode\n",
          stderr);
    return 1;
}
