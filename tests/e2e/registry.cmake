# Registry end-to-end tests (issue 6; docs/design/registry.md §10): every tests/e2e/registry_*.sh becomes
# `e2e.registry.<name>`, run as `bash SCRIPT` with the fixtures below in its environment. Each script
# starts its own registries on 127.0.0.1 with free ports (tests/registry/registry-fixture.sh through
# tests/registry/lib.sh) and stops them with a trap, so the tests need no shared fixture or lock and can
# run in parallel. skopeo is the independent oracle.
#
# Environment of every script:
#   EDGESHIP_EXE       the binary under test        OCI_TOOL        test-only lib/oci driver (oci.cmake)
#   REGISTRY_FIXTURE   tests/registry/registry-fixture.sh      TOKEN_SERVER   tests/registry/token-server.py
#   FAULT_PROXY        tests/registry/fault-proxy.py           MAKE_BASE_IMAGE tests/registry/make-base-image.sh
#   REGISTRY_LIB       tests/registry/lib.sh (source it)       REGISTRY_TEST_DIR  per-test scratch dir (build tree)
#   plus EDGESHIP_TEST_ENV (EDGESHIP_SOURCE_DIR, NO_COLOR, …).
set(_registry_fixtures "${PROJECT_SOURCE_DIR}/tests/registry")
file(GLOB _registry_scripts CONFIGURE_DEPENDS "${E2E_DIR}/registry_*.sh")
list(SORT _registry_scripts)
foreach(_script IN LISTS _registry_scripts)
  get_filename_component(_name "${_script}" NAME_WE)
  string(REGEX REPLACE "^registry_" "" _case "${_name}")
  set(_scratch "${CMAKE_CURRENT_BINARY_DIR}/registry/${_case}")
  add_test(NAME e2e.registry.${_case} COMMAND bash "${_script}")
  set_tests_properties(e2e.registry.${_case} PROPERTIES
    ENVIRONMENT "${EDGESHIP_TEST_ENV};EDGESHIP_EXE=${EDGESHIP_EXE};OCI_TOOL=$<TARGET_FILE:oci_tool>;REGISTRY_FIXTURE=${_registry_fixtures}/registry-fixture.sh;TOKEN_SERVER=${_registry_fixtures}/token-server.py;FAULT_PROXY=${_registry_fixtures}/fault-proxy.py;MAKE_BASE_IMAGE=${_registry_fixtures}/make-base-image.sh;REGISTRY_LIB=${_registry_fixtures}/lib.sh;REGISTRY_TEST_DIR=${_scratch}"
    TIMEOUT 600 LABELS "e2e;registry")
endforeach()

# A smoke run of the push benchmark at 1 MiB (bench/registry/bench_push.sh): proves the bench still runs
# against a real registry; asserts nothing about time (the ratios are printed, never checked here).
if(EXISTS "${PROJECT_SOURCE_DIR}/bench/registry/bench_push.sh")
add_test(NAME e2e.registry.bench_smoke
  COMMAND bash "${PROJECT_SOURCE_DIR}/bench/registry/bench_push.sh" --size-mib 1 --runs 1
          --workdir "${CMAKE_CURRENT_BINARY_DIR}/registry/bench_smoke")
set_tests_properties(e2e.registry.bench_smoke PROPERTIES
  ENVIRONMENT "${EDGESHIP_TEST_ENV};EDGESHIP_EXE=${EDGESHIP_EXE};OCI_TOOL=$<TARGET_FILE:oci_tool>;REGISTRY_FIXTURE=${_registry_fixtures}/registry-fixture.sh;MAKE_BASE_IMAGE=${_registry_fixtures}/make-base-image.sh;REGISTRY_LIB=${_registry_fixtures}/lib.sh"
  TIMEOUT 600 LABELS "e2e;registry;bench")
endif()
