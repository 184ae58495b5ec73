# Sanitizer and fuzzing instrumentation for a whole build tree (docs/reliability.md).
#
# MOBAGEN_SANITIZE=address,undefined (build-asan/) or thread (build-tsan/) instruments every
# target; a report stops the process (halt_on_error, no UBSan recovery), so a test that
# triggers one fails. MOBAGEN_BUILD_FUZZERS adds libFuzzer's coverage instrumentation
# (-fsanitize=fuzzer-no-link) to every library, so the fuzzers see the edges of the code they
# drive and not only of their own entry points; tests/fuzz links the libFuzzer driver itself.
if(MOBAGEN_SANITIZE OR MOBAGEN_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MOBAGEN_SANITIZE and MOBAGEN_BUILD_FUZZERS need clang "
      "(configure with -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++); found ${CMAKE_CXX_COMPILER_ID}")
  endif()
endif()
set(_mobagen_sanitize "${MOBAGEN_SANITIZE}")
if(MOBAGEN_BUILD_FUZZERS)
  if(NOT _mobagen_sanitize)
    set(_mobagen_sanitize "address,undefined")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
if(_mobagen_sanitize)
  add_compile_options(-fsanitize=${_mobagen_sanitize} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${_mobagen_sanitize})
  if(_mobagen_sanitize MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
