/* test_tlsmsg.c - the reason extracted from OpenSSL error lines. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_tlsmsg.h"

static void expect(const char *line, const char *want)
{
    char out[256];
    vg_tls_reason(line, strlen(line), out, sizeof out);
    CU_ASSERT_STRING_EQUAL(out, want);
}

static void test_reason(void)
{
    expect("140230:error:0A000086:SSL routines:tls_post_process_server_certificate:"
           "certificate verify failed:../ssl/statem/statem_clnt.c:1889:\n",
           "certificate verify failed");
    expect("40F7:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:1\r\n",
           "wrong version number");
    expect("no reason here\nsecond line", "no reason here");
    expect("error:short", "error:short"); /* too few fields: the line itself */
    char small[8];
    vg_tls_reason("abcdefghijkl", 12, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "abcdefg");
}

int init_tlsmsg_tests(void)
{
    CU_pSuite s = CU_add_suite("tlsmsg", NULL, NULL);
    if (!s || !CU_add_test(s, "reason of an OpenSSL error line", test_reason))
        return CU_get_error();
    return 0;
}
