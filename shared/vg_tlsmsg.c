/* vg_tlsmsg.c - reason of an OpenSSL error line (see vg_tlsmsg.h). */
#include <stdio.h>
#include <string.h>

#include "vg_tlsmsg.h"

void vg_tls_reason(const char *s, size_t len, char *out, size_t cap)
{
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(len < sizeof line ? len : sizeof line - 1), s);
    line[strcspn(line, "\r\n")] = '\0';
    const char *why = line;
    char *p = strstr(line, "error:");
    for (int field = 0; field < 4 && p; field++) /* error: CODE: LIB: FUNC: */
        p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL;
    if (p && *p) {
        why = p;
        p[strcspn(p, ":")] = '\0';
    }
    snprintf(out, cap, "%s", why);
}
