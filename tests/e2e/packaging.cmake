# Packaging (issue 8): man pages and the command reference generated from the command tree, the
# Examples footer every command must have, and the `cmake --install` layout. The .deb itself is
# tested by scripts/package-test.sh (it needs root and changes the system, so it is not a ctest).
add_test(NAME e2e.packaging.man_pages COMMAND bash "${E2E_DIR}/packaging_man.sh" ${EDGESHIP_EXE} "${EDGESHIP_MAN_DIR}")
add_test(NAME e2e.packaging.examples_footer COMMAND bash "${E2E_DIR}/packaging_examples.sh" ${EDGESHIP_EXE})
add_test(NAME e2e.packaging.reference_up_to_date
         COMMAND bash "${E2E_DIR}/packaging_reference.sh" ${EDGESHIP_EXE} "${PROJECT_SOURCE_DIR}")
add_test(NAME e2e.packaging.install
         COMMAND bash "${E2E_DIR}/packaging_install.sh" "${PROJECT_BINARY_DIR}" "${PROJECT_SOURCE_DIR}")
set_tests_properties(e2e.packaging.man_pages e2e.packaging.examples_footer e2e.packaging.reference_up_to_date
                     e2e.packaging.install PROPERTIES ENVIRONMENT "${EDGESHIP_TEST_ENV}" TIMEOUT 300)
