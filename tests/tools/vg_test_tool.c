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
 *   mvsign SK DEVICE VERSION CSV OUT a signed bundle whose only part is a
 *                                    multivariate model (vg_mvar_fit, default
 *                                    options) of the CSV's rows: a header of
 *                                    channel names, then one row of values a line
 *   rows DEVICE SEQ T0_US DT_US CSV FIRST N OUT
 *                                    a CBOR samples batch of the CSV's data rows
 *                                    FIRST..FIRST+N (0-based), one block a column,
 *                                    row i at T0_US + i DT_US
 *   decode                           reads `mosquitto_sub -F '%t %x'` lines
 *                                    on stdin, prints one decoded line each
 *
 * Each command is O(input) (mvsign: O(rows p^2 + p^3), the fit).  Exit status 0 on success, 1 on
 * failure.
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
#include "vg_mvar.h"

#define TOOL_MAX      (1u << 20) /* largest payload handled */
#define TOOL_CSV_ROWS 65536      /* data rows read from a CSV */

/* A CSV of channel columns (mvsign, rows): names and row-major values. */
typedef struct tool_csv {
    char name[VG_MVAR_MAX][VG_CHANNEL_MAX + 1];
    const char *names[VG_MVAR_MAX];
    uint32_t p;                            /* columns */
    size_t n;                              /* data rows */
    double x[TOOL_CSV_ROWS * VG_MVAR_MAX]; /* x[i * p + j] */
} tool_csv;

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

/* Splits the header line into column names; 0 on success. */
static int tool__csv_header(char *line, tool_csv *c)
{
    c->p = 0;
    for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n")) {
        if (c->p == VG_MVAR_MAX || strlen(tok) > VG_CHANNEL_MAX)
            return 1;
        snprintf(c->name[c->p], sizeof c->name[0], "%s", tok);
        c->names[c->p] = c->name[c->p];
        c->p++;
    }
    return c->p == 0;
}

/* Parses one data line of c->p values into row c->n; 0 on success. */
static int tool__csv_row(const char *line, tool_csv *c)
{
    double *x = c->x + c->n * c->p;
    const char *q = line;
    for (uint32_t j = 0; j < c->p; j++) {
        char *end;
        x[j] = strtod(q, &end);
        if (end == q || (j + 1 < c->p && *end != ','))
            return 1;
        q = end + 1;
    }
    c->n++;
    return 0;
}

/* Reads the CSV at path into *c; 0 on success. */
static int tool__csv(const char *path, tool_csv *c)
{
    char line[4096];
    FILE *f = fopen(path, "r");
    int rc = !f || !fgets(line, sizeof line, f) || tool__csv_header(line, c);
    c->n = 0;
    while (!rc && c->n < TOOL_CSV_ROWS && fgets(line, sizeof line, f))
        rc = tool__csv_row(line, c);
    if (f)
        fclose(f);
    if (rc)
        fprintf(stderr, "vigil-test-tool: bad CSV %s (row %zu)\n", path, c->n);
    return rc;
}

/* mvsign: fits the CSV's rows and signs a bundle with that part alone. */
static int tool__mvsign(char **a)
{
    static tool_csv c;
    static double scratch[2 * TOOL_CSV_ROWS];
    static vg_model m;
    static uint8_t out[VG_BUNDLE_MAX_BYTES];
    uint8_t sk[VG_SK_BYTES];
    char text[512];
    size_t len;
    vg_mvar_opts o;
    if (tool__read(a[0], (uint8_t *)text, sizeof text, &len) ||
        vg_hex_decode(text, len, sk, VG_SK_BYTES) != VG_OK || tool__csv(a[3], &c))
        return 1;
    memset(&m, 0, sizeof m);
    snprintf(m.device, sizeof m.device, "%s", a[1]);
    m.version = strtoull(a[2], NULL, 10);
    m.created_us = 1;
    vg_mvar_opts_init(&o);
    int rc = vg_mvar_fit(c.names, c.p, c.x, c.n, scratch, &o, &m.mvar);
    if (rc == VG_OK && vg_crypto_init() == VG_OK)
        rc = vg_bundle_sign(&m, sk, out, sizeof out, &len);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-test-tool: mvsign: %s\n", vg_strerror(rc));
        return 1;
    }
    printf("mvar p %u k %u t2_lim %g q_lim %g rows %zu\n", m.mvar.p, m.mvar.k, m.mvar.t2_lim,
           m.mvar.q_lim, c.n);
    return tool__write(a[4], out, len);
}

/* rows: a samples batch of CSV rows FIRST..FIRST+N, one block a column. */
static int tool__rows(char **a)
{
    static tool_csv c;
    static int64_t t[TOOL_CSV_ROWS];
    static double v[VG_MVAR_MAX][TOOL_CSV_ROWS];
    static uint8_t out[TOOL_MAX];
    vg_column col[VG_MVAR_MAX];
    uint64_t seq = strtoull(a[1], NULL, 10);
    int64_t t0 = strtoll(a[2], NULL, 10), dt = strtoll(a[3], NULL, 10);
    size_t first = strtoull(a[5], NULL, 10), n = strtoull(a[6], NULL, 10);
    if (tool__csv(a[4], &c))
        return 1;
    if (n == 0 || first + n > c.n) {
        fprintf(stderr, "vigil-test-tool: rows %zu..%zu not in %zu\n", first, first + n, c.n);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        t[i] = t0 + (int64_t)i * dt;
        for (uint32_t j = 0; j < c.p; j++)
            v[j][i] = c.x[(first + i) * c.p + j];
    }
    for (uint32_t j = 0; j < c.p; j++)
        col[j] = (vg_column){c.names[j], (uint32_t)n, t, v[j]};
    size_t len;
    int rc = vg_samples_encode(a[0], seq, t0, col, c.p, out, sizeof out, &len);
    if (rc != VG_OK) {
        fprintf(stderr, "vigil-test-tool: encode: %s\n", vg_strerror(rc));
        return 1;
    }
    return tool__write(a[7], out, len);
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
    if (strcmp(cmd, "mvsign") == 0 && argc == 7)
        return tool__mvsign(argv + 2);
    if (strcmp(cmd, "rows") == 0 && argc == 10)
        return tool__rows(argv + 2);
    if (strcmp(cmd, "decode") == 0)
        return tool__decode();
    fputs("usage: vigil-test-tool keygen PK SK | sign SK DEVICE VERSION OUT [CHAN:LO:HI...]\n"
          "       | tamper IN OUT | samples DEVICE SEQ T0_US DT_US CHAN V1,V2,... OUT\n"
          "       | mvsign SK DEVICE VERSION CSV OUT\n"
          "       | rows DEVICE SEQ T0_US DT_US CSV FIRST N OUT | decode\n",
          stderr);
    return 1;
}
