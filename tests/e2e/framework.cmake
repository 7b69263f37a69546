# issue 4: scikit-learn and PyTorch through the framework bridge. Parity against predict /
# predict_proba and torch (models trained at test time with Debian's /usr/bin/python3), run in
# ONNX Runtime (tests/tools/ort_run.js), and the bad-input suite, all through `edgeship convert`.
set(_fw_tool "${EDGESHIP_EXE}")
set(_fw_py /usr/bin/python3) # Debian's Python: python3-sklearn, python3-torch (docs/design/onnx.md §13)

# Every scikit-learn estimator of the issue, ≤ 1e-5 against predict/predict_proba (one test each).
set(_fw_sklearn_cases
  linear_regression linear_regression_multi ridge lasso elastic_net linear_svr
  logistic_binary logistic_binary_liblinear logistic_binary_multinomial logistic_multinomial logistic_ovr
  logistic_strings linear_svc_binary linear_svc_multi
  decision_tree_classifier decision_tree_classifier_binary decision_tree_regressor decision_tree_regressor_multi
  random_forest_classifier random_forest_regressor extra_trees_classifier extra_trees_regressor
  gradient_boosting_classifier gradient_boosting_classifier_multi gradient_boosting_classifier_exponential
  gradient_boosting_regressor gradient_boosting_regressor_huber
  hist_gradient_boosting_classifier hist_gradient_boosting_classifier_multi hist_gradient_boosting_regressor
  hist_gradient_boosting_regressor_poisson
  standard_scaler min_max_scaler_clip simple_imputer_mean simple_imputer_median simple_imputer_constant
  pipeline_impute_scale_logistic pipeline_scale_ridge pipeline_minmax_forest pipeline_impute_gradient_boosting
  pipeline_impute_scale_transform)
set(_fw_torch_cases mlp cnn cnn_opset13)
set(_fw_bad_cases
  unsupported_estimator unsupported_in_pipeline unknown_class not_an_estimator corrupt_pickle not_a_model
  unknown_format unfitted untrusted_pickle untrusted_torch_pickle state_dict state_dict_trusted wrong_shape
  missing_input_shape bad_input_shape torch_opset_18 missing_python missing_sklearn missing_torch)

set(_fw_tests "")
foreach(c IN LISTS _fw_sklearn_cases)
  add_test(NAME e2e.framework.sklearn.${c} COMMAND ${_fw_py} ${E2E_DIR}/framework_sklearn_parity.py ${_fw_tool} ${c})
  list(APPEND _fw_tests e2e.framework.sklearn.${c})
endforeach()
foreach(c IN LISTS _fw_torch_cases)
  add_test(NAME e2e.framework.torch.${c} COMMAND ${_fw_py} ${E2E_DIR}/framework_torch_parity.py ${_fw_tool} ${c})
  list(APPEND _fw_tests e2e.framework.torch.${c})
endforeach()
foreach(c IN LISTS _fw_bad_cases)
  add_test(NAME e2e.framework.bad.${c} COMMAND ${_fw_py} ${E2E_DIR}/framework_bad_inputs.py ${_fw_tool} ${c})
  list(APPEND _fw_tests e2e.framework.bad.${c})
endforeach()
# The lists above must name every case of the scripts.
add_test(NAME e2e.framework.sklearn.case_list
  COMMAND ${_fw_py} ${E2E_DIR}/framework_sklearn_parity.py --check-list ${_fw_sklearn_cases})
add_test(NAME e2e.framework.torch.case_list
  COMMAND ${_fw_py} ${E2E_DIR}/framework_torch_parity.py --check-list ${_fw_torch_cases})
add_test(NAME e2e.framework.bad.case_list
  COMMAND ${_fw_py} ${E2E_DIR}/framework_bad_inputs.py --check-list ${_fw_bad_cases})
add_test(NAME e2e.framework.pickle_confirm COMMAND ${E2E_DIR}/framework_confirm.sh ${_fw_tool})
list(APPEND _fw_tests e2e.framework.sklearn.case_list e2e.framework.torch.case_list e2e.framework.bad.case_list
  e2e.framework.pickle_confirm)
set_tests_properties(${_fw_tests} PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 600)

# convert with --fp16 / --quantize: the edge passes applied in the same step (wiring check).
add_test(NAME e2e.framework.convert_with_passes COMMAND ${E2E_DIR}/convert_optimize.sh ${EDGESHIP_EXE} ${PROJECT_SOURCE_DIR})
set_tests_properties(e2e.framework.convert_with_passes PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)
