/*
 * test_vgd_conf.c - vigild's settings: every table row's documented
 * default equals vgd_conf_init()'s value; the command line beats the file;
 * required options and bad values are refused; the metrics text is valid
 * Prometheus exposition (HELP/TYPE per family, cumulative histogram).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/CUnit.h>

#include "agent_conf.h"
#include "metrics.h"
#include "vg_error.h"

static void test_defaults_match_code(void)
{
    static vgd_conf ref, got;
    vgd_conf_init(&ref);
    memset(&got, 0, sizeof got);
    for (const vgd_conf_key *k = vgd_conf_keys; k->name; k++) {
        CU_ASSERT_EQUAL_FATAL(vgd_conf_set(&got, k->section, k->name, k->dflt), VG_OK);
        size_t n = k->type == VGD_CT_STR   ? VGD_STR_MAX
                   : k->type == VGD_CT_U64 ? 8
                   : k->type == VG_CT_BOOL ? 1
                                           : 4;
        CU_ASSERT_EQUAL(memcmp((char *)&got + k->offset, (char *)&ref + k->offset, n), 0);
    }
    CU_ASSERT_EQUAL(ref.commit_every, 256);
    CU_ASSERT_STRING_EQUAL(ref.root, "vigil/v1");
}

static void test_file_and_cli(void)
{
    static vgd_conf c;
    char path[64], err[256];
    int what;
    snprintf(path, sizeof path, "/tmp/vgd-conf-%d.ini", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("[agent]\ndevice = from-file\nbroker = tcp://a:1\ndata_dir = /tmp/x\n"
          "status_ms = 777\n[spool]\nquota_bytes = 5000000000\n[action]\ncommand = true\n"
          "[channel.temp]\nhi = 95\n",
          f);
    fclose(f);
    char *argv[] = {"vigild", "--config", path, "--device=from-cli", "--log-level", "debug", NULL};
    CU_ASSERT_EQUAL(vgd_conf_load(&c, 6, argv, &what, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(what, VGD_CLI_RUN);
    CU_ASSERT_STRING_EQUAL(c.device, "from-cli");
    CU_ASSERT_STRING_EQUAL(c.broker, "tcp://a:1");
    CU_ASSERT_EQUAL(c.status_ms, 777);
    CU_ASSERT_EQUAL(c.quota_bytes, 5000000000ull);
    CU_ASSERT_STRING_EQUAL(c.command, "true");
    CU_ASSERT_EQUAL(c.det.engine.nchan, 1);
    CU_ASSERT_STRING_EQUAL(c.log_level, "debug");
    char *bad1[] = {"vigild",  "--broker",   "tcp://a:1", "--device",
                    "bad id!", "--data-dir", "/x",        NULL};
    CU_ASSERT_EQUAL(vgd_conf_load(&c, 7, bad1, &what, err, sizeof err), VG_EINVAL);
    char *bad2[] = {"vigild", "--frobnicate", NULL};
    CU_ASSERT_EQUAL(vgd_conf_load(&c, 2, bad2, &what, err, sizeof err), VG_ESYNTAX);
    char *bad3[] = {"vigild", "--broker", NULL};
    CU_ASSERT_EQUAL(vgd_conf_load(&c, 2, bad3, &what, err, sizeof err), VG_ESYNTAX);
    char *help[] = {"vigild", "--help", NULL};
    CU_ASSERT_EQUAL(vgd_conf_load(&c, 2, help, &what, err, sizeof err), VG_OK);
    CU_ASSERT_EQUAL(what, VGD_CLI_HELP);
    CU_ASSERT_EQUAL(vgd_conf_set(&c, "mqtt", "nosuch", "1"), VG_EMISSING);
    CU_ASSERT_EQUAL(vgd_conf_set(&c, "nosuch", "x", "1"), VG_ECHANNEL);
    CU_ASSERT_EQUAL(vgd_conf_set(&c, "spool", "commit_every", "-1"), VG_ESYNTAX);
    remove(path);
}

static void test_metrics_text(void)
{
    static vgd_metrics m;
    char buf[8192];
    size_t len;
    memset(&m, 0, sizeof m);
    m.samples_in = 42;
    m.rejected[VG_ENAN] = 3;
    vgd_metrics_observe(&m, 3);
    vgd_metrics_observe(&m, 70);
    vgd_metrics_observe(&m, 10000000);
    CU_ASSERT_EQUAL_FATAL(vgd_metrics_render(&m, "d1", buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(strlen(buf), len);
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vigild_samples_in_total{device=\"d1\"} 42\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(buf, "vigild_rejected_total{device=\"d1\",reason=\"nan\"} 3\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "vigild_processing_latency_seconds_bucket{device=\"d1\",le=\"5e-06\"} 1\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "vigild_processing_latency_seconds_bucket{device=\"d1\",le=\"0.0001\"} 2\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "vigild_processing_latency_seconds_bucket{device=\"d1\",le=\"+Inf\"} 3\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(buf, "vigild_processing_latency_seconds_count{device=\"d1\"} 3\n"));
    /* every sample line belongs to a family announced by # TYPE */
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        CU_ASSERT_TRUE(line[0] == '#' || strncmp(line, "vigild_", 7) == 0);
    }
    CU_ASSERT_EQUAL(vgd_metrics_render(&m, "d1", buf, 100, &len), VG_ENOSPC);
    vg_status st;
    vgd_metrics_to_status(&m, &st);
    CU_ASSERT_TRUE(st.ncounter > 5);
    CU_ASSERT_STRING_EQUAL(st.counter[1].name, "samples_in");
    CU_ASSERT_EQUAL(st.counter[1].value, 42);
}

int init_vgd_conf_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_conf", NULL, NULL);
    if (!s || !CU_add_test(s, "defaults match code", test_defaults_match_code) ||
        !CU_add_test(s, "file and command line", test_file_and_cli) ||
        !CU_add_test(s, "metrics text", test_metrics_text))
        return CU_get_error();
    return 0;
}
