/*
 * test_msg_samples.c - the samples batch codec (vg_samples_*): round
 * trip, float32/sint64 typed-array variants, channel blocks, counts and
 * encoder errors.
 *
 * Expected encodings are built independently of the code under test with
 * the hand builder and pair lists of test_msg_fixture.h; see there for the
 * generic malformed-variant, framing and capacity checks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "test_msg_fixture.h"
#include "vg_cbor.h"
#include "vg_error.h"
#include "vg_msg.h"

/* ---- samples ---- */

#define T0 1700000000000000LL

static int dec_samples(const uint8_t *b, size_t n)
{
    vg_block blocks[VG_BATCH_MAX_CHANNEL];
    vg_samples s = {.block = blocks, .block_cap = VG_BATCH_MAX_CHANNEL};
    return vg_samples_decode(b, n, &s);
}

/* A hand-built block: times as tag tt (78/79), values as tag vt (85/86);
 * nt/nv elements; offsets off[i], values val[i]. */
static void tb_block(tb *b, const char *name, uint64_t tt, uint32_t nt, const int64_t *off,
                     uint64_t vt, uint32_t nv, const double *val)
{
    size_t tw = tt == 78 ? 4 : 8, vw = vt == 85 ? 4 : 8;
    uint8_t *tmp = malloc((nt * tw) + (nv * vw) + 1);
    CU_ASSERT_FATAL(tmp != NULL);
    tb_array(b, 3);
    tb_text(b, name);
    for (uint32_t i = 0; i < nt; i++) {
        if (tw == 4)
            le32(tmp + i * 4, (uint32_t)(int32_t)off[i]);
        else
            le64(tmp + i * 8, (uint64_t)off[i]);
    }
    tb_tag(b, tt);
    tb_bytes(b, tmp, nt * tw);
    for (uint32_t i = 0; i < nv; i++) {
        if (vw == 4) {
            float f = (float)val[i];
            uint32_t u;
            memcpy(&u, &f, 4);
            le32(tmp + i * 4, u);
        } else {
            le64(tmp + i * 8, dbits(val[i]));
        }
    }
    tb_tag(b, vt);
    tb_bytes(b, tmp, nv * vw);
    free(tmp);
}

static void samples_pairs(tpair *p, int64_t t0, const tb *blocks)
{
    const tpair base[] = {PV, PT(1, C_DEV, "sim-0"), PU(2, 314), PI(3, (uint64_t)t0),
                          PR(4, *blocks)};
    memcpy(p, base, sizeof base);
    if (t0 < 0) {
        p[3].kind = P_NEG;
        p[3].u = (uint64_t)(-(t0 + 1));
    }
}

static const int64_t s_off[] = {0, 1000, 2000, -3000, 2147483647};
static const int64_t s_off64[] = {0, 1, 4294967296LL, -4294967296LL};
static const double s_val[] = {20.5, -0.0, NAN, INFINITY, 1e300};

static void test_samples_roundtrip(void)
{
    int64_t t1[5], t2[4];
    for (int i = 0; i < 5; i++)
        t1[i] = T0 + s_off[i];
    for (int i = 0; i < 4; i++)
        t2[i] = T0 + s_off64[i];
    const vg_column col[3] = {
        {.name = "temp", .n = 5, .t_us = t1, .v = s_val},
        {.name = "vib.x", .n = 4, .t_us = t2, .v = s_val},
        {.name = "idle", .n = 0, .t_us = NULL, .v = NULL},
    };
    uint8_t buf[1024], bbuf[1024];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_samples_encode("sim-0", 314, T0, col, 3, buf, sizeof buf, &len),
                          VG_OK);
    tb bb;
    tb_init(&bb, bbuf, sizeof bbuf);
    tb_array(&bb, 3);
    tb_block(&bb, "temp", 78, 5, s_off, 86, 5, s_val);
    tb_block(&bb, "vib.x", 79, 4, s_off64, 86, 4, s_val);
    tb_block(&bb, "idle", 78, 0, NULL, 86, 0, NULL);
    tpair p[5];
    samples_pairs(p, T0, &bb);
    check_bytes("samples", p, 5, buf, len);
    vg_block blocks[3];
    vg_samples s = {.block = blocks, .block_cap = 3};
    CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, len, &s), VG_OK);
    CU_ASSERT_STRING_EQUAL(s.device, "sim-0");
    CU_ASSERT_EQUAL(s.seq, 314);
    CU_ASSERT_EQUAL(s.t0_us, T0);
    CU_ASSERT_EQUAL_FATAL(s.nblock, 3);
    CU_ASSERT_PTR_EQUAL(s.block, blocks);
    CU_ASSERT_EQUAL(s.block_cap, 3);
    for (uint32_t b = 0; b < 3; b++) {
        CU_ASSERT_EQUAL(blocks[b].name_len, strlen(col[b].name));
        CU_ASSERT_EQUAL(memcmp(blocks[b].name, col[b].name, blocks[b].name_len), 0);
        CU_ASSERT_EQUAL_FATAL(blocks[b].n, col[b].n);
        CU_ASSERT_EQUAL(blocks[b].t_width, b == 1 ? 8 : 4);
        CU_ASSERT_EQUAL(blocks[b].v_width, 8);
        for (uint32_t i = 0; i < col[b].n; i++) {
            CU_ASSERT_EQUAL(vg_block_time(&blocks[b], s.t0_us, i), col[b].t_us[i]);
            CU_ASSERT_EQUAL(dbits(vg_block_value(&blocks[b], i)), dbits(col[b].v[i]));
        }
    }
    check_framing("samples", dec_samples, buf, len);
    /* generic map rules, with no blocks so that any t0 is valid */
    tb_init(&bb, bbuf, sizeof bbuf);
    tb_array(&bb, 0);
    samples_pairs(p, T0, &bb);
    check_generic("samples", dec_samples, p, 5);
    for (size_t cap = 0; cap < len; cap++) {
        uint8_t *b = malloc(cap ? cap : 1);
        size_t got;
        expect_rc("samples", "capacity", cap,
                  vg_samples_encode("sim-0", 314, T0, col, 3, b, cap, &got), VG_ENOSPC);
        free(b);
    }
}

static void test_samples_typed_variants(void)
{
    uint8_t bbuf[1024];
    tb bb;
    tpair p[5];
    const uint64_t ttag[] = {78, 79, 78, 79};
    const uint64_t vtag[] = {85, 85, 86, 86};
    for (int k = 0; k < 4; k++) {
        tb_init(&bb, bbuf, sizeof bbuf);
        tb_array(&bb, 1);
        tb_block(&bb, "ch", ttag[k], 5, s_off, vtag[k], 5, s_val);
        samples_pairs(p, -T0, &bb);
        uint8_t buf[2048];
        tb mb;
        tb_init(&mb, buf, sizeof buf);
        tb_pairs(&mb, p, 5);
        vg_block blk;
        vg_samples s = {.block = &blk, .block_cap = 1};
        CU_ASSERT_EQUAL_FATAL(vg_samples_decode(buf, mb.len, &s), VG_OK);
        CU_ASSERT_EQUAL(blk.t_width, ttag[k] == 78 ? 4 : 8);
        CU_ASSERT_EQUAL(blk.v_width, vtag[k] == 85 ? 4 : 8);
        for (uint32_t i = 0; i < 5; i++) {
            CU_ASSERT_EQUAL(vg_block_time(&blk, s.t0_us, i), -T0 + s_off[i]);
            double want = vtag[k] == 85 ? (double)(float)s_val[i] : s_val[i];
            CU_ASSERT_EQUAL(dbits(vg_block_value(&blk, i)), dbits(want));
        }
        check_framing("samples typed", dec_samples, buf, mb.len);
    }
}

/* Decodes a batch with t0 and one hand-built block. */
static int dec_one_block(int64_t t0, const char *name, uint64_t tt, uint32_t nt, const int64_t *off,
                         uint64_t vt, uint32_t nv, const double *val)
{
    size_t cap = 32 + (size_t)nt * 8 + (size_t)nv * 8 + 64;
    uint8_t *bbuf = malloc(cap);
    tb bb;
    tb_init(&bb, bbuf, cap);
    tb_array(&bb, 1);
    tb_block(&bb, name, tt, nt, off, vt, nv, val);
    tpair p[5];
    samples_pairs(p, t0, &bb);
    uint8_t *buf = malloc(cap + 64);
    tb mb;
    tb_init(&mb, buf, cap + 64);
    tb_pairs(&mb, p, 5);
    int rc = dec_exact(dec_samples, buf, mb.len);
    free(buf);
    free(bbuf);
    return rc;
}

static void test_samples_blocks(void)
{
    static const int64_t big[] = {-100, 100};
    /* tags, counts, widths */
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 80, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, 5, s_off, 78, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 86, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, 5, s_off, 86, 4, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 79, 4, s_off64, 85, 3, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a/b", 78, 5, s_off, 86, 5, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(T0, "", 78, 5, s_off, 86, 5, s_val), VG_EDECODE);
    /* t0 + offset must fit int64 */
    CU_ASSERT_EQUAL(dec_one_block(INT64_MAX - 10, "a", 78, 2, big, 86, 2, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MAX - 100, "a", 78, 2, big, 86, 2, s_val), VG_OK);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MIN + 10, "a", 79, 2, big, 86, 2, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(INT64_MIN + 100, "a", 79, 2, big, 86, 2, s_val), VG_OK);
    static const int64_t huge[] = {INT64_MAX};
    CU_ASSERT_EQUAL(dec_one_block(1, "a", 79, 1, huge, 86, 1, s_val), VG_EDECODE);
    CU_ASSERT_EQUAL(dec_one_block(0, "a", 79, 1, huge, 86, 1, s_val), VG_OK);
    /* sample count limit: exactly at and one over */
    uint32_t n = VG_BATCH_MAX_SAMPLES;
    int64_t *off = calloc(n + 1, sizeof *off);
    double *val = calloc(n + 1, sizeof *val);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n, off, 85, n, val), VG_OK);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n + 1, off, 85, n + 1, val), VG_ETOOBIG);
    CU_ASSERT_EQUAL(dec_one_block(T0, "a", 78, n + 1, off, 85, n, val), VG_ETOOBIG);
    free(off);
    free(val);
    /* byte lengths that are not a multiple of the width */
    static const uint8_t odd_t[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x43, 1, 2, 3, 0xd8, 86, 0x40};
    static const uint8_t odd_v[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x40,
                                    0xd8, 86,   0x44, 0,   0,    0,  0};
    static const uint8_t untagged[] = {0x81, 0x83, 0x61, 'a', 0x40, 0xd8, 86, 0x40};
    static const uint8_t tagged_text[] = {0x81, 0x83, 0x61, 'a', 0xd8, 78, 0x60, 0xd8, 86, 0x40};
    static const uint8_t two[] = {0x81, 0x82, 0x61, 'a', 0xd8, 78, 0x40};
    static const uint8_t four[] = {0x81, 0x84, 0x61, 'a', 0xd8, 78, 0x40, 0xd8, 86, 0x40, 0x00};
    static const uint8_t as_map[] = {0xa0};
    static const uint8_t dup[] = {0x82, 0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,  0x40,
                                  0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,   0x40};
    static const uint8_t distinct[] = {0x82, 0x83, 0x61, 'a',  0xd8, 78,   0x40, 0xd8, 86,  0x40,
                                       0x83, 0x61, 'b',  0xd8, 79,   0x40, 0xd8, 85,   0x40};
    const uint8_t *bad[] = {odd_t, odd_v, untagged, tagged_text, two, four, as_map, dup, distinct};
    const size_t bn[] = {sizeof odd_t,       sizeof odd_v, sizeof untagged,
                         sizeof tagged_text, sizeof two,   sizeof four,
                         sizeof as_map,      sizeof dup,   sizeof distinct};
    const int want[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE,
                        VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_OK};
    for (size_t k = 0; k < sizeof bn / sizeof *bn; k++) {
        uint8_t bbuf[64];
        tb bb;
        tb_init(&bb, bbuf, sizeof bbuf);
        tb_raw(&bb, bad[k], bn[k]);
        tpair p[5];
        samples_pairs(p, T0, &bb);
        expect_rc("samples", "block", k, dec_pairs(dec_samples, p, 5), want[k]);
    }
}

/* Decodes a batch of `nblock` one-sample blocks into `cap` blocks. */
static int dec_nblocks(uint32_t nblock, uint32_t cap, bool null_array)
{
    uint8_t *bbuf = malloc(64 * (size_t)nblock + 16);
    tb bb;
    tb_init(&bb, bbuf, 64 * (size_t)nblock + 16);
    tb_array(&bb, nblock);
    for (uint32_t i = 0; i < nblock; i++) {
        char name[16];
        snprintf(name, sizeof name, "c%u", (unsigned)i);
        tb_block(&bb, name, 78, 1, s_off, 86, 1, s_val);
    }
    tpair p[5];
    samples_pairs(p, T0, &bb);
    uint8_t *buf = malloc(bb.len + 64);
    tb mb;
    tb_init(&mb, buf, bb.len + 64);
    tb_pairs(&mb, p, 5);
    vg_block *blocks = calloc(cap + 1, sizeof *blocks);
    vg_samples s = {.block = null_array ? NULL : blocks, .block_cap = cap};
    int rc = vg_samples_decode(buf, mb.len, &s);
    if (rc == VG_OK) {
        CU_ASSERT_EQUAL(s.nblock, nblock);
    }
    free(blocks);
    free(buf);
    free(bbuf);
    return rc;
}

static void test_samples_counts(void)
{
    CU_ASSERT_EQUAL(dec_nblocks(VG_BATCH_MAX_CHANNEL, VG_BATCH_MAX_CHANNEL, false), VG_OK);
    CU_ASSERT_EQUAL(dec_nblocks(VG_BATCH_MAX_CHANNEL + 1, VG_BATCH_MAX_CHANNEL + 1, false),
                    VG_ETOOBIG);
    CU_ASSERT_EQUAL(dec_nblocks(3, 2, false), VG_ENOSPC);
    CU_ASSERT_EQUAL(dec_nblocks(3, 3, false), VG_OK);
    CU_ASSERT_EQUAL(dec_nblocks(1, 8, true), VG_ENOSPC);
    CU_ASSERT_EQUAL(dec_nblocks(0, 0, true), VG_OK);
}

static void test_samples_encode_errors(void)
{
    int64_t t[2] = {T0, T0 + 1};
    double v[2] = {1, 2};
    vg_column col[2] = {{.name = "a", .n = 2, .t_us = t, .v = v},
                        {.name = "b", .n = 2, .t_us = t, .v = v}};
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("bad dev", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode(NULL, 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, NULL, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, NULL, 0, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(
        vg_samples_encode("sim-0", 1, T0, col, VG_BATCH_MAX_CHANNEL + 1, buf, sizeof buf, &len),
        VG_ETOOBIG);
    col[1].name = "a";
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = "b c";
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = NULL;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].name = "b";
    col[1].t_us = NULL;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    col[1].t_us = t;
    col[1].n = VG_BATCH_MAX_SAMPLES + 1;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, T0, col, 2, buf, sizeof buf, &len), VG_ETOOBIG);
    col[1].n = 2;
    int64_t far[2] = {INT64_MIN, 0};
    col[1].t_us = far;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 1, col, 2, buf, sizeof buf, &len), VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, col, 2, buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, -1, col + 1, 1, buf, sizeof buf, &len), VG_OK);
    far[1] = INT64_MAX;
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, -1, col + 1, 1, buf, sizeof buf, &len),
                    VG_EINVAL);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, col + 1, 1, buf, sizeof buf, &len), VG_OK);
    /* a batch over VG_MSG_MAX_BYTES cannot be encoded */
    uint32_t n = VG_BATCH_MAX_SAMPLES;
    int64_t *tt = calloc(n, sizeof *tt);
    double *vv = calloc(n, sizeof *vv);
    vg_column many[2] = {{.name = "a", .n = n, .t_us = tt, .v = vv},
                         {.name = "b", .n = n, .t_us = tt, .v = vv}};
    size_t cap = 2u * VG_MSG_MAX_BYTES;
    uint8_t *big = malloc(cap);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, many, 1, big, cap, &len), VG_OK);
    CU_ASSERT_EQUAL(vg_samples_encode("sim-0", 1, 0, many, 2, big, cap, &len), VG_ETOOBIG);
    free(big);
    free(tt);
    free(vv);
}

int init_msg_samples_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_samples", NULL, NULL);
    if (!s || !CU_add_test(s, "samples round trip", test_samples_roundtrip) ||
        !CU_add_test(s, "samples float32/sint64 variants", test_samples_typed_variants) ||
        !CU_add_test(s, "samples blocks", test_samples_blocks) ||
        !CU_add_test(s, "samples counts", test_samples_counts) ||
        !CU_add_test(s, "samples encode errors", test_samples_encode_errors))
        return CU_get_error();
    return 0;
}
