/*
 * test_csv.c - CSV splitting, timestamps and value cells, including every
 * malformed form the reader must refuse.
 */
#include <math.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "vg_csv.h"
#include "vg_error.h"

static char *fields[8];
static uint32_t lens[8];

static int split(char *buf, vg_csv_row *row)
{
    row->field = fields;
    row->len = lens;
    row->cap = 8;
    return vg_csv_split(buf, strlen(buf), row);
}

static void test_split(void)
{
    vg_csv_row r;
    char a[] = "2024-01-01 00:00:00,1.5,,NaN";
    CU_ASSERT_EQUAL_FATAL(split(a, &r), VG_OK);
    CU_ASSERT_EQUAL(r.n, 4);
    CU_ASSERT_STRING_EQUAL(fields[0], "2024-01-01 00:00:00");
    CU_ASSERT_STRING_EQUAL(fields[1], "1.5");
    CU_ASSERT_EQUAL(lens[2], 0);
    CU_ASSERT_STRING_EQUAL(fields[3], "NaN");
    char b[] = "\"time\",\"a,b\",\"say \"\"hi\"\"\"\r";
    CU_ASSERT_EQUAL_FATAL(split(b, &r), VG_OK);
    CU_ASSERT_EQUAL(r.n, 3);
    CU_ASSERT_STRING_EQUAL(fields[1], "a,b");
    CU_ASSERT_STRING_EQUAL(fields[2], "say \"hi\"");
    CU_ASSERT_EQUAL(lens[2], 8);
    char c[] = ",";
    CU_ASSERT_EQUAL(split(c, &r), VG_OK);
    CU_ASSERT_EQUAL(r.n, 2);
    char d[] = "";
    CU_ASSERT_EQUAL(split(d, &r), VG_OK);
    CU_ASSERT_EQUAL(r.n, 1);
}

static void test_split_errors(void)
{
    vg_csv_row r;
    char a[] = "1,\"unterminated";
    CU_ASSERT_EQUAL(split(a, &r), VG_ESYNTAX);
    CU_ASSERT_EQUAL(r.bad_col, 2);
    char b[] = "1,2,\"x\"y";
    CU_ASSERT_EQUAL(split(b, &r), VG_ESYNTAX);
    CU_ASSERT_EQUAL(r.bad_col, 3);
    char c[] = "a\"b,2";
    CU_ASSERT_EQUAL(split(c, &r), VG_ESYNTAX);
    CU_ASSERT_EQUAL(r.bad_col, 1);
    char d[] = "1,2,3,4,5,6,7,8,9";
    CU_ASSERT_EQUAL(split(d, &r), VG_ETOOBIG);
}

static void expect_time(const char *s, int64_t want)
{
    int64_t t = 0;
    CU_ASSERT_EQUAL_FATAL(vg_csv_parse_time(s, strlen(s), &t), VG_OK);
    CU_ASSERT_EQUAL(t, want);
}

static void test_times(void)
{
    expect_time("1970-01-01 00:00:00", 0);
    expect_time("2024-02-29 12:00:00.5", 1709208000500000);
    expect_time("2024-02-29T12:00:00.000001", 1709208000000001);
    expect_time("2000-03-01 00:00:00", 951868800000000);
    expect_time("1700000000", 1700000000000000);
    expect_time("1700000000.25", 1700000000250000);
    expect_time("1969-12-31 23:59:59", -1000000);
    const char *bad[] = {"2023-02-29 00:00:00",
                         "2024-13-01 00:00:00",
                         "2024-01-01 24:00:00",
                         "2024-01-01 00:00",
                         "2024-01-01 00:00:00.1234567",
                         "abc",
                         "",
                         "17e8",
                         "2024-01-01 00:00:00Z",
                         "1.2.3",
                         "99999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t t;
        CU_ASSERT_EQUAL(vg_csv_parse_time(bad[i], strlen(bad[i]), &t), VG_ESYNTAX);
    }
}

static void test_values(void)
{
    double v;
    CU_ASSERT_EQUAL(vg_csv_parse_value("1.5", 3, &v), VG_OK);
    CU_ASSERT_EQUAL(v, 1.5);
    CU_ASSERT_EQUAL(vg_csv_parse_value(" -2e3 ", 6, &v), VG_OK);
    CU_ASSERT_EQUAL(v, -2000);
    CU_ASSERT_EQUAL(vg_csv_parse_value("", 0, &v), VG_ENAN);
    CU_ASSERT_TRUE(isnan(v));
    CU_ASSERT_EQUAL(vg_csv_parse_value("NaN", 3, &v), VG_ENAN);
    CU_ASSERT_EQUAL(vg_csv_parse_value("nan", 3, &v), VG_ENAN);
    const char *bad[] = {"inf", "-inf", "0x10", "1,5", "abc", "1e999", "--1", "1.5x", "nan(1)"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CU_ASSERT_EQUAL(vg_csv_parse_value(bad[i], strlen(bad[i]), &v), VG_ESYNTAX);
}

int init_csv_tests(void)
{
    CU_pSuite s = CU_add_suite("csv", NULL, NULL);
    if (!s || !CU_add_test(s, "split", test_split) ||
        !CU_add_test(s, "split errors", test_split_errors) ||
        !CU_add_test(s, "timestamps", test_times) || !CU_add_test(s, "values", test_values))
        return CU_get_error();
    return 0;
}
