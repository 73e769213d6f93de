/*
 * test_ctl_payload.c - vigilctl's payload layer (ctl/payload.h): topic ->
 * kind and device, decode + JSON of real encoded messages, guessing the
 * kind, undecodable input reported with its reason, CBOR diagnostic
 * notation of every major type, the depth limit on hostile nesting,
 * truncation and trailing bytes.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <string.h>

#include "json.h"
#include "payload.h"
#include "vg_error.h"
#include "vg_msg.h"

static void test_topic_parse(void)
{
    char dev[VG_DEVICE_MAX + 1];
    CU_ASSERT_EQUAL(ctl_topic_parse("vigil/v1/d-1/samples", dev, sizeof dev), CTL_K_SAMPLES);
    CU_ASSERT_STRING_EQUAL(dev, "d-1");
    CU_ASSERT_EQUAL(ctl_topic_parse("x/y/d2/model/ack", dev, sizeof dev), CTL_K_MODEL_ACK);
    CU_ASSERT_STRING_EQUAL(dev, "d2");
    CU_ASSERT_EQUAL(ctl_topic_parse("r/d3/model", dev, sizeof dev), CTL_K_MODEL);
    CU_ASSERT_EQUAL(ctl_topic_parse("r/d4/cmd/shutdown", dev, sizeof dev), CTL_K_SHUTDOWN);
    CU_ASSERT_STRING_EQUAL(dev, "d4");
    CU_ASSERT_EQUAL(ctl_topic_parse("d5/status", dev, sizeof dev), CTL_K_STATUS);
    CU_ASSERT_STRING_EQUAL(dev, "d5");
    CU_ASSERT_EQUAL(ctl_topic_parse("status", dev, sizeof dev), CTL_K_UNKNOWN);
    CU_ASSERT_EQUAL(ctl_topic_parse("r/d/samplesx", dev, sizeof dev), CTL_K_UNKNOWN);
    CU_ASSERT_STRING_EQUAL(dev, "");
    CU_ASSERT_EQUAL(ctl_kind_from_name("model_ack"), CTL_K_MODEL_ACK);
    CU_ASSERT_EQUAL(ctl_kind_from_name("nope"), CTL_K_UNKNOWN);
}

/* Renders p as one JSON object into sb. */
static void render(const ctl_payload *p, ctl_sb *sb)
{
    ctl_json j;
    ctl_sb_clear(sb);
    ctl_json_init(&j, sb);
    ctl_json_obj(&j);
    ctl_payload_json(p, &j);
    ctl_json_obj_end(&j);
}

static void test_alert_json_and_guess(void)
{
    vg_alert a = {.raised = 1,
                  .detector = VG_DET_LIMIT,
                  .t_us = 5,
                  .value = NAN,
                  .score = 0.75,
                  .model_version = 3,
                  .seq = 9};
    strcpy(a.device, "dev-q");
    strcpy(a.channel, "temp");
    uint8_t buf[512];
    size_t len;
    CU_ASSERT_EQUAL_FATAL(vg_alert_encode(&a, buf, sizeof buf, &len), VG_OK);
    ctl_payload *p = ctl_payload_new();
    ctl_sb sb;
    ctl_sb_init(&sb);
    CU_ASSERT_EQUAL(ctl_payload_decode(p, CTL_K_UNKNOWN, buf, len), VG_OK);
    CU_ASSERT_EQUAL(ctl_payload_kind(p), CTL_K_ALERT);
    CU_ASSERT_STRING_EQUAL(ctl_payload_device(p), "dev-q");
    render(p, &sb);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb),
                           "{\"kind\":\"alert\",\"ok\":true,\"device\":\"dev-q\",\"channel\":"
                           "\"temp\",\"state\":\"raised\",\"detector\":\"limit\",\"t_us\":5,"
                           "\"value\":null,\"score\":0.75,\"model_version\":3,\"seq\":9}");
    ctl_sb_clear(&sb);
    ctl_payload_human(p, &sb);
    CU_ASSERT_PTR_NOT_NULL(strstr(ctl_sb_str(&sb), "RAISED  temp"));
    /* decoded as the wrong kind: ok=false with a reason and the diag */
    CU_ASSERT_NOT_EQUAL(ctl_payload_decode(p, CTL_K_STATUS, buf, len), VG_OK);
    CU_ASSERT_PTR_NULL(ctl_payload_device(p));
    render(p, &sb);
    CU_ASSERT_PTR_NOT_NULL(strstr(ctl_sb_str(&sb), "\"ok\":false,\"error\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(ctl_sb_str(&sb), "\"diag\":\"{0: 1"));
    ctl_sb_free(&sb);
    ctl_payload_free(p);
}

static void test_empty_and_garbage(void)
{
    ctl_payload *p = ctl_payload_new();
    ctl_sb sb;
    ctl_sb_init(&sb);
    CU_ASSERT_EQUAL(ctl_payload_decode(p, CTL_K_SHUTDOWN, NULL, 0), VG_OK);
    render(p, &sb);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "{\"kind\":\"shutdown\",\"ok\":true,\"cleared\":true}");
    static const uint8_t junk[] = {0xff, 0x00, 0x1c};
    CU_ASSERT_NOT_EQUAL(ctl_payload_decode(p, CTL_K_UNKNOWN, junk, sizeof junk), VG_OK);
    render(p, &sb);
    CU_ASSERT_PTR_NOT_NULL(strstr(ctl_sb_str(&sb), "\"hex\":\"ff001c\""));
    ctl_sb_free(&sb);
    ctl_payload_free(p);
}

/* diag of a hand-written CBOR item; returns the status. */
static int diag(const uint8_t *b, size_t n, int depth, size_t max_str, ctl_sb *sb)
{
    ctl_sb_clear(sb);
    return ctl_diag(sb, b, n, depth, max_str);
}

static void test_diag_types(void)
{
    /* {1: -1, "a": [h'0102', 1.5, true, null, undefined, []], 2: 18({}), 3: -Inf, 4: NaN} */
    static const uint8_t b[] = {0xa5, 0x01, 0x20, 0x61, 'a',  0x86, 0x42, 0x01, 0x02,
                                0xf9, 0x3e, 0x00, 0xf5, 0xf6, 0xf7, 0x80, 0x02, 0xd2,
                                0xa0, 0x03, 0xf9, 0xfc, 0x00, 0x04, 0xf9, 0x7e, 0x00};
    ctl_sb sb;
    ctl_sb_init(&sb);
    CU_ASSERT_EQUAL(diag(b, sizeof b, CTL_DIAG_DEPTH, 0, &sb), VG_OK);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "{1: -1, \"a\": [h'0102', 1.5, true, null, undefined, "
                                            "[]], 2: 18({}), 3: -Infinity, 4: NaN}");
    /* string cut */
    static const uint8_t s[] = {0x44, 1, 2, 3, 4};
    CU_ASSERT_EQUAL(diag(s, sizeof s, 4, 2, &sb), VG_OK);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "h'0102'...(4 bytes)");
    /* truncated: array of 2 with one item */
    static const uint8_t t[] = {0x82, 0x01};
    CU_ASSERT_EQUAL(diag(t, sizeof t, 4, 0, &sb), VG_ETRUNC);
    /* trailing bytes */
    static const uint8_t tr[] = {0x01, 0x02};
    CU_ASSERT_EQUAL(diag(tr, sizeof tr, 4, 0, &sb), VG_EDECODE);
    ctl_sb_free(&sb);
}

/* 1000 nested arrays: refused at the limit, no recursion, no crash. */
static void test_diag_depth(void)
{
    uint8_t deep[1001];
    memset(deep, 0x81, 1000);
    deep[1000] = 0x00;
    ctl_sb sb;
    ctl_sb_init(&sb);
    CU_ASSERT_EQUAL(diag(deep, sizeof deep, CTL_DIAG_DEPTH, 0, &sb), VG_ETOOBIG);
    CU_ASSERT_EQUAL(diag(deep + 1000 - 3, 4, 3, 0, &sb), VG_OK);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "[[[0]]]");
    CU_ASSERT_EQUAL(diag(deep + 1000 - 3, 4, 2, 0, &sb), VG_ETOOBIG);
    ctl_sb_free(&sb);
}

int init_ctl_payload_tests(void)
{
    CU_pSuite s = CU_add_suite("ctl_payload", NULL, NULL);
    if (!s || !CU_add_test(s, "topic to kind and device", test_topic_parse) ||
        !CU_add_test(s, "alert JSON, guessed kind, wrong kind", test_alert_json_and_guess) ||
        !CU_add_test(s, "empty and garbage payloads", test_empty_and_garbage) ||
        !CU_add_test(s, "diagnostic notation", test_diag_types) ||
        !CU_add_test(s, "diagnostic depth limit", test_diag_depth))
        return CU_get_error();
    return CUE_SUCCESS;
}
