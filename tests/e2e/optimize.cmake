# optimize (issue 4): `edgeship optimize` outputs against ONNX Runtime (onnxruntime-node via
# tests/tools/ort_run.js), on a torch MLP and CNN exported at test time with Debian's python3-torch
# (tests/fixtures/optimize/make_models.py), plus bad inputs. The fixtures are generated once per run.
set(_opt_work "${PROJECT_BINARY_DIR}/e2e-optimize")
set(_opt_gen "${PROJECT_SOURCE_DIR}/tests/fixtures/optimize/make_models.py")
add_test(NAME e2e.optimize.fixtures
  COMMAND bash -c "rm -rf '${_opt_work}' && mkdir -p '${_opt_work}' && \
/usr/bin/python3 '${_opt_gen}' mlp '${_opt_work}/mlp' && \
/usr/bin/python3 '${_opt_gen}' cnn '${_opt_work}/cnn' && \
/usr/bin/python3 '${_opt_gen}' cnn '${_opt_work}/cnn17' --opset 17 && \
/usr/bin/python3 '${_opt_gen}' tree '${_opt_work}/tree'")
set_tests_properties(e2e.optimize.fixtures PROPERTIES FIXTURES_SETUP optimize_models TIMEOUT 600
  ENVIRONMENT "${EDGESHIP_TEST_ENV}" LABELS "e2e;optimize")

set(_opt_cases fp16_mlp fp16_cnn dynamic_int8_mlp static_int8_mlp static_int8_cnn opset_13_17 external_data)
foreach(case IN LISTS _opt_cases)
  if(case MATCHES "mlp")
    set(_dir mlp)
  else()
    set(_dir cnn)
  endif()
  # Each case works on its own copy of the fixture, so cases can run in parallel.
  add_test(NAME e2e.optimize.${case}
    COMMAND bash -c "rm -rf '${_opt_work}/${case}' && cp -r '${_opt_work}/${_dir}' '${_opt_work}/${case}' && \
exec /usr/bin/python3 '${E2E_DIR}/optimize_parity.py' ${case} '$<TARGET_FILE:edgeship>' '${_opt_work}/${case}'")
  set_tests_properties(e2e.optimize.${case} PROPERTIES FIXTURES_REQUIRED optimize_models TIMEOUT 300
    ENVIRONMENT "${EDGESHIP_TEST_ENV}" LABELS "e2e;optimize")
endforeach()

add_test(NAME e2e.optimize.bad_inputs
  COMMAND bash "${E2E_DIR}/optimize_bad_inputs.sh" ${EDGESHIP_EXE} "${_opt_work}")
set_tests_properties(e2e.optimize.bad_inputs PROPERTIES FIXTURES_REQUIRED optimize_models TIMEOUT 300
  ENVIRONMENT "${EDGESHIP_TEST_ENV}" LABELS "e2e;optimize")

add_test(NAME e2e.optimize.help COMMAND ${EDGESHIP_EXE} optimize --help)
set_tests_properties(e2e.optimize.help PROPERTIES PASS_REGULAR_EXPRESSION "--quantize.*Examples:"
  ENVIRONMENT "${EDGESHIP_TEST_ENV}")

# The benchmark (bench/optimize, added by the root bench/ hook) gets a smoke run on the small MLP that
# asserts nothing about timing.
add_test(NAME e2e.optimize.bench_smoke
  COMMAND optimize_bench "${_opt_work}/mlp/mlp.onnx" "${_opt_work}/bench_smoke" --repeat 1)
set_tests_properties(e2e.optimize.bench_smoke PROPERTIES FIXTURES_REQUIRED optimize_models TIMEOUT 120
  ENVIRONMENT "${EDGESHIP_TEST_ENV}" LABELS "e2e;optimize")

# fp16 inside If/Loop bodies, parity through ONNX Runtime (models built at test time with python3-onnx).
add_test(NAME e2e.optimize.fp16_subgraphs
  COMMAND bash "${E2E_DIR}/optimize_fp16_subgraphs.sh" ${EDGESHIP_EXE} "${PROJECT_SOURCE_DIR}")
set_tests_properties(e2e.optimize.fp16_subgraphs PROPERTIES TIMEOUT 300
  ENVIRONMENT "${EDGESHIP_TEST_ENV}" LABELS "e2e;optimize")
