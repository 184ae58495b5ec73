// A chip or PTX feature LLVM's NVPTX backend does not know is an error naming it
// (LLVM itself would only warn and fall back to a default target).
// RUN: not mobagen-translate --mlir-to-ptx --ptx-chip=sm_80 --ptx-features=+ptx999 %s 2>&1 | FileCheck %s --check-prefix=FEATURE
// RUN: not mobagen-translate --mlir-to-ptx --ptx-chip=sm_80 --ptx-features=ptx80 %s 2>&1 | FileCheck %s --check-prefix=NOSIGN
// RUN: not mobagen-translate --mlir-to-cubin-resources --ptx-chip=sm_12345 %s 2>&1 | FileCheck %s --check-prefix=CHIP
// FEATURE: error: unknown NVPTX feature '+ptx999' (features look like +ptx80)
// FEATURE-NOT: PTX
// NOSIGN: error: unknown NVPTX feature 'ptx80' (features look like +ptx80)
// CHIP: error: unknown GPU architecture 'sm_12345' (e.g. sm_80, sm_90, sm_90a)

gpu.module @kernels {
  llvm.func @empty() attributes {nvvm.kernel} {
    llvm.return
  }
}
