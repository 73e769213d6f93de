/*
 * test_ctl_json.c - vigilctl's JSON writer and string builder (ctl/json.h):
 * separators at every nesting level, string escaping (quotes, controls,
 * invalid UTF-8 replaced, valid multi-byte kept), NaN/Inf as null, exact
 * round trip of doubles, integer extremes, the depth limit.
 */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "vg_error.h"

/* Nested containers get commas and colons in the right places. */
static void test_json_structure(void)
{
    ctl_sb sb;
    ctl_json j;
    ctl_sb_init(&sb);
    ctl_json_init(&j, &sb);
    ctl_json_obj(&j);
    ctl_json_key(&j, "a");
    ctl_json_int(&j, -3);
    ctl_json_key(&j, "b");
    ctl_json_arr(&j);
    ctl_json_uint(&j, UINT64_MAX);
    ctl_json_bool(&j, true);
    ctl_json_null(&j);
    ctl_json_obj(&j);
    ctl_json_obj_end(&j);
    ctl_json_arr(&j);
    ctl_json_arr_end(&j);
    ctl_json_arr_end(&j);
    ctl_json_key(&j, "c");
    ctl_json_int(&j, INT64_MIN);
    ctl_json_obj_end(&j);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb),
                           "{\"a\":-3,\"b\":[18446744073709551615,true,null,{},[]],"
                           "\"c\":-9223372036854775808}");
    CU_ASSERT_EQUAL(j.depth, 0);
    CU_ASSERT_EQUAL(j.err, VG_OK);
    ctl_sb_free(&sb);
}

/* Escapes: quote, backslash, named and other controls, DEL, UTF-8. */
static void test_json_escape(void)
{
    ctl_sb sb;
    ctl_sb_init(&sb);
    const char in[] = "q\"b\\n\n\t\x01\x1f\x7f \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80";
    ctl_json_escape(&sb, in, sizeof in - 1);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "\"q\\\"b\\\\n\\n\\t\\u0001\\u001f\\u007f "
                                            "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    ctl_sb_clear(&sb);
    /* a lone continuation byte, a truncated sequence, an overlong form and
     * a surrogate each become one U+FFFD; what follows is intact */
    const char bad[] = "\x80x\xe2\x82y\xc0\xafz\xed\xa0\x80w";
    ctl_json_escape(&sb, bad, sizeof bad - 1);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "\"\xef\xbf\xbdx\xef\xbf\xbd\xef\xbf\xbdy\xef\xbf\xbd"
                                            "\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdw\"");
    ctl_sb_clear(&sb);
    /* embedded NUL is data, not the end */
    ctl_json_escape(&sb, "a\0b", 3);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "\"a\\u0000b\"");
    ctl_sb_free(&sb);
}

/* NaN and infinities are null; doubles parse back exactly. */
static void test_json_numbers(void)
{
    static const double vals[] = {0.1, -2.5, 1e300, 5e-324, 123456789.123456789, 1.0 / 3.0, 42.0};
    ctl_sb sb;
    ctl_json j;
    ctl_sb_init(&sb);
    ctl_json_init(&j, &sb);
    ctl_json_arr(&j);
    ctl_json_num(&j, NAN);
    ctl_json_num(&j, INFINITY);
    ctl_json_num(&j, -INFINITY);
    ctl_json_arr_end(&j);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "[null,null,null]");
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        ctl_sb_clear(&sb);
        ctl_json_init(&j, &sb);
        ctl_json_num(&j, vals[i]);
        CU_ASSERT_EQUAL(strtod(ctl_sb_str(&sb), NULL), vals[i]);
    }
    ctl_sb_clear(&sb);
    ctl_json_init(&j, &sb);
    ctl_json_num(&j, 0.1);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "0.1"); /* the short form when exact */
    ctl_sb_free(&sb);
}

/* Nesting past the limit is refused and flagged, never overflows. */
static void test_json_depth(void)
{
    ctl_sb sb;
    ctl_json j;
    ctl_sb_init(&sb);
    ctl_json_init(&j, &sb);
    for (int i = 0; i < CTL_JSON_MAX_DEPTH + 5; i++)
        ctl_json_arr(&j);
    CU_ASSERT_EQUAL(j.err, VG_ETOOBIG);
    CU_ASSERT_EQUAL(j.depth, CTL_JSON_MAX_DEPTH);
    CU_ASSERT_EQUAL(sb.len, (size_t)CTL_JSON_MAX_DEPTH);
    ctl_sb_free(&sb);
}

/* The builder grows across many appends and printf. */
static void test_sb_growth(void)
{
    ctl_sb sb;
    ctl_sb_init(&sb);
    CU_ASSERT_STRING_EQUAL(ctl_sb_str(&sb), "");
    for (int i = 0; i < 10000; i++)
        ctl_sb_printf(&sb, "%04d", i % 10000);
    CU_ASSERT_EQUAL(sb.len, 40000u);
    CU_ASSERT_EQUAL(memcmp(sb.buf + 39996, "9999", 4), 0);
    CU_ASSERT_EQUAL(sb.err, VG_OK);
    ctl_sb_free(&sb);
}

int init_ctl_json_tests(void)
{
    CU_pSuite s = CU_add_suite("ctl_json", NULL, NULL);
    if (!s || !CU_add_test(s, "structure and separators", test_json_structure) ||
        !CU_add_test(s, "string escaping and UTF-8", test_json_escape) ||
        !CU_add_test(s, "numbers, NaN/Inf as null", test_json_numbers) ||
        !CU_add_test(s, "depth limit", test_json_depth) ||
        !CU_add_test(s, "builder growth", test_sb_growth))
        return CU_get_error();
    return CUE_SUCCESS;
}
