/* mobagen.h is C99: this file is compiled as C. It first defines mobagen_bundle_file
 * the way a `mobagen generate --header` header does (docs/bundle.md), so including
 * both in one translation unit must compile. */
#include <stddef.h>
#ifndef MOBAGEN_BUNDLE_FILE_DEFINED
#define MOBAGEN_BUNDLE_FILE_DEFINED
typedef struct mobagen_bundle_file {
  const char *name;
  const unsigned char *data;
  size_t size;
} mobagen_bundle_file;
#endif
static const unsigned char check_data_0[] = {'{', '}'};
static const mobagen_bundle_file check_files[] = {{"manifest.json", check_data_0, 2}};

#include "mobagen/mobagen.h"

static void check_log(void *user, const char *message) {
  (void)user;
  (void)message;
}

/* Creating a context from the one-file bundle above on the emulator fails with
 * MOBAGEN_ERROR_INVALID_BUNDLE (the manifest has no "format"); returns that code. */
int mobagen_c_header_check(void) {
  mobagen_device *device = NULL;
  mobagen_context *context = NULL;
  mobagen_status status;
  mobagen_shape shape = {0};
  mobagen_context_options options = {0};
  options.log = check_log;
  options.log_user = &shape;
  shape.dtype = MOBAGEN_DTYPE_FP16;
  {
    /* The lookup-only tuning call, with its optional out-parameter, compiles as C. */
    size_t found = 7;
    const char *variant = NULL;
    if (mobagen_load_tuned(NULL, &shape, &found) != MOBAGEN_ERROR_INVALID_ARGUMENT || found != 7 ||
        mobagen_context_variant(NULL, &shape, "pool_keys", &variant) != MOBAGEN_ERROR_INVALID_ARGUMENT)
      return -3;
  }
  if (mobagen_device_open(MOBAGEN_DEVICE_EMULATOR, 0, &device) != MOBAGEN_SUCCESS)
    return -1;
  status = mobagen_context_create_from_files(device, check_files, sizeof check_files / sizeof check_files[0],
                                             &options, &context);
  mobagen_device_destroy(device);
  return context == NULL && shape.batch == 0 ? (int)status : -2;
}
