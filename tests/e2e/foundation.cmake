# The binary's conventions: help, version, usage errors, inspect/check over the ONNX test corpus and
# bad inputs, shell completion, and the library's dependency rules.
add_test(NAME e2e.cli.help COMMAND ${EDGESHIP_EXE} --help)
set_tests_properties(e2e.cli.help PROPERTIES PASS_REGULAR_EXPRESSION "Examples:.*Exit codes:")
add_test(NAME e2e.cli.version COMMAND ${EDGESHIP_EXE} --version)
set_tests_properties(e2e.cli.version PROPERTIES PASS_REGULAR_EXPRESSION "^edgeship [0-9]+\\.[0-9]+\\.[0-9]+ \\(")
add_test(NAME e2e.cli.version_json COMMAND ${EDGESHIP_EXE} version --json)
set_tests_properties(e2e.cli.version_json PROPERTIES PASS_REGULAR_EXPRESSION "\"git_commit\".*\"dependencies\".*\"onnx\": \"1\\.12")
add_test(NAME e2e.cli.unknown_command
  COMMAND ${E2E_DIR}/expect_exit.sh 2 "did you mean 'inspect'" --lines 2 -- ${EDGESHIP_EXE} inspec x)
add_test(NAME e2e.cli.unknown_flag
  COMMAND ${E2E_DIR}/expect_exit.sh 2 "^edgeship: error: .*--nope" --lines 2 -- ${EDGESHIP_EXE} check --nope m.onnx)
# Every ONNX test model of libonnx-dev through inspect (about 95 s in release); the sanitizer builds take
# every 4th: 1,200 process starts under ASan took over 6 minutes alone and hit 900 s under contention.
if(EDGESHIP_ENABLE_ASAN OR EDGESHIP_ENABLE_TSAN)
  set(_inspect_stride 4)
else()
  set(_inspect_stride 1)
endif()
add_test(NAME e2e.inspect.testdata COMMAND ${E2E_DIR}/inspect_testdata.sh ${EDGESHIP_EXE} ${_inspect_stride})
add_test(NAME e2e.inspect.bad_inputs COMMAND ${E2E_DIR}/inspect_bad_inputs.sh ${EDGESHIP_EXE})
add_test(NAME e2e.inspect.example COMMAND ${EDGESHIP_EXE} inspect ${PROJECT_SOURCE_DIR}/examples/predictive-maintenance/model.onnx)
set_tests_properties(e2e.inspect.example PROPERTIES PASS_REGULAR_EXPRESSION "features: float\\[batch,6\\]")
add_test(NAME e2e.completion.bash COMMAND ${E2E_DIR}/completion_bash.sh ${EDGESHIP_EXE})
add_test(NAME e2e.depcheck COMMAND ${E2E_DIR}/depcheck.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(e2e.cli.help e2e.cli.version e2e.cli.version_json e2e.cli.unknown_command e2e.cli.unknown_flag
  e2e.inspect.testdata e2e.inspect.bad_inputs e2e.inspect.example e2e.completion.bash e2e.depcheck
  PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}")
set_tests_properties(e2e.inspect.testdata PROPERTIES TIMEOUT 900)
