# Project-wide compile settings as INTERFACE targets, linked PRIVATE by every first-party target and
# never by third-party code (the ccache StandardSettings pattern, see ../shared/STYLE.md §9).

if(NOT DEFINED EDGESHIP_DEV_MODE)
  if(EXISTS "${CMAKE_SOURCE_DIR}/.git" OR DEFINED ENV{CI})
    set(_dev ON)
  else()
    set(_dev OFF)
  endif()
  option(EDGESHIP_DEV_MODE "Developer mode: warnings are errors" ${_dev})
endif()
option(EDGESHIP_ENABLE_ASAN "Build with AddressSanitizer" OFF)
option(EDGESHIP_ENABLE_UBSAN "Build with UndefinedBehaviorSanitizer" OFF)
option(EDGESHIP_ENABLE_TSAN "Build with ThreadSanitizer" OFF)

add_library(edgeship_settings INTERFACE)
add_library(edgeship_warnings INTERFACE)

target_compile_features(edgeship_settings INTERFACE cxx_std_20)
target_compile_definitions(edgeship_settings INTERFACE $<$<CONFIG:Debug>:_GLIBCXX_ASSERTIONS>)

set(_san "")
if(EDGESHIP_ENABLE_ASAN)
  list(APPEND _san address)
endif()
if(EDGESHIP_ENABLE_UBSAN)
  list(APPEND _san undefined)
endif()
if(EDGESHIP_ENABLE_TSAN)
  list(APPEND _san thread)
endif()
if(_san)
  list(JOIN _san "," _san_list)
  target_compile_options(edgeship_settings INTERFACE -fsanitize=${_san_list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(edgeship_settings INTERFACE -fsanitize=${_san_list})
  # GCC 12's flow analysis is unreliable on sanitizer-instrumented code: it reports
  # -Wmaybe-uninitialized inside libstdc++'s <regex> and std::function. Release builds keep the warning.
  target_compile_options(edgeship_warnings INTERFACE -Wno-maybe-uninitialized)
endif()

target_compile_options(edgeship_warnings INTERFACE
  # Not -Wnull-dereference: GCC 12 reports false positives inside libstdc++ stream code.
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2)
if(EDGESHIP_DEV_MODE)
  target_compile_options(edgeship_warnings INTERFACE -Werror)
endif()
# GCC 12 at -O3 (CMAKE_BUILD_TYPE=Release) reports -Wrestrict inside libstdc++'s <string> for ordinary
# concatenations (GCC bug 105329, fixed in GCC 13): a false positive, so it may not fail the build.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(edgeship_warnings INTERFACE -Wno-error=restrict)
endif()

# edgeship_module(<name> SOURCES … [PUBLIC_LIBS …] [PRIVATE_LIBS …])
# Declares lib/<name> as edgeship_<name> with alias edgeship::<name>; includes are rooted at lib/.
function(edgeship_module name)
  cmake_parse_arguments(M "" "" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(edgeship_${name} STATIC ${M_SOURCES})
  add_library(edgeship::${name} ALIAS edgeship_${name})
  target_include_directories(edgeship_${name} PUBLIC "${PROJECT_SOURCE_DIR}/lib")
  target_link_libraries(edgeship_${name} PUBLIC ${M_PUBLIC_LIBS} PRIVATE ${M_PRIVATE_LIBS} edgeship_settings edgeship_warnings)
endfunction()

# edgeship_unit_test(<module> SOURCES … [LIBS …]) -> one GoogleTest binary per module, tests named unit.<module>.*
function(edgeship_unit_test module)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(unit_${module} ${T_SOURCES})
  target_link_libraries(unit_${module} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main GTest::gmock edgeship_settings edgeship_warnings)
  target_compile_definitions(unit_${module} PRIVATE
    EDGESHIP_SOURCE_DIR="${PROJECT_SOURCE_DIR}" EDGESHIP_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(unit_${module} TEST_PREFIX "unit.${module}." DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "EDGESHIP_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
endfunction()
