/*
 * vg_tlsmsg.h - the reason in an OpenSSL error line, for clear messages.
 *
 * Paho hands TLS failures to a callback as OpenSSL's error lines
 * ("...:error:0A000086:SSL routines:tls_post_process_server_certificate:
 * certificate verify failed:../ssl/...").  Every vigil client that speaks
 * TLS shows the user only the reason ("certificate verify failed").  Pure
 * text, O(line length), no allocation.
 */
#ifndef VG_TLSMSG_H
#define VG_TLSMSG_H

#include <stddef.h>

/* Writes into out[0..cap) the reason of OpenSSL error line s[0..len): the
 * fifth ':'-separated field after "error:", or the whole first line when
 * the line has no such field.  Always NUL-terminates (cap > 0). */
void vg_tls_reason(const char *s, size_t len, char *out, size_t cap);

#endif
