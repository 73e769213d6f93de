/*
 * outbox.h - one device's QoS 1 publishing with a bounded in-flight window
 * and counts of what was published and what the broker acknowledged.
 *
 * An outbox owns `nslot` slots; each holds one encoded batch from the
 * moment it is handed to Paho until its PUBACK.  A publication that Paho
 * reports failed (or refuses) is kept and sent again, same bytes and same
 * sequence number, by sim_outbox_retry(); so a batch is acknowledged or
 * still pending at the end, never silently lost.  When all slots are busy
 * sim_outbox_acquire() blocks: that is the backpressure that bounds memory
 * during a broker outage and sets the pace in max-rate mode.
 *
 * Paho itself resends in-flight messages after a reconnect (persistent
 * session) and queues new ones while disconnected, so across a broker
 * restart the counters end with published == acknowledged.  When the
 * connection's Paho client is replaced because its session wedged
 * (sim_conn_renew, called by sim_outbox_retry), the batches the old client
 * held fail and are sent again through the new one.
 *
 * Device-level acknowledgement (sim_outbox_device_ack, --device-ack): a
 * PUBACK only says the broker has the batch, and vigild's Paho PUBACKs
 * before vigild has stored anything.  In this mode a PUBACKed slot stays
 * busy (SIM_SLOT_PUBACKED) until vigild's committed mark
 * (ROOT/DEV/samples/ack, sim_outbox_covered) reaches its seq; only then is
 * it counted acknowledged and freed.  A PUBACKed slot not covered after
 * ack_timeout while the mark has not moved for ack_timeout either (vigild
 * restarted and lost it, or holds the mark below it because it lost an
 * older one), or when the connection was re-established meanwhile, is
 * sent again (same bytes, same seq: vigild accepts it when it lost it,
 * refuses it as a duplicate when it has it).
 *
 * Cost: acquire/send/retry are O(nslot) scans at worst, under the shared
 * lock; memory is nslot * slot_cap bytes allocated by sim_outbox_init().
 */
#ifndef SIM_OUTBOX_H
#define SIM_OUTBOX_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <stdio.h>

#include "batch.h"
#include "mqtt.h"

#define SIM_TOPIC_MAX 256

enum sim_slot_state {
    SIM_SLOT_FREE = 0,
    SIM_SLOT_FILLING,
    SIM_SLOT_INFLIGHT,
    SIM_SLOT_RETRY,
    SIM_SLOT_PUBACKED /* device-ack mode: broker has it, vigild's mark not yet */
};

struct sim_outbox;

/* One publication in flight. */
typedef struct sim_slot {
    sim_pub pub;            /* first member: Paho completion hook */
    struct sim_outbox *box; /* owner */
    uint8_t *payload;       /* encoded batch (owned, box->slot_cap bytes) */
    size_t len;             /* bytes used */
    uint64_t seq;           /* batch sequence number (for logs) */
    uint32_t nsamples;      /* samples in the batch */
    int state;              /* enum sim_slot_state, under the sync lock */
    int64_t puback_us;      /* device-ack mode: when its PUBACK came (monotonic) */
} sim_slot;

/* A device's publishing state. */
typedef struct sim_outbox {
    sim_conn *conn;            /* connection (borrowed) */
    sim_sync *sync;            /* shared lock (borrowed) */
    char topic[SIM_TOPIC_MAX]; /* publication topic */
    bool retained;             /* publish retained */
    uint32_t nslot;            /* window size */
    size_t slot_cap;           /* payload capacity per slot */
    sim_slot *slot;            /* [nslot] */
    /* under sync->lock: */
    uint32_t busy;        /* slots not FREE */
    uint32_t nretry;      /* slots in RETRY */
    uint64_t batches_pub; /* batches published (first sends) */
    uint64_t samples_pub; /* samples in them */
    uint64_t batches_ack; /* batches acknowledged (PUBACK) */
    uint64_t samples_ack; /* samples in them */
    uint64_t resends;     /* sends after a failure (or an ack timeout) */
    uint64_t failures;    /* failures reported or refusals */
    /* device-ack mode (sim_outbox_device_ack): */
    bool device_ack;        /* slots wait for the committed mark */
    int64_t ack_timeout_us; /* re-send a PUBACKed slot not covered after this */
    int64_t mark;           /* highest committed mark received, -1 none */
    int64_t mark_us;        /* when it last moved (monotonic) */
    uint64_t ack_resends;   /* of resends: for a missing device ack */
    uint64_t connects;      /* connection count seen at the last retry */
    int64_t ack_scan_us;    /* last timeout scan (simulation thread only) */
} sim_outbox;

/* Sets up an outbox of nslot slots of slot_cap bytes publishing to topic
 * over conn.  VG_OK, VG_EINVAL (topic too long, zero sizes), VG_ENOMEM. */
int sim_outbox_init(sim_outbox *b, sim_conn *conn, sim_sync *sync, const char *topic,
                    uint32_t nslot, size_t slot_cap);

/* Frees the slots.  The connection must be closed first (no callback may
 * still reference a slot). */
void sim_outbox_free(sim_outbox *b);

/* Returns a free slot (state FILLING) for the caller to fill, waiting while
 * all are busy and resending failed ones meanwhile.  NULL when *stop became
 * non-zero while waiting (stop may be NULL). */
sim_slot *sim_outbox_acquire(sim_outbox *b, const volatile sig_atomic_t *stop);

/* Publishes a filled slot (payload, len, seq, nsamples set) and counts it. */
void sim_outbox_send(sim_outbox *b, sim_slot *s);

/* Encodes `batch` as (device, seq) into a free slot (waiting for one),
 * appends the payload to `dump` (may be NULL; topic = the outbox topic) and
 * publishes it.  VG_OK; VG_EMISSING when the batch is empty (nothing sent);
 * a codec or I/O error; or VG_OK without sending when *stop became non-zero
 * while waiting for a slot (a run being interrupted). */
int sim_outbox_publish(sim_outbox *b, const sim_batch *batch, const char *device, uint64_t seq,
                       FILE *dump, const volatile sig_atomic_t *stop);

/* Returns an acquired slot unsent (e.g. when encoding failed). */
void sim_outbox_release(sim_outbox *b, sim_slot *s);

/* Renews the connection's Paho client when it wedged (sim_conn_renew),
 * then resends every slot whose publication failed.  Cheap when none did.
 * Call it from the thread that publishes. */
void sim_outbox_retry(sim_outbox *b);

/* Slots still waiting for their PUBACK (device-ack mode: for the mark). */
uint32_t sim_outbox_pending(sim_outbox *b);

/* Switches the outbox to device-level acknowledgement (before the first
 * send): slots are freed by sim_outbox_covered, and PUBACKed slots still
 * uncovered after timeout_us are re-sent by sim_outbox_retry. */
void sim_outbox_device_ack(sim_outbox *b, int64_t timeout_us);

/* vigild's committed mark: frees every PUBACKed slot with seq <= mark and
 * counts it acknowledged (Paho thread; takes the sync lock). */
void sim_outbox_covered(sim_outbox *b, uint64_t mark);

#endif
