#ifndef SPANAUDIT_CACHE_HINTS_H
#define SPANAUDIT_CACHE_HINTS_H

#include <stddef.h>

// What Swift cannot spell about caches: the CPU's (a software prefetch) and the kernel's page
// cache (a read that does not wait for the disk).

// Prefetch: flows end in batches (the tracker's sweep finds every flow whose timer ran out, and the
// end of a capture ends them all); a flow that ended by going quiet has all its state out of the
// caches, so the tracker asks for the next flows' state while it still finishes the current one
// (FlowTracker.endBatch). Also the next new flow's slot (FlowTracker.flow(for:)) and the next
// capture record's first bytes (CaptureReader).
//
// A prefetch is a hint: it never faults, whatever the address, and changes no value.

/// Asks for the `bytes` bytes at `address`, one cache line at a time, for reading.
static inline void spanaudit_prefetch(const void *address, size_t bytes) {
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

/// Reads up to `count` bytes at the descriptor's offset (advancing it) only as far as they are in
/// the page cache: `preadv2(..., RWF_NOWAIT)`, which the C library declares only under
/// _GNU_SOURCE (CacheHints.c defines it). Returns the count read (0 at the end of the file, fewer
/// than asked when the cached part ends), or minus the errno value: -EAGAIN when the first byte is
/// not cached, -EOPNOTSUPP (or -EINVAL, -ENOSYS) where the kernel or file system cannot.
long spanaudit_read_cached(int fd, void *buffer, size_t count);

#endif
