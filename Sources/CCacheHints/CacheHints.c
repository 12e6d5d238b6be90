// spanaudit_prefetch is static inline in include/CacheHints.h; spanaudit_read_cached needs
// _GNU_SOURCE for preadv2 and RWF_NOWAIT, so it lives here, compiled with it.
#define _GNU_SOURCE
#include <errno.h>
#include <sys/uio.h>
#include "CacheHints.h"

long spanaudit_read_cached(int fd, void *buffer, size_t count) {
#ifdef RWF_NOWAIT
    struct iovec vector = { buffer, count };
    ssize_t n = preadv2(fd, &vector, 1, -1, RWF_NOWAIT);
    return n < 0 ? -(long)errno : (long)n;
#else
    (void)fd; (void)buffer; (void)count;
    return -(long)EOPNOTSUPP;
#endif
}
