# Shared build rules: warnings, sanitizers, and one-line helpers for modules and tests.

set(SY_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wcast-qual -Wformat=2 -Wmissing-declarations)
if(SY_WERROR)
  list(APPEND SY_WARNINGS -Werror)
endif()

# asio picks aligned_alloc or operator new for handler memory by whether a libstdc++ header
# came before its own in the translation unit, so two TUs can disagree and one frees what
# the other allocated (ASan: alloc-dealloc-mismatch). One choice for every TU.
add_compile_definitions(ASIO_DISABLE_STD_ALIGNED_ALLOC)

if(SY_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(SY_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  # TSan does not model atomic_thread_fence; asio's cross-thread hand-offs go through its
  # scheduler's mutex, which TSan does see, so the fences can go.
  add_compile_definitions(ASIO_DISABLE_FENCED_BLOCK)
  add_link_options(-fsanitize=thread)
elseif(NOT SY_SANITIZE STREQUAL "")
  message(FATAL_ERROR "SY_SANITIZE must be '', 'address' or 'thread', not '${SY_SANITIZE}'")
endif()

# sy_module(NAME SOURCES ... DEPS ...): the library sy_<NAME> for src/<NAME>.
# Headers are included as "<module>/<file>.h" from src/.
function(sy_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(ARG_SOURCES)
    add_library(sy_${name} STATIC ${ARG_SOURCES})
    target_include_directories(sy_${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
    target_compile_options(sy_${name} PRIVATE ${SY_WARNINGS})
    target_link_libraries(sy_${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(sy_${name} INTERFACE)
    target_include_directories(sy_${name} INTERFACE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(sy_${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()

# Sanitized code runs several times slower: tests that bound elapsed time multiply their
# bounds by SY_TEST_TIME_FACTOR, so a bound still catches a quadratic algorithm without
# failing a correct one under a sanitizer.
if(SY_SANITIZE STREQUAL "")
  set(SY_TEST_TIME_FACTOR 1)
else()
  set(SY_TEST_TIME_FACTOR 10)
endif()

# sy_unit_test(NAME SOURCES ... DEPS ...): a GoogleTest executable registered with ctest,
# each TEST() a ctest case named "unit.<NAME>.<Suite>.<Case>".
include(GoogleTest)
function(sy_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${SY_WARNINGS})
  target_compile_definitions(${name} PRIVATE SY_TEST_TIME_FACTOR=${SY_TEST_TIME_FACTOR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  gtest_discover_tests(${name} TEST_PREFIX "unit.${name}." DISCOVERY_MODE PRE_TEST
                       PROPERTIES LABELS unit)
endfunction()
