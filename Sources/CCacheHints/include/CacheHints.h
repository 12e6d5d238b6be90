#ifndef SPANAUDIT_CACHE_HINTS_H
#define SPANAUDIT_CACHE_HINTS_H

#include <stddef.h>

// Software prefetch, which Swift has no spelling for. Flows end in batches (the tracker's sweep
// finds every flow whose timer ran out, and the end of a capture ends them all); a flow that ended
// by going quiet has all its state out of the caches, so the tracker asks for the next flows'
// state while it still finishes the current one (FlowTracker.endBatch).
//
// A prefetch is a hint: it never faults, whatever the address, and changes no value.

/// Asks for the `bytes` bytes at `address`, one cache line at a time, for reading.
static inline void spanaudit_prefetch(const void *address, size_t bytes) {
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes; offset += 64) __builtin_prefetch(p + offset, 0, 3);
}

#endif
