/*
 * shard.h - partition devices over N workers by a stable hash of the id.
 *
 * A device belongs to shard FNV-1a-64(id) mod N.  The hash depends only on
 * the id's bytes (no seed, no platform dependence), so shard I of N picks
 * the same devices on every machine and every run, and shards 0..N-1
 * together pick every device exactly once.  Cost: O(length of the id).
 */
#ifndef VB_SHARD_H
#define VB_SHARD_H

#include <stdint.h>

/* A shard selection: index `i` of `n` (n = 1: everything). */
typedef struct vb_shard {
    uint32_t i; /* 0-based shard index, < n */
    uint32_t n; /* number of shards, >= 1 */
} vb_shard;

/* 64-bit FNV-1a of the NUL-terminated string s. */
uint64_t vb_shard_hash(const char *s);

/* True when `device` belongs to shard *sh. */
int vb_shard_owns(const vb_shard *sh, const char *device);

/* Parses "I/N" (0 <= I < N <= 65536).  VG_ESYNTAX / VG_EINVAL. */
int vb_shard_parse(const char *text, vb_shard *out);

#endif
