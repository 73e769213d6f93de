/*
 * import.h - load a device's spool file (docs/SPOOL.md), carried by other
 * means than MQTT, into the warehouse through the same path as ingest.
 *
 * The spool is opened read-only (never modified, never created) and its
 * application_id / user_version checked first: a file of the wrong schema
 * is refused with a message naming it, before anything is written.  A
 * spool carries no device id (it belongs to one device): the id is taken
 * from --device or else from the first record whose payload decodes.
 *
 * Cost: one pass over the spool's records in (kind, seq) order; one
 * warehouse transaction per VB_IMPORT_TX records.  Re-importing is a no-op
 * (records are claimed by (device, kind, seq)).
 */
#ifndef VB_IMPORT_H
#define VB_IMPORT_H

#include <stddef.h>

#include "ingest.h"

#define VB_IMPORT_TX 2048 /* records per warehouse transaction */

/* Imports spool `path` through `g` (which writes into its warehouse).
 * `device` may be NULL (inferred).  VG_ESCHEMA for a file that is not a
 * spool or of an unsupported version, VG_EIO for SQLite failures (message
 * in err); records refused by the ingest path are counted, not errors. */
int vb_import_spool(vb_ingest *g, vb_wh *w, const char *path, const char *device, char *err,
                    size_t errlen);

#endif
