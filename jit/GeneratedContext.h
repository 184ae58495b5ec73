//===- GeneratedContext.h - The cache key of a generated bundle -------------===//
#pragma once

#include <string>

#include "compiler/Pipeline/MobaKernels.h"

namespace mobagen::jit {

/// The DiskCache key under which mobagen_context_create_for_config keeps the
/// bundle of `config`: the configuration, the bundle format, mobagen's and LLVM's
/// versions.
std::string bundleCacheKey(const compiler::MobaKernelConfig &config);

} // namespace mobagen::jit
