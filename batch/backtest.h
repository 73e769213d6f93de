/*
 * backtest.h - replay one device's archive through the core's detection
 * pipeline (vg_engine, the code the devices run) with the current and the
 * candidate model, and judge the candidate against guardrails.
 *
 * Per model, counted over the backtest range: alerts raised, trips, and -
 * where labelled incidents exist - incidents detected (an alert or trip on
 * a covered channel inside the label, widened by `grace`) and false alarms
 * (alerts outside every label).  Channels are independent in the engine,
 * so each channel's series is pushed whole, in time order.
 *
 * Cost: O(samples) engine pushes per model (tens of millions per second
 * per core) plus O(alerts x labels) for the label figures.  Memory: one
 * engine per model, sized by the config.
 */
#ifndef VB_BACKTEST_H
#define VB_BACKTEST_H

#include <stdint.h>

#include "series.h"
#include "vg_conf.h"
#include "vg_model.h"

/* Figures of one model over the backtest range. */
typedef struct vb_bt_figures {
    int64_t alerts;       /* alerts raised */
    int64_t trips;        /* trips */
    int64_t detected;     /* labelled incidents with an alert or trip */
    int64_t false_alarms; /* alerts outside every labelled incident */
} vb_bt_figures;

/* Result of a backtest: both models and the verdict. */
typedef struct vb_bt_result {
    vb_bt_figures cur;  /* current model (or none) */
    vb_bt_figures cand; /* candidate */
    int64_t labels;     /* labelled incidents in range */
    int held;           /* 1: the candidate breaks a guardrail */
    char reason[160];   /* why held, or a one-line summary */
} vb_bt_result;

/* Guardrails a candidate must pass to be published. */
typedef struct vb_guard {
    double max_alert_ratio;     /* held when cand alerts > ratio * max(cur, min) (2) */
    int64_t min_alerts;         /* floor of the ratio's base (5) */
    int allow_fewer_detections; /* 0: held when it detects fewer incidents */
    int allow_more_trips;       /* 0: held when it trips more often */
} vb_guard;

/* Fills *g with the defaults above. */
void vb_guard_init(vb_guard *g);

/* One channel's backtest input: its name and full series in the range. */
typedef struct vb_bt_channel {
    const char *name;        /* channel (borrowed) */
    const vb_series *series; /* samples in time order (borrowed) */
} vb_bt_channel;

/* Replays `nchan` channels under `cur` (NULL: no model) and `cand`,
 * fills *r and judges it by *g.  `labels` are the device's incidents;
 * `grace_us` widens them for detection.  VG_EENVELOPE when a model does not
 * fit the configured envelopes, VG_ENOMEM. */
int vb_backtest(const vg_conf *conf, const vb_bt_channel *ch, uint32_t nchan, const vg_model *cur,
                const vg_model *cand, const vb_intervals *labels, int64_t grace_us,
                const vb_guard *g, vb_bt_result *r);

#endif
