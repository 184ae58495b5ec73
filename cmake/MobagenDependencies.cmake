# Finds every external dependency of mobagen in one place.
#
# Runtime side (always): fmt, CLI11, xxHash, and the CUDA toolkit's headers (cuda.h is only read;
# libcuda.so.1 is never linked, the runtime loads it with dlopen).
# Compiler side (MOBAGEN_BUILD_COMPILER): LLVM/MLIR 22, linked as the shared libLLVM.so /
# libMLIR.so rather than hundreds of static archives.

#
# A machine without the fmt, CLI11, nlohmann_json or xxHash dev packages (a lent GPU machine,
# say) can build the runtime side from header-only copies: MOBAGEN_CARRIED_HEADERS names a
# directory holding fmt/, CLI/, nlohmann/ and xxhash.h (scripts/pack-gpu-check.sh gathers it).
# Each package is taken from the system when found there, else from that directory;
# MOBAGEN_PREFER_CARRIED_HEADERS takes all four from it (how the GPU check's dry run proves
# the copies are complete on a machine that has the packages).

set(MOBAGEN_CARRIED_HEADERS "" CACHE PATH
  "Header-only fmt, CLI11, nlohmann_json and xxHash for machines without their dev packages")
option(MOBAGEN_PREFER_CARRIED_HEADERS "Take fmt, CLI11, nlohmann_json and xxHash from MOBAGEN_CARRIED_HEADERS" OFF)

# Defines `target` as the header-only copy of `package` in MOBAGEN_CARRIED_HEADERS.
function(mobagen_use_carried_headers package target header definition)
  if(NOT MOBAGEN_CARRIED_HEADERS)
    message(FATAL_ERROR "mobagen needs ${package}: install its development package, or pass "
      "-DMOBAGEN_CARRIED_HEADERS=DIR with header-only copies (scripts/pack-gpu-check.sh)")
  endif()
  if(NOT EXISTS "${MOBAGEN_CARRIED_HEADERS}/${header}")
    message(FATAL_ERROR "mobagen needs ${package}: ${MOBAGEN_CARRIED_HEADERS}/${header} does not exist")
  endif()
  add_library(${target} INTERFACE IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${MOBAGEN_CARRIED_HEADERS}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${MOBAGEN_CARRIED_HEADERS}"
    INTERFACE_COMPILE_DEFINITIONS "${definition}")
  message(STATUS "Using ${package} headers from ${MOBAGEN_CARRIED_HEADERS}")
endfunction()

if(NOT MOBAGEN_PREFER_CARRIED_HEADERS)
  find_package(fmt QUIET)
  find_package(CLI11 QUIET)
  find_package(nlohmann_json 3 QUIET)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(XXHASH QUIET IMPORTED_TARGET libxxhash)
  endif()
endif()
if(NOT TARGET fmt::fmt)
  # fmt compiles its implementation into every user with FMT_HEADER_ONLY.
  mobagen_use_carried_headers(fmt fmt::fmt fmt/format-inl.h FMT_HEADER_ONLY=1)
endif()
if(NOT TARGET CLI11::CLI11)
  mobagen_use_carried_headers(CLI11 CLI11::CLI11 CLI/CLI.hpp "")
endif()
if(NOT TARGET nlohmann_json::nlohmann_json)
  mobagen_use_carried_headers(nlohmann_json nlohmann_json::nlohmann_json nlohmann/json.hpp "")
endif()
if(NOT TARGET PkgConfig::XXHASH)
  # XXH_INLINE_ALL: every function static inline, no library to link.
  mobagen_use_carried_headers(xxHash PkgConfig::XXHASH xxhash.h XXH_INLINE_ALL)
endif()
find_package(Threads REQUIRED)
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
