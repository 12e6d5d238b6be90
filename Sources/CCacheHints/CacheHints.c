// The functions are static inline in include/CacheHints.h; SwiftPM needs one source file per C target.
#include "CacheHints.h"
