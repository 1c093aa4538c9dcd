#pragma once

// Clang thread-safety annotations (checked by the `clang` preset with -Wthread-safety); no-ops elsewhere.

#if defined(__clang__)
#define FMQ_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define FMQ_THREAD_ANNOTATION(x)
#endif

#define FMQ_CAPABILITY(x) FMQ_THREAD_ANNOTATION(capability(x))
#define FMQ_SCOPED_CAPABILITY FMQ_THREAD_ANNOTATION(scoped_lockable)
#define FMQ_GUARDED_BY(x) FMQ_THREAD_ANNOTATION(guarded_by(x))
#define FMQ_PT_GUARDED_BY(x) FMQ_THREAD_ANNOTATION(pt_guarded_by(x))
#define FMQ_REQUIRES(...) FMQ_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
#define FMQ_EXCLUDES(...) FMQ_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
#define FMQ_ACQUIRE(...) FMQ_THREAD_ANNOTATION(acquire_capability(__VA_ARGS__))
#define FMQ_RELEASE(...) FMQ_THREAD_ANNOTATION(release_capability(__VA_ARGS__))
#define FMQ_TRY_ACQUIRE(...) FMQ_THREAD_ANNOTATION(try_acquire_capability(__VA_ARGS__))
#define FMQ_NO_THREAD_SAFETY_ANALYSIS FMQ_THREAD_ANNOTATION(no_thread_safety_analysis)
