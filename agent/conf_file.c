/*
 * conf_file.c - libinih front end for vg_conf (see conf_file.h).
 * Cost: one pass over the file, one table lookup per key.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <ini.h>

#include "conf_file.h"
#include "vg_error.h"

struct conf_ctx {
    vg_conf *conf;          /* destination */
    vg_conf_other_fn other; /* handler for programs' own sections */
    void *user;             /* its argument */
    int rc;                 /* first error */
    char what[160];         /* description of the first error */
};

/* libinih handler: returns 1 to continue, 0 to make ini_parse report the
 * line of the first error. */
static int conf__handler(void *user, const char *section, const char *key, const char *value)
{
    struct conf_ctx *ctx = user;
    int rc;
    if (strcmp(section, "detect") == 0 || strncmp(section, "channel.", 8) == 0)
        rc = vg_conf_set(ctx->conf, section, key, value);
    else if (ctx->other)
        rc = ctx->other(ctx->user, section, key, value);
    else
        rc = VG_ECHANNEL;
    if (rc == VG_OK)
        return 1;
    if (ctx->rc == VG_OK) {
        ctx->rc = rc;
        if (rc == VG_ECHANNEL)
            snprintf(ctx->what, sizeof ctx->what, "unknown section [%s]", section);
        else if (rc == VG_EORDER)
            snprintf(ctx->what, sizeof ctx->what,
                     "[%s] must come before every [channel.NAME] section", section);
        else if (rc == VG_EMISSING)
            snprintf(ctx->what, sizeof ctx->what, "unknown key '%s' in [%s]", key, section);
        else
            snprintf(ctx->what, sizeof ctx->what, "[%s] %s = %s: %s", section, key, value,
                     vg_strerror(rc));
    }
    return 0;
}

int vg_conf_load(vg_conf *c, const char *path, vg_conf_other_fn other, void *user, char *err,
                 size_t errlen)
{
    struct conf_ctx ctx = {.conf = c, .other = other, .user = user, .rc = VG_OK};
    int line = ini_parse(path, conf__handler, &ctx);
    if (line == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return VG_EINVAL;
    }
    if (line == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
        return VG_ENOMEM;
    }
    if (line > 0) {
        snprintf(err, errlen, "%s:%d: %s", path, line, ctx.rc != VG_OK ? ctx.what : "syntax error");
        return ctx.rc != VG_OK ? ctx.rc : VG_ESYNTAX;
    }
    const char *what;
    if (vg_conf_validate(c, &what) != VG_OK) {
        snprintf(err, errlen, "%s: inconsistent settings for %s", path, what);
        return VG_EINVAL;
    }
    return VG_OK;
}

static void conf__print_table(FILE *f, const char *section, const vg_conf_key *t)
{
    static const char *const type_names[] = {"number", "uint32", "uint8", "bool", "seconds"};
    fprintf(f, "%s\n", section);
    for (; t->name; t++)
        fprintf(f, "  %-14s %-8s %-6s %s\n", t->name, type_names[t->type], t->dflt, t->desc);
    fputc('\n', f);
}

void vg_conf_print_keys(FILE *f)
{
    fputs("vigil config keys (INI).  key  type  default  meaning\n\n", f);
    conf__print_table(f, "[detect]", vg_conf_detect_keys);
    conf__print_table(f, "[channel.NAME] and [channel.*] (envelope keys only for *)",
                      vg_conf_channel_keys);
}
