/*===- mobagen.h - The mobagen runtime's C API ------------------------------===*
 *
 * Runs a MoBA configuration's kernels, from a kernel bundle (a directory written
 * by `mobagen generate`, or the files a `--header` header embeds), on a CUDA GPU
 * or on the PTX emulator. C99 and C++; no LLVM or MLIR needed. docs/api.md is
 * the guide: shapes, alignment, error codes, thread safety.
 *
 * Every fallible function returns a mobagen_status; on an error,
 * mobagen_last_error() (per thread) says what failed, with which value and which
 * limit. Nothing aborts on bad input.
 *
 *===----------------------------------------------------------------------===*/
#ifndef MOBAGEN_MOBAGEN_H
#define MOBAGEN_MOBAGEN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MOBAGEN_VERSION_MAJOR 0
#define MOBAGEN_VERSION_MINOR 1
#define MOBAGEN_VERSION_PATCH 0

/* One file of a kernel bundle held in memory; the same type the headers of
 * `mobagen generate --header NAME` define (docs/bundle.md). */
#ifndef MOBAGEN_BUNDLE_FILE_DEFINED
#define MOBAGEN_BUNDLE_FILE_DEFINED
typedef struct mobagen_bundle_file {
  const char *name;          /* file name inside the bundle, e.g. "manifest.json" */
  const unsigned char *data; /* its bytes (not NUL-terminated) */
  size_t size;
} mobagen_bundle_file;
#endif

typedef enum mobagen_status {
  MOBAGEN_SUCCESS = 0,
  MOBAGEN_ERROR_INVALID_ARGUMENT = 1,   /* a null pointer, an unknown enum value, a negative or
                                           inconsistent size */
  MOBAGEN_ERROR_MISALIGNED = 2,         /* a device pointer not aligned as its tensor needs */
  MOBAGEN_ERROR_SHAPE_MISMATCH = 3,     /* heads, head dim or dtype differ from the bundle's config */
  MOBAGEN_ERROR_WORKSPACE_TOO_SMALL = 4,/* workspace_bytes below mobagen_workspace_size */
  MOBAGEN_ERROR_INVALID_BUNDLE = 5,     /* missing, malformed or unsupported bundle */
  MOBAGEN_ERROR_CONFIG_MISMATCH = 6,    /* the bundle's config or target is not the one requested */
  MOBAGEN_ERROR_UNSUPPORTED_DEVICE = 7, /* the device cannot run the bundle's target */
  MOBAGEN_ERROR_DEVICE_UNAVAILABLE = 8, /* no such device (no CUDA driver or GPU) */
  MOBAGEN_ERROR_DEVICE = 9,             /* the device failed: memory, module load, launch */
  MOBAGEN_ERROR_IO = 10                 /* the cache directory cannot be used */
} mobagen_status;

typedef enum mobagen_device_kind {
  MOBAGEN_DEVICE_AUTO = 0,    /* the first CUDA GPU if one is usable, else the emulator */
  MOBAGEN_DEVICE_CUDA = 1,
  MOBAGEN_DEVICE_EMULATOR = 2 /* the PTX emulator, on the CPU */
} mobagen_device_kind;

typedef enum mobagen_dtype { MOBAGEN_DTYPE_BF16 = 0, MOBAGEN_DTYPE_FP16 = 1 } mobagen_dtype;

/* A device address (a CUdeviceptr on CUDA) and a stream (a CUstream; 0 = default). */
typedef uint64_t mobagen_devptr;
typedef uint64_t mobagen_stream;

typedef struct mobagen_device mobagen_device;
typedef struct mobagen_context mobagen_context;

/* A MoBA configuration, as a bundle's manifest states it. */
typedef struct mobagen_config {
  int64_t block_size;
  int64_t top_k;
  int64_t head_dim;
  int64_t num_q_heads;
  int64_t num_kv_heads;
  int causal;          /* 1 causal, 0 non-causal */
  mobagen_dtype dtype;
  char target[16];     /* "sm_80", "sm_90", "sm_90a"; as an expected config, "" accepts any */
  int has_scale;       /* 0: scale is 1/sqrt(head_dim) */
  double scale;
} mobagen_config;

/* A varlen batch (FlashAttention's layout): q [total_q, num_q_heads, head_dim],
 * k and v [total_k, num_kv_heads, head_dim], cu_seqlens_q / cu_seqlens_k int32
 * [batch + 1]; out like q, lse f32 [num_q_heads, total_q]. The heads, head_dim and
 * dtype must equal the bundle's config. max_seqlen_* must be at least the longest
 * sequence's length (an over-estimate costs idle programs, an under-estimate
 * computes wrong results). */
typedef struct mobagen_shape {
  int64_t batch;
  int64_t total_q;
  int64_t total_k;
  int64_t max_seqlen_q;
  int64_t max_seqlen_k;
  int64_t num_q_heads;
  int64_t num_kv_heads;
  int64_t head_dim;
  mobagen_dtype dtype;
} mobagen_shape;

/* Receives one line (NUL-terminated, no newline, valid during the call only) per
 * tuning-cache entry that mobagen_tune or mobagen_load_tuned found and did not
 * trust: corrupt, truncated, of another format or key, unreadable or not a
 * regular file. The line names the entry's path, the kernel and the reason, e.g.
 * "tuning-cache entry DIR/....entry (gate_topk) rejected: checksum mismatch;
 * tuning again" ("...; the default variant runs" from mobagen_load_tuned).
 * Called on the thread that called the function. */
typedef void (*mobagen_log_fn)(void *user, const char *message);

/* Zero-initialize it ({0}) and set the fields you need: members are only ever
 * added at the end, and a zero member keeps its default. */
typedef struct mobagen_context_options {
  const char *cache_dir;                 /* NULL: no persistent tuning cache */
  const mobagen_config *expected_config; /* NULL: accept the bundle's config */
  mobagen_log_fn log;                    /* NULL: rejected cache entries are silent */
  void *log_user;                        /* passed to log as `user` */
} mobagen_context_options;

/* "0.1.0". */
const char *mobagen_version(void);
/* "MOBAGEN_ERROR_MISALIGNED", ...; "unknown status" for other values. */
const char *mobagen_status_name(mobagen_status status);
/* The message of the last failed call on this thread ("" if none); valid until the
 * thread's next failing call. */
const char *mobagen_last_error(void);

/* Devices. Contexts keep their device alive: destroying a device handle that
 * contexts use is allowed; the device goes with its last context. */
mobagen_status mobagen_device_open(mobagen_device_kind kind, int ordinal, mobagen_device **device);
void mobagen_device_destroy(mobagen_device *device);
/* "emulator" or the GPU's name; owned by the device. */
const char *mobagen_device_name(const mobagen_device *device);
mobagen_status mobagen_device_malloc(mobagen_device *device, size_t bytes, mobagen_devptr *ptr);
mobagen_status mobagen_device_free(mobagen_device *device, mobagen_devptr ptr);
mobagen_status mobagen_memcpy_to_device(mobagen_device *device, mobagen_devptr dst, const void *src, size_t bytes);
mobagen_status mobagen_memcpy_to_host(mobagen_device *device, void *dst, mobagen_devptr src, size_t bytes);
mobagen_status mobagen_device_synchronize(mobagen_device *device, mobagen_stream stream);

/* Contexts: one bundle on one device. options may be NULL. */
mobagen_status mobagen_context_create(mobagen_device *device, const char *bundle_dir,
                                      const mobagen_context_options *options, mobagen_context **context);
mobagen_status mobagen_context_create_from_files(mobagen_device *device, const mobagen_bundle_file *files,
                                                 size_t file_count, const mobagen_context_options *options,
                                                 mobagen_context **context);
void mobagen_context_destroy(mobagen_context *context);
mobagen_status mobagen_context_config(const mobagen_context *context, mobagen_config *config);
/* XXH3-64 of the manifest and every file it names (docs/bundle.md). */
mobagen_status mobagen_context_bundle_hash(const mobagen_context *context, uint64_t *hash);

/* Bytes of workspace a forward of this shape needs (0 for batch 0). */
mobagen_status mobagen_workspace_size(mobagen_context *context, const mobagen_shape *shape, size_t *bytes);

/* Enqueues the MoBA forward on `stream`. Alignment: q, k, v, out and workspace 16
 * bytes; lse, cu_seqlens_q, cu_seqlens_k 4 bytes. batch 0 is a no-op (the pointers
 * are not looked at). */
mobagen_status mobagen_forward(mobagen_context *context, const mobagen_shape *shape, mobagen_devptr q,
                               mobagen_devptr k, mobagen_devptr v, mobagen_devptr cu_seqlens_q,
                               mobagen_devptr cu_seqlens_k, mobagen_devptr out, mobagen_devptr lse,
                               mobagen_devptr workspace, size_t workspace_bytes, mobagen_stream stream);

/* Chooses each kernel's variant for the shape bucket of `shape` (batch and the
 * longest sequences rounded up to powers of two) ahead of the first forward, and
 * loads the chosen modules. Every variant of each kernel is measured on random
 * inputs of the bucket's shape (on a GPU with CUDA events, on the emulator with
 * its cost model) and the fastest kept; with a cache_dir the choice persists
 * there and a later context reads it back without measuring. Variants that fail
 * to load or run are skipped; an error only if all of a kernel's fail (the
 * message names each reason). Untuned buckets run each kernel's first variant. */
mobagen_status mobagen_tune(mobagen_context *context, const mobagen_shape *shape);
/* Applies the choices that mobagen_tune stored in the context's cache_dir for
 * the shape bucket of `shape` (the same key and checks), and loads their modules;
 * never measures and never writes the cache, so a host can use tuning done ahead
 * of time (`mobagen tune`) without risking a measurement. A kernel without a
 * valid entry keeps the variant it had for the bucket (its first, unless this
 * context tuned the bucket); each entry found and not trusted goes to
 * options.log ("...; the default variant runs"). *found (found may be NULL): how
 * many kernels got their choice from the cache, 0 to 5 (0: nothing is cached for
 * this configuration, device and bucket). Without a cache_dir it is a no-op
 * success, *found = 0. The shape is checked as mobagen_tune checks it. */
mobagen_status mobagen_load_tuned(mobagen_context *context, const mobagen_shape *shape, size_t *found);
/* The id (the manifest's, e.g. "m16w4") of the variant of `kernel` that a
 * forward of `shape` runs now: the pinned one, else the bucket's tuned or loaded
 * choice, else the first. *variant is owned by the context (valid until it is
 * destroyed). */
mobagen_status mobagen_context_variant(const mobagen_context *context, const mobagen_shape *shape,
                                       const char *kernel, const char **variant);
/* Times the forward (arguments as mobagen_forward, whose checks and error codes
 * apply): one checked run, `warmup` unmeasured runs, then `repetitions` measured
 * ones; *median is the median sample (the lower middle one for an even count) in
 * *unit: "ms" (CUDA events) or "model-us" (the emulator's deterministic cost
 * model, not a time). Synchronizes `stream`. */
mobagen_status mobagen_benchmark_forward(mobagen_context *context, const mobagen_shape *shape, mobagen_devptr q,
                                         mobagen_devptr k, mobagen_devptr v, mobagen_devptr cu_seqlens_q,
                                         mobagen_devptr cu_seqlens_k, mobagen_devptr out, mobagen_devptr lse,
                                         mobagen_devptr workspace, size_t workspace_bytes, mobagen_stream stream,
                                         int warmup, int repetitions, double *median, const char **unit);

/* Runs `variant` (its manifest id) of `kernel` ("pool_keys", "gate_topk",
 * "route_scatter", "sparse_attention_blocks", "sparse_attention_merge") for every shape, over any tuned choice; NULL variant
 * returns the kernel to the tuned / default choice. */
mobagen_status mobagen_context_set_variant(mobagen_context *context, const char *kernel, const char *variant);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MOBAGEN_MOBAGEN_H */
