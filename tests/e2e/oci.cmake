# lib/oci end-to-end: skopeo (Debian's, scripts/deps/oci.txt) as the independent oracle both ways,
# driven by the test-only oci_tool (not shipped; `edgeship build/push/pull/export` come later).
add_executable(oci_tool "${CMAKE_CURRENT_LIST_DIR}/oci_tool.cpp")
target_link_libraries(oci_tool PRIVATE edgeship::oci nlohmann_json::nlohmann_json edgeship_settings edgeship_warnings)

add_test(NAME e2e.oci.skopeo_oracle COMMAND bash "${E2E_DIR}/oci_skopeo.sh" "$<TARGET_FILE:oci_tool>")
add_test(NAME e2e.oci.bad_input COMMAND bash "${E2E_DIR}/oci_bad_input.sh" "$<TARGET_FILE:oci_tool>")
set_tests_properties(e2e.oci.skopeo_oracle e2e.oci.bad_input PROPERTIES
  ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300 LABELS "e2e;oci")

