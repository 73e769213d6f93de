/*
 * test_vgd_metrics.c - vigild's metrics rendering, byte for byte.
 *
 * Two fixtures, a daemon that has seen a bit of everything (every counter
 * a distinct value, some rejection reasons set and some not, every latency
 * bucket filled) and an idle daemon (all zero, no acked mark), rendered as
 * Prometheus text and as the status subset; each is checked against the
 * full text the renderer produced when these golden strings were taken.
 * A change to a name, help text, order or number format shows up here.
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "metrics.h"
#include "vg_error.h"

/* Fills *m with a distinct value in every field (caller owns *m). */
static void fill_busy(vgd_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->batches_in = 1001;
    m->samples_in = 64064;
    m->rejected[VG_EDECODE] = 3;
    m->rejected[VG_ENAN] = 5;
    m->rejected[VG_EORDER] = 7;
    m->rejected[VG_EIO] = 11;
    m->alerts_raised = 13;
    m->alerts_cleared = 12;
    m->trips = 2;
    m->resets_ok = 1;
    m->resets_refused = 4;
    m->reset_refused_reason = VG_EACTIVE;
    m->actions_run = 6;
    m->actions_failed = 8;
    m->actions_killed = 9;
    m->models_applied = 10;
    m->models_rejected[VG_ESIG] = 14;
    m->models_rejected[VG_EENVELOPE] = 15;
    m->spool_errors = 16;
    m->spool_commits = 17;
    m->spool_gaps_dropped = 18;
    m->uplink_chunks = 19;
    m->uplink_records = 20;
    m->uplink_bytes = 123456789012ull;
    m->connects = 21;
    m->client_renewals = 2;
    for (int i = 0; i <= VGD_HIST_BUCKETS; i++)
        m->hist[i] = (uint64_t)(100 + 3 * i);
    m->hist_sum_s = 0.123456789;
    m->spool_bytes = 4096000;
    m->backlog = 22;
    m->backlog_bytes = 23;
    m->evicted_lost = 24;
    m->acked_seq = 987654321;
    m->spool_queue = 25;
    m->uplink_lag_s = 1.25;
    m->model_version = 26;
    m->connected = 1;
    m->latched = 1;
}

/* Fills *m as a daemon that has done nothing yet. */
static void fill_idle(vgd_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->acked_seq = -1;
}

/* Renders the status subset as "name=value\n" lines into buf. */
static void status_text(const vgd_metrics *m, char *buf, size_t cap)
{
    vg_status st;
    memset(&st, 0, sizeof st);
    vgd_metrics_to_status(m, &st);
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < st.ncounter && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s=%llu\n", st.counter[i].name,
                                (unsigned long long)st.counter[i].value);
}

/* clang-format off */
static const char busy_text[] =
    "# HELP vigild_batches_in_total sample batches accepted\n"
    "# TYPE vigild_batches_in_total counter\n"
    "vigild_batches_in_total{device=\"pump-7\"} 1001\n"
    "# HELP vigild_samples_in_total samples scored\n"
    "# TYPE vigild_samples_in_total counter\n"
    "vigild_samples_in_total{device=\"pump-7\"} 64064\n"
    "# HELP vigild_rejected_total batches or samples refused, by reason\n"
    "# TYPE vigild_rejected_total counter\n"
    "vigild_rejected_total{device=\"pump-7\",reason=\"decode\"} 3\n"
    "vigild_rejected_total{device=\"pump-7\",reason=\"nan\"} 5\n"
    "vigild_rejected_total{device=\"pump-7\",reason=\"order\"} 7\n"
    "vigild_rejected_total{device=\"pump-7\",reason=\"io\"} 11\n"
    "# HELP vigild_alerts_total alert edges\n"
    "# TYPE vigild_alerts_total counter\n"
    "vigild_alerts_total{device=\"pump-7\",state=\"raised\"} 13\n"
    "vigild_alerts_total{device=\"pump-7\",state=\"cleared\"} 12\n"
    "# HELP vigild_trips_total safety trips decided\n"
    "# TYPE vigild_trips_total counter\n"
    "vigild_trips_total{device=\"pump-7\"} 2\n"
    "# HELP vigild_resets_total resets that cleared a latch\n"
    "# TYPE vigild_resets_total counter\n"
    "vigild_resets_total{device=\"pump-7\"} 1\n"
    "# HELP vigild_resets_refused_total resets refused\n"
    "# TYPE vigild_resets_refused_total counter\n"
    "vigild_resets_refused_total{device=\"pump-7\"} 4\n"
    "# HELP vigild_actions_total local trip actions started\n"
    "# TYPE vigild_actions_total counter\n"
    "vigild_actions_total{device=\"pump-7\"} 6\n"
    "# HELP vigild_actions_failed_total local actions failed\n"
    "# TYPE vigild_actions_failed_total counter\n"
    "vigild_actions_failed_total{device=\"pump-7\"} 8\n"
    "# HELP vigild_actions_killed_total local actions killed at timeout\n"
    "# TYPE vigild_actions_killed_total counter\n"
    "vigild_actions_killed_total{device=\"pump-7\"} 9\n"
    "# HELP vigild_models_applied_total model bundles applied\n"
    "# TYPE vigild_models_applied_total counter\n"
    "vigild_models_applied_total{device=\"pump-7\"} 10\n"
    "# HELP vigild_models_rejected_total model bundles refused, by reason\n"
    "# TYPE vigild_models_rejected_total counter\n"
    "vigild_models_rejected_total{device=\"pump-7\",reason=\"signature\"} 14\n"
    "vigild_models_rejected_total{device=\"pump-7\",reason=\"envelope\"} 15\n"
    "# HELP vigild_spool_errors_total failed spool writes\n"
    "# TYPE vigild_spool_errors_total counter\n"
    "vigild_spool_errors_total{device=\"pump-7\"} 16\n"
    "# HELP vigild_spool_commits_total spool writer group commits\n"
    "# TYPE vigild_spool_commits_total counter\n"
    "vigild_spool_commits_total{device=\"pump-7\"} 17\n"
    "# HELP vigild_spool_gaps_dropped_total skipped-seq gaps given up\n"
    "# TYPE vigild_spool_gaps_dropped_total counter\n"
    "vigild_spool_gaps_dropped_total{device=\"pump-7\"} 18\n"
    "# HELP vigild_spool_queue_records records queued for the spool writer\n"
    "# TYPE vigild_spool_queue_records gauge\n"
    "vigild_spool_queue_records{device=\"pump-7\"} 25\n"
    "# HELP vigild_acked_seq committed mark published on samples/ack\n"
    "# TYPE vigild_acked_seq gauge\n"
    "vigild_acked_seq{device=\"pump-7\"} 987654321\n"
    "# HELP vigild_spool_bytes spool database bytes\n"
    "# TYPE vigild_spool_bytes gauge\n"
    "vigild_spool_bytes{device=\"pump-7\"} 4096000\n"
    "# HELP vigild_backlog_records records not yet forwarded\n"
    "# TYPE vigild_backlog_records gauge\n"
    "vigild_backlog_records{device=\"pump-7\"} 22\n"
    "# HELP vigild_backlog_bytes payload bytes not yet forwarded\n"
    "# TYPE vigild_backlog_bytes gauge\n"
    "vigild_backlog_bytes{device=\"pump-7\"} 23\n"
    "# HELP vigild_evicted_unsent_total unsent batches evicted by quota\n"
    "# TYPE vigild_evicted_unsent_total counter\n"
    "vigild_evicted_unsent_total{device=\"pump-7\"} 24\n"
    "# HELP vigild_uplink_lag_seconds age of the oldest unsent record\n"
    "# TYPE vigild_uplink_lag_seconds gauge\n"
    "vigild_uplink_lag_seconds{device=\"pump-7\"} 1.25\n"
    "# HELP vigild_uplink_chunks_total archive chunks acknowledged\n"
    "# TYPE vigild_uplink_chunks_total counter\n"
    "vigild_uplink_chunks_total{device=\"pump-7\"} 19\n"
    "# HELP vigild_uplink_records_total records forwarded\n"
    "# TYPE vigild_uplink_records_total counter\n"
    "vigild_uplink_records_total{device=\"pump-7\"} 20\n"
    "# HELP vigild_uplink_bytes_total archive bytes acknowledged\n"
    "# TYPE vigild_uplink_bytes_total counter\n"
    "vigild_uplink_bytes_total{device=\"pump-7\"} 123456789012\n"
    "# HELP vigild_connects_total broker connections\n"
    "# TYPE vigild_connects_total counter\n"
    "vigild_connects_total{device=\"pump-7\"} 21\n"
    "# HELP vigild_mqtt_client_renewals_total wedged MQTT clients replaced\n"
    "# TYPE vigild_mqtt_client_renewals_total counter\n"
    "vigild_mqtt_client_renewals_total{device=\"pump-7\"} 2\n"
    "# HELP vigild_connected 1 while connected\n"
    "# TYPE vigild_connected gauge\n"
    "vigild_connected{device=\"pump-7\"} 1\n"
    "# HELP vigild_latched 1 while a trip is latched\n"
    "# TYPE vigild_latched gauge\n"
    "vigild_latched{device=\"pump-7\"} 1\n"
    "# HELP vigild_model_version model version running\n"
    "# TYPE vigild_model_version gauge\n"
    "vigild_model_version{device=\"pump-7\"} 26\n"
    "# HELP vigild_processing_latency_seconds time from a batch's arrival to its spooled verdict\n"
    "# TYPE vigild_processing_latency_seconds histogram\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"5e-06\"} 100\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"1e-05\"} 203\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"2.5e-05\"} 309\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"5e-05\"} 418\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0001\"} 530\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.00025\"} 645\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0005\"} 763\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.001\"} 884\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0025\"} 1008\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.01\"} 1135\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.05\"} 1265\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.25\"} 1398\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"+Inf\"} 1534\n"
    "vigild_processing_latency_seconds_sum{device=\"pump-7\"} 0.123456789\n"
    "vigild_processing_latency_seconds_count{device=\"pump-7\"} 1534\n"
;
static const char idle_text[] =
    "# HELP vigild_batches_in_total sample batches accepted\n"
    "# TYPE vigild_batches_in_total counter\n"
    "vigild_batches_in_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_samples_in_total samples scored\n"
    "# TYPE vigild_samples_in_total counter\n"
    "vigild_samples_in_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_rejected_total batches or samples refused, by reason\n"
    "# TYPE vigild_rejected_total counter\n"
    "# HELP vigild_alerts_total alert edges\n"
    "# TYPE vigild_alerts_total counter\n"
    "vigild_alerts_total{device=\"pump-7\",state=\"raised\"} 0\n"
    "vigild_alerts_total{device=\"pump-7\",state=\"cleared\"} 0\n"
    "# HELP vigild_trips_total safety trips decided\n"
    "# TYPE vigild_trips_total counter\n"
    "vigild_trips_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_resets_total resets that cleared a latch\n"
    "# TYPE vigild_resets_total counter\n"
    "vigild_resets_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_resets_refused_total resets refused\n"
    "# TYPE vigild_resets_refused_total counter\n"
    "vigild_resets_refused_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_actions_total local trip actions started\n"
    "# TYPE vigild_actions_total counter\n"
    "vigild_actions_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_actions_failed_total local actions failed\n"
    "# TYPE vigild_actions_failed_total counter\n"
    "vigild_actions_failed_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_actions_killed_total local actions killed at timeout\n"
    "# TYPE vigild_actions_killed_total counter\n"
    "vigild_actions_killed_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_models_applied_total model bundles applied\n"
    "# TYPE vigild_models_applied_total counter\n"
    "vigild_models_applied_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_models_rejected_total model bundles refused, by reason\n"
    "# TYPE vigild_models_rejected_total counter\n"
    "# HELP vigild_spool_errors_total failed spool writes\n"
    "# TYPE vigild_spool_errors_total counter\n"
    "vigild_spool_errors_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_spool_commits_total spool writer group commits\n"
    "# TYPE vigild_spool_commits_total counter\n"
    "vigild_spool_commits_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_spool_gaps_dropped_total skipped-seq gaps given up\n"
    "# TYPE vigild_spool_gaps_dropped_total counter\n"
    "vigild_spool_gaps_dropped_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_spool_queue_records records queued for the spool writer\n"
    "# TYPE vigild_spool_queue_records gauge\n"
    "vigild_spool_queue_records{device=\"pump-7\"} 0\n"
    "# HELP vigild_acked_seq committed mark published on samples/ack\n"
    "# TYPE vigild_acked_seq gauge\n"
    "vigild_acked_seq{device=\"pump-7\"} -1\n"
    "# HELP vigild_spool_bytes spool database bytes\n"
    "# TYPE vigild_spool_bytes gauge\n"
    "vigild_spool_bytes{device=\"pump-7\"} 0\n"
    "# HELP vigild_backlog_records records not yet forwarded\n"
    "# TYPE vigild_backlog_records gauge\n"
    "vigild_backlog_records{device=\"pump-7\"} 0\n"
    "# HELP vigild_backlog_bytes payload bytes not yet forwarded\n"
    "# TYPE vigild_backlog_bytes gauge\n"
    "vigild_backlog_bytes{device=\"pump-7\"} 0\n"
    "# HELP vigild_evicted_unsent_total unsent batches evicted by quota\n"
    "# TYPE vigild_evicted_unsent_total counter\n"
    "vigild_evicted_unsent_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_uplink_lag_seconds age of the oldest unsent record\n"
    "# TYPE vigild_uplink_lag_seconds gauge\n"
    "vigild_uplink_lag_seconds{device=\"pump-7\"} 0\n"
    "# HELP vigild_uplink_chunks_total archive chunks acknowledged\n"
    "# TYPE vigild_uplink_chunks_total counter\n"
    "vigild_uplink_chunks_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_uplink_records_total records forwarded\n"
    "# TYPE vigild_uplink_records_total counter\n"
    "vigild_uplink_records_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_uplink_bytes_total archive bytes acknowledged\n"
    "# TYPE vigild_uplink_bytes_total counter\n"
    "vigild_uplink_bytes_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_connects_total broker connections\n"
    "# TYPE vigild_connects_total counter\n"
    "vigild_connects_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_mqtt_client_renewals_total wedged MQTT clients replaced\n"
    "# TYPE vigild_mqtt_client_renewals_total counter\n"
    "vigild_mqtt_client_renewals_total{device=\"pump-7\"} 0\n"
    "# HELP vigild_connected 1 while connected\n"
    "# TYPE vigild_connected gauge\n"
    "vigild_connected{device=\"pump-7\"} 0\n"
    "# HELP vigild_latched 1 while a trip is latched\n"
    "# TYPE vigild_latched gauge\n"
    "vigild_latched{device=\"pump-7\"} 0\n"
    "# HELP vigild_model_version model version running\n"
    "# TYPE vigild_model_version gauge\n"
    "vigild_model_version{device=\"pump-7\"} 0\n"
    "# HELP vigild_processing_latency_seconds time from a batch's arrival to its spooled verdict\n"
    "# TYPE vigild_processing_latency_seconds histogram\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"5e-06\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"1e-05\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"2.5e-05\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"5e-05\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0001\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.00025\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0005\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.001\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.0025\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.01\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.05\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"0.25\"} 0\n"
    "vigild_processing_latency_seconds_bucket{device=\"pump-7\",le=\"+Inf\"} 0\n"
    "vigild_processing_latency_seconds_sum{device=\"pump-7\"} 0\n"
    "vigild_processing_latency_seconds_count{device=\"pump-7\"} 0\n"
;
static const char busy_status[] =
    "batches_in=1001\n"
    "samples_in=64064\n"
    "rejected=26\n"
    "rejected_decode=3\n"
    "rejected_nan=5\n"
    "rejected_order=7\n"
    "rejected_io=11\n"
    "alerts_raised=13\n"
    "alerts_cleared=12\n"
    "trips=2\n"
    "resets=1\n"
    "resets_refused=4\n"
    "reset_refused_reason=20\n"
    "models_applied=10\n"
    "spool_bytes=4096000\n"
    "backlog=22\n"
    "uplink_records=20\n"
    "uplink_lag_ms=1250\n"
;
static const char idle_status[] =
    "batches_in=0\n"
    "samples_in=0\n"
    "rejected=0\n"
    "alerts_raised=0\n"
    "alerts_cleared=0\n"
    "trips=0\n"
    "resets=0\n"
    "resets_refused=0\n"
    "reset_refused_reason=0\n"
    "models_applied=0\n"
    "spool_bytes=0\n"
    "backlog=0\n"
    "uplink_records=0\n"
    "uplink_lag_ms=0\n"
;
/* clang-format on */

/* Renders *m and compares with want, whole text and length. */
static void check_render(const vgd_metrics *m, const char *want)
{
    char buf[8192];
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(vgd_metrics_render(m, "pump-7", buf, sizeof buf, &len), VG_OK);
    CU_ASSERT_EQUAL(len, strlen(want));
    CU_ASSERT_EQUAL(len, strlen(buf));
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_busy_text(void)
{
    static vgd_metrics m;
    fill_busy(&m);
    check_render(&m, busy_text);
}

static void test_idle_text(void)
{
    static vgd_metrics m;
    fill_idle(&m);
    check_render(&m, idle_text);
}

/* Every cut of the buffer short of the whole text is VG_ENOSPC. */
static void test_short_buffer(void)
{
    static vgd_metrics m;
    char buf[8192];
    size_t len = 0, full = strlen(busy_text);
    fill_busy(&m);
    for (size_t cap = 0; cap <= full; cap += (cap < 64 ? 1 : 97))
        CU_ASSERT_EQUAL(vgd_metrics_render(&m, "pump-7", buf, cap, &len), VG_ENOSPC);
    CU_ASSERT_EQUAL(vgd_metrics_render(&m, "pump-7", buf, full + 1, &len), VG_OK);
    CU_ASSERT_EQUAL(len, full);
}

static void test_status(void)
{
    static vgd_metrics m;
    char buf[4096];
    fill_busy(&m);
    status_text(&m, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, busy_status);
    fill_idle(&m);
    status_text(&m, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, idle_status);
}

int init_vgd_metrics_tests(void)
{
    CU_pSuite s = CU_add_suite("vgd_metrics", NULL, NULL);
    if (!s || !CU_add_test(s, "busy daemon, full text", test_busy_text) ||
        !CU_add_test(s, "idle daemon, full text", test_idle_text) ||
        !CU_add_test(s, "short buffers refused", test_short_buffer) ||
        !CU_add_test(s, "status subset", test_status))
        return CU_get_error();
    return 0;
}
