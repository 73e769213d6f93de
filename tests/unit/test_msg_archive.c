/*
 * test_msg_archive.c - the archive chunk codec (vg_archive_*): round
 * trip, malformed variants, and the item array (kinds, payloads, limits).
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

/* ---- archive ---- */

static int dec_archive(const uint8_t *b, size_t n)
{
    vg_archive_item items[8];
    vg_archive a = {.item = items, .item_cap = 8};
    return vg_archive_decode(b, n, &a);
}

static int enc_archive(const void *o, uint8_t *b, size_t cap, size_t *len)
{
    return vg_archive_encode(o, b, cap, len);
}

static const uint8_t arch_p0[] = {0xa0, 0x01, 0x02};
static const uint8_t arch_p1[] = {0xff};

static void tb_archive_item(tb *b, uint64_t kind, const uint8_t *p, size_t n)
{
    tb_array(b, 5);
    tb_uint(b, kind);
    tb_uint(b, 100 + kind);
    tb_uint(b, 7);
    tb_int(b, -1 - (int64_t)kind);
    tb_bytes(b, p, n);
}

static void archive_pairs(tpair *p, const tb *items)
{
    const tpair base[] = {PV, PT(1, C_DEV, "edge-01"), PU(2, 77), PR(3, *items)};
    memcpy(p, base, sizeof base);
}

static void test_archive(void)
{
    vg_archive_item in[3] = {
        {.kind = VG_ARCH_SAMPLES,
         .seq = 100,
         .model_version = 7,
         .rx_us = -1,
         .payload = arch_p0,
         .len = sizeof arch_p0},
        {.kind = VG_ARCH_TRIP,
         .seq = 102,
         .model_version = 7,
         .rx_us = -3,
         .payload = arch_p1,
         .len = sizeof arch_p1},
        {.kind = VG_ARCH_MODEL,
         .seq = 103,
         .model_version = 7,
         .rx_us = -4,
         .payload = NULL,
         .len = 0},
    };
    vg_archive a = {.chunk_seq = 77, .nitem = 3, .item = in};
    strcpy(a.device, "edge-01");
    uint8_t ibuf[256], buf[512];
    tb ib;
    tb_init(&ib, ibuf, sizeof ibuf);
    tb_array(&ib, 3);
    tb_archive_item(&ib, 0, arch_p0, sizeof arch_p0);
    tb_archive_item(&ib, 2, arch_p1, sizeof arch_p1);
    tb_archive_item(&ib, 3, NULL, 0);
    tpair p[4];
    archive_pairs(p, &ib);
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_OK);
    check_bytes("archive", p, 4, buf, len);
    vg_archive_item out[3];
    vg_archive d = {.item = out, .item_cap = 3};
    CU_ASSERT_EQUAL_FATAL(vg_archive_decode(buf, len, &d), VG_OK);
    CU_ASSERT_EQUAL(d.nitem, 3);
    CU_ASSERT_EQUAL(d.chunk_seq, 77);
    CU_ASSERT_PTR_EQUAL(d.item, out);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(out[i].kind, in[i].kind);
        CU_ASSERT_EQUAL(out[i].seq, in[i].seq);
        CU_ASSERT_EQUAL(out[i].rx_us, in[i].rx_us);
        CU_ASSERT_EQUAL(out[i].len, in[i].len);
        CU_ASSERT(out[i].payload >= buf && out[i].payload + out[i].len <= buf + len);
        CU_ASSERT(in[i].len == 0 || memcmp(out[i].payload, in[i].payload, in[i].len) == 0);
    }
    d.item_cap = 2;
    CU_ASSERT_EQUAL(vg_archive_decode(buf, len, &d), VG_ENOSPC);
    d.item = NULL;
    d.item_cap = 3;
    CU_ASSERT_EQUAL(vg_archive_decode(buf, len, &d), VG_ENOSPC);
    check_caps("archive", enc_archive, &a, len);
    check_generic("archive", dec_archive, p, 4);
    check_framing("archive", dec_archive, buf, len);
}

static void test_archive_items(void)
{
    uint8_t ibuf[256];
    tb ib;
    tpair p[4];
    static const uint8_t kind4[] = {0x81, 0x85, 0x04, 0x00, 0x00, 0x00, 0x40};
    static const uint8_t four[] = {0x81, 0x84, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t text_payload[] = {0x81, 0x85, 0x00, 0x00, 0x00, 0x00, 0x60};
    static const uint8_t neg_seq[] = {0x81, 0x85, 0x00, 0x20, 0x00, 0x00, 0x40};
    static const uint8_t ok[] = {0x81, 0x85, 0x01, 0x00, 0x00, 0x20, 0x40};
    const uint8_t *v[] = {kind4, four, text_payload, neg_seq, ok};
    const size_t vn[] = {sizeof kind4, sizeof four, sizeof text_payload, sizeof neg_seq, sizeof ok};
    const int want[] = {VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_EDECODE, VG_OK};
    for (size_t k = 0; k < 5; k++) {
        tb_init(&ib, ibuf, sizeof ibuf);
        tb_raw(&ib, v[k], vn[k]);
        archive_pairs(p, &ib);
        expect_rc("archive", "item", k, dec_pairs(dec_archive, p, 4), want[k]);
    }
    vg_archive_item it = {.kind = 4};
    vg_archive a = {.nitem = 1, .item = &it};
    strcpy(a.device, "edge-01");
    uint8_t buf[128];
    size_t len;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    it.kind = 0;
    it.len = 3;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a.item = NULL;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_EINVAL);
    a.nitem = 0;
    CU_ASSERT_EQUAL(vg_archive_encode(&a, buf, sizeof buf, &len), VG_OK);
}

int init_msg_archive_tests(void)
{
    CU_pSuite s = CU_add_suite("msg_archive", NULL, NULL);
    if (!s || !CU_add_test(s, "archive", test_archive) ||
        !CU_add_test(s, "archive items", test_archive_items))
        return CU_get_error();
    return 0;
}
