/*
 * conf_file.h - read a vigil INI config file into a vg_conf.
 *
 * The file format is INI, parsed by libinih (Debian's libinih-dev): it is
 * small, well kept, handles comments, continuation and BOMs, and keeps us
 * from owning yet another parser.  Section and key meanings come from the
 * core's declarative tables (vg_conf.h); sections this module does not know
 * are handed to an optional callback so that programs (vigild) can add
 * their own ([agent], [mqtt], ...) without a second pass over the file.
 */
#ifndef VG_CONF_FILE_H
#define VG_CONF_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "vg_conf.h"

/* Called for sections other than [detect] / [channel.*]; returns a VG_*
 * status for `key = value`. */
typedef int (*vg_conf_other_fn)(void *user, const char *section, const char *key,
                                const char *value);

/* Loads `path` into *c (which the caller initialised with vg_conf_init()).
 * On error returns a VG_* code and writes "FILE:LINE: message" into
 * err[0..errlen).  `other` may be NULL: unknown sections are then errors. */
int vg_conf_load(vg_conf *c, const char *path, vg_conf_other_fn other, void *user, char *err,
                 size_t errlen);

/* Prints the config reference (sections, keys, types, defaults and
 * descriptions) from the core's tables, as used by --help-config. */
void vg_conf_print_keys(FILE *f);

#endif
