/*
 * vg_conf.h - declarative configuration tables (string -> struct field).
 *
 * Every setting the detection pipeline takes from a config file is one row
 * of a table: name, type, offset into its struct, default (as text, shown
 * by --help-config and checked against the code's defaults by the tests)
 * and a description.  Parsing a setting is one table lookup plus one typed
 * conversion; there are no per-key if-chains.  The file format (INI) and
 * the file reading belong to the programs; this module only converts.
 *
 * Sections understood by vg_conf_set():
 *   [detect]          engine-wide settings and detector defaults
 *   [channel.NAME]    one channel: envelope, window, local detector values
 *   [channel.*]       envelope of channels not listed; it must come before
 *                     any [channel.NAME] (each listed channel starts from
 *                     it), else vg_conf_set() returns VG_EORDER
 */
#ifndef VG_CONF_H
#define VG_CONF_H

#include <stddef.h>

#include "vg_engine.h"

#define VG_CONF_MAX_CHANNEL 256

enum vg_conf_type {
    VG_CT_DOUBLE, /* any finite number, or inf / -inf */
    VG_CT_U32,    /* unsigned integer < 2^32 */
    VG_CT_U8,     /* unsigned integer < 256 */
    VG_CT_BOOL,   /* true/false, yes/no, on/off, 1/0 */
    VG_CT_SECONDS /* seconds (fractional ok) stored as int64 microseconds */
};

typedef struct vg_conf_key {
    const char *name; /* key as written in the file */
    int type;         /* enum vg_conf_type */
    size_t offset;    /* byte offset of the field in its struct */
    const char *dflt; /* default, as text */
    const char *desc; /* one line of documentation */
} vg_conf_key;

/* A whole detection configuration: engine settings + channel table. */
typedef struct vg_conf {
    vg_engine_config engine;                  /* engine.chan points at chan[] */
    vg_chan_config chan[VG_CONF_MAX_CHANNEL]; /* listed channels */
} vg_conf;

/* Tables, NULL-name terminated: [detect] keys (offsets into
 * vg_engine_config) and [channel.*] keys (offsets into vg_chan_config). */
extern const vg_conf_key vg_conf_detect_keys[];
extern const vg_conf_key vg_conf_channel_keys[];

/* Fills *c with the defaults: no channels, vg_engine_config_init().  The
 * channel slots are left unset (each is cleared when its channel is listed;
 * nothing reads past engine.nchan), so their pages stay untouched. */
void vg_conf_init(vg_conf *c);

/* Converts `value` by key `k`'s type into base + k->offset.  VG_ESYNTAX
 * when it does not parse, VG_EINVAL when out of range. */
int vg_conf_convert(const vg_conf_key *k, void *base, const char *value);

/* Finds `name` in table `t`; NULL when absent. */
const vg_conf_key *vg_conf_find(const vg_conf_key *t, const char *name);

/* Applies one `key = value` of `section`.  VG_ECHANNEL for an unknown
 * section, VG_EMISSING for an unknown key, VG_EINVAL for a bad channel
 * name, VG_ENOSPC when too many channels, VG_EORDER for [channel.*] after
 * a listed channel, else vg_conf_convert()'s code. */
int vg_conf_set(vg_conf *c, const char *section, const char *key, const char *value);

/* Final consistency checks after all settings (debounce n <= m, lo <= hi,
 * alert_off <= alert_on, ...).  VG_EINVAL with *what naming the setting. */
int vg_conf_validate(const vg_conf *c, const char **what);

#endif
