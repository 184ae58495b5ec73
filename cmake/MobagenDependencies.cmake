# Finds every external dependency of mobagen in one place.
#
# Runtime side (always): fmt, CLI11, xxHash, and the CUDA toolkit's headers (cuda.h is only read;
# libcuda.so.1 is never linked, the runtime loads it with dlopen).
# Compiler side (MOBAGEN_BUILD_COMPILER): LLVM/MLIR 22, linked as the shared libLLVM.so /
# libMLIR.so rather than hundreds of static archives.

find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(CUDAToolkit REQUIRED)

if(MOBAGEN_BUILD_COMPILER)
  # MLIRConfigVersion.cmake accepts only exact versions, so the major is checked here.
  find_package(MLIR REQUIRED CONFIG HINTS /usr/lib/llvm-22/lib/cmake/mlir)
  if(NOT LLVM_VERSION_MAJOR EQUAL 22)
    message(FATAL_ERROR "mobagen needs LLVM/MLIR 22; found ${LLVM_PACKAGE_VERSION} in ${MLIR_DIR}")
  endif()
  message(STATUS "Using MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")

  # Link libMLIR.so / libLLVM.so through mlir_target_link_libraries().
  set(MLIR_LINK_MLIR_DYLIB ON)
  set(LLVM_LINK_LLVM_DYLIB ON)

  list(APPEND CMAKE_MODULE_PATH "${MLIR_CMAKE_DIR}" "${LLVM_CMAKE_DIR}")
  set(LLVM_RUNTIME_OUTPUT_INTDIR "${CMAKE_BINARY_DIR}/bin")
  set(LLVM_LIBRARY_OUTPUT_INTDIR "${CMAKE_BINARY_DIR}/lib")
  set(MLIR_BINARY_DIR "${CMAKE_BINARY_DIR}")
  include(TableGen)
  include(AddLLVM)
  include(AddMLIR)

  # LLVM's headers and definitions only for the targets that use them (via
  # mobagen_use_mlir), so the runtime keeps its own flags and its exceptions.
  add_library(mobagen_mlir_flags INTERFACE)
  target_include_directories(mobagen_mlir_flags SYSTEM INTERFACE
    ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
  separate_arguments(_llvm_definitions NATIVE_COMMAND "${LLVM_DEFINITIONS}")
  target_compile_options(mobagen_mlir_flags INTERFACE ${_llvm_definitions} -fno-exceptions)
  # libMLIR.so resolves its LLVM symbols from libLLVM.so, which the linker wants named.
  target_link_libraries(mobagen_mlir_flags INTERFACE LLVM)

  # Debian ships lit as bin/lit, not the bin/llvm-lit that LLVMConfig names.
  set(LLVM_EXTERNAL_LIT "${LLVM_TOOLS_BINARY_DIR}/lit" CACHE STRING "Command used to spawn lit")
endif()

# Common warnings for mobagen's own code.
add_library(mobagen_warnings INTERFACE)
target_compile_options(mobagen_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter
  -Wno-missing-field-initializers)
