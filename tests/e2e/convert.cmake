# edgeship convert (issue 3): the binary end to end, the XGBoost/LightGBM parity suites
# (tests/parity, run with Debian's /usr/bin/python3 and onnxruntime-node), bad inputs, and a benchmark
# smoke run that asserts nothing about timing (bench/convert prints the real figures).
set(_convert_python /usr/bin/python3)
set(_parity_dir "${PROJECT_SOURCE_DIR}/tests/parity")

# Every case of tests/parity/xgboost_parity.py (e2e.convert.parity.xgboost_registered keeps this in sync).
set(EDGESHIP_XGBOOST_PARITY_CASES
  reg_squarederror reg_squarederror_exact reg_squaredlogerror reg_pseudohubererror reg_absoluteerror
  reg_logistic binary_logistic binary_logitraw binary_hinge multi_softprob multi_softmax
  count_poisson reg_gamma reg_tweedie rank_pairwise rank_ndcg multi_target
  dart_binary dart_regression categorical_partition categorical_onehot best_iteration all_iterations
  base_score_plain base_score_vector_binary base_score_vector_multiclass)
foreach(_case IN LISTS EDGESHIP_XGBOOST_PARITY_CASES)
  add_test(NAME e2e.convert.parity.xgboost.${_case}
    COMMAND ${_convert_python} "${_parity_dir}/xgboost_parity.py" --edgeship "${EDGESHIP_EXE}" --case ${_case})
  set_tests_properties(e2e.convert.parity.xgboost.${_case} PROPERTIES
    ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 600 LABELS "parity")
endforeach()
string(REPLACE ";" "," _registered "${EDGESHIP_XGBOOST_PARITY_CASES}")
add_test(NAME e2e.convert.parity.xgboost_registered
  COMMAND ${_convert_python} "${_parity_dir}/xgboost_parity.py" "--check-registered=${_registered}")
set_tests_properties(e2e.convert.parity.xgboost_registered PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}")

# Every hand-written LightGBM model (refuse_* fixtures are bad-input cases).
file(GLOB _lgbm_fixtures CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/tests/fixtures/lightgbm/*.txt")
foreach(_f IN LISTS _lgbm_fixtures)
  get_filename_component(_name "${_f}" NAME_WE)
  if(_name MATCHES "^refuse_")
    continue()
  endif()
  add_test(NAME e2e.convert.parity.lightgbm.${_name}
    COMMAND ${_convert_python} "${_parity_dir}/lightgbm_parity.py" --edgeship "${EDGESHIP_EXE}" --fixture ${_name})
  set_tests_properties(e2e.convert.parity.lightgbm.${_name} PROPERTIES
    ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300 LABELS "parity")
endforeach()

add_test(NAME e2e.convert.bad_inputs COMMAND bash "${E2E_DIR}/convert_bad_inputs.sh" "${EDGESHIP_EXE}")
set_tests_properties(e2e.convert.bad_inputs PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)

add_test(NAME e2e.convert.example COMMAND bash "${E2E_DIR}/convert_example.sh" "${EDGESHIP_EXE}")
set_tests_properties(e2e.convert.example PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)

add_test(NAME e2e.convert.help COMMAND "${EDGESHIP_EXE}" convert --help)
set_tests_properties(e2e.convert.help PROPERTIES PASS_REGULAR_EXPRESSION "Examples:.*edgeship convert model.json -o model.onnx")

add_test(NAME e2e.convert.bench_smoke
  COMMAND ${_convert_python} "${PROJECT_SOURCE_DIR}/bench/convert/run.py" --edgeship "${EDGESHIP_EXE}"
          --trees 5 --depth 3 --runs 1 --smoke --workdir "${CMAKE_CURRENT_BINARY_DIR}/bench-convert-smoke")
set_tests_properties(e2e.convert.bench_smoke PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)

# External data (issue 4): convert --external-data, and every command reading external-data models.
add_test(NAME e2e.convert.external_data
  COMMAND bash "${E2E_DIR}/convert_external_data.sh" "${EDGESHIP_EXE}" "${PROJECT_SOURCE_DIR}")
set_tests_properties(e2e.convert.external_data PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)
