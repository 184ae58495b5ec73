//===- LastError.h - The C API's per-thread error, for its other libraries --===//
#pragma once

#include <string>

#include "mobagen/mobagen.h"

namespace mobagen::api {

/// Records `message` as this thread's mobagen_last_error() and returns `code`.
mobagen_status setLastError(mobagen_status code, std::string message);

} // namespace mobagen::api
