# IoT Hub end-to-end tests (issue 7): the edgeship binary against the strict HTTPS IoT Hub test double
# (tests/iothub_double, run with Debian's /usr/bin/python3; CA and certificate made with openssl per test).
# One ctest per case in iothub_e2e.py (the "@case" functions), each with its own double on a free port.
file(STRINGS "${E2E_DIR}/iothub_e2e.py" _iothub_lines REGEX "^def [a-z0-9_]+\\(\\):$")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${E2E_DIR}/iothub_e2e.py")
foreach(_line IN LISTS _iothub_lines)
  string(REGEX REPLACE "^def ([a-z0-9_]+)\\(\\):$" "\\1" _case "${_line}")
  if(_case STREQUAL "main" OR _case STREQUAL "fleet")
    continue()
  endif()
  add_test(NAME e2e.iothub.${_case}
           COMMAND /usr/bin/python3 "${E2E_DIR}/iothub_e2e.py" "${EDGESHIP_EXE}" "${_case}")
  # EDGESHIP_E2E_CACHE: the layer cache (and npm's) of the ship case, kept in the build tree between runs.
  set_tests_properties(e2e.iothub.${_case} PROPERTIES
                       ENVIRONMENT "${EDGESHIP_TEST_ENV};EDGESHIP_E2E_CACHE=${CMAKE_BINARY_DIR}/e2e-cache/iothub"
                       TIMEOUT 180 LABELS "iothub")
  if(_case STREQUAL "wait_ship_every_agent")
    # The first run builds the module image (the runtime's dependencies included); later runs hit the cache.
    set_tests_properties(e2e.iothub.${_case} PROPERTIES TIMEOUT 900)
  endif()
endforeach()

# Help and usage of the new commands.
add_test(NAME e2e.iothub.help_deploy COMMAND ${EDGESHIP_EXE} deploy --help)
set_tests_properties(e2e.iothub.help_deploy PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}"
                     PASS_REGULAR_EXPRESSION "Examples:.*edgeship deploy --device dev1")
add_test(NAME e2e.iothub.help_deployment COMMAND ${EDGESHIP_EXE} deployment create --help)
set_tests_properties(e2e.iothub.help_deployment PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}"
                     PASS_REGULAR_EXPRESSION "--replace")
add_test(NAME e2e.iothub.usage_deployment_needs_subcommand COMMAND ${EDGESHIP_EXE} deployment)
set_tests_properties(e2e.iothub.usage_deployment_needs_subcommand PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}"
                     WILL_FAIL FALSE PASS_REGULAR_EXPRESSION "edgeship: error:")

# The benchmark executable bench_iothub comes from the root bench/ hook (added before tests/).
# A smoke run of the benchmark at a tiny size (asserts nothing about timing).
if(TARGET bench_iothub)
  add_test(NAME e2e.iothub.bench_smoke
           COMMAND /usr/bin/python3 "${PROJECT_SOURCE_DIR}/bench/iothub/run_bench.py" --bench "$<TARGET_FILE:bench_iothub>"
                   --devices 30 --page-size 10 --cycles 2)
  set_tests_properties(e2e.iothub.bench_smoke PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 180)
endif()
