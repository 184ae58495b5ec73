/*===- mobagen_jit.h - Contexts for any configuration, generated at run time -===*
 *
 * The second embedding mode (docs/api.md): a host that links mobagen_jit (the
 * compiler: MLIR and LLVM) beside the runtime creates a context for any
 * supported configuration. The configuration's bundle (every tuning variant of
 * the three kernels) is generated on first use and kept in the context options'
 * cache directory, keyed by the configuration, mobagen's version and LLVM's;
 * a later process loads it from there in milliseconds. An entry that is corrupt,
 * truncated or not a valid bundle is regenerated, never trusted.
 *
 *===----------------------------------------------------------------------===*/
#ifndef MOBAGEN_MOBAGEN_JIT_H
#define MOBAGEN_MOBAGEN_JIT_H

#include "mobagen/mobagen.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Creates a context for `config` on `device`. config->target "" means "sm_80"
 * (PTX that every supported GPU, sm_80 and later, JIT-compiles). options may be
 * NULL; with options->cache_dir NULL the bundle is generated and not kept.
 * An unsupported configuration is MOBAGEN_ERROR_INVALID_ARGUMENT with the
 * verifier's message. */
mobagen_status mobagen_context_create_for_config(mobagen_device *device, const mobagen_config *config,
                                                 const mobagen_context_options *options,
                                                 mobagen_context **context);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOBAGEN_MOBAGEN_JIT_H */
