# e2e tests of the solution commands (issue 5): init, module add, gen, validate, the runtimes.
foreach(_case demo bad_input iotedgedev_parity)
  add_test(NAME e2e.solution.${_case}
           COMMAND bash "${E2E_DIR}/solution_cli.sh" "${EDGESHIP_EXE}" "${PROJECT_SOURCE_DIR}" ${_case})
  set_tests_properties(e2e.solution.${_case} PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 120)
endforeach()

# The generated runtimes: node answers real /score requests through onnxruntime-node (compared with
# tests/tools/ort_run.js); the Python runtime's logic runs under /usr/bin/python3 with a stub session.
add_test(NAME e2e.solution.runtime_node
         COMMAND /usr/bin/python3 "${PROJECT_SOURCE_DIR}/tests/runtimes/node_runtime_test.py" "${EDGESHIP_EXE}" "${PROJECT_SOURCE_DIR}")
add_test(NAME e2e.solution.runtime_python
         COMMAND /usr/bin/python3 "${PROJECT_SOURCE_DIR}/tests/runtimes/python_runtime_test.py" "${EDGESHIP_EXE}" "${PROJECT_SOURCE_DIR}")
set_tests_properties(e2e.solution.runtime_node e2e.solution.runtime_python
                     PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)

foreach(_cmd init gen validate)
  add_test(NAME e2e.solution.help_${_cmd} COMMAND ${EDGESHIP_EXE} ${_cmd} --help)
  set_tests_properties(e2e.solution.help_${_cmd} PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}"
                       PASS_REGULAR_EXPRESSION "Examples:")
endforeach()
add_test(NAME e2e.solution.help_module_add COMMAND ${EDGESHIP_EXE} module add --help)
set_tests_properties(e2e.solution.help_module_add PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}"
                     PASS_REGULAR_EXPRESSION "Examples:")

# Benchmark smoke run (tiny size, asserts nothing about timing): bench/gen/run.sh works.
add_test(NAME e2e.solution.bench_smoke
         COMMAND bash "${PROJECT_SOURCE_DIR}/bench/gen/run.sh" "${EDGESHIP_EXE}" --modules 3 --runs 2)
set_tests_properties(e2e.solution.bench_smoke PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 120)

# Real IoT Edge solutions and manifests written by others (../shared/corpus/iotedge, INDEX.md): gen for
# every template and platform on copies, validate on every finished, layered and invalid manifest.
# The corpus is read from ${PROJECT_SOURCE_DIR}/../shared/corpus; the test fails clearly without it.
foreach(_group templates manifests)
  add_test(NAME e2e.solution.corpus_${_group}
           COMMAND /usr/bin/python3 "${E2E_DIR}/iotedge_corpus.py" "${EDGESHIP_EXE}" "${PROJECT_SOURCE_DIR}" ${_group})
  set_tests_properties(e2e.solution.corpus_${_group} PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 120)
endforeach()
