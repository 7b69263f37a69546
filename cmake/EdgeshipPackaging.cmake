# Packaging (issue 8): man pages generated from the command tree at build time, `cmake --install` to
# the standard places (GNUInstallDirs), and a Debian package through CPack.
#
# Installed layout (prefix /usr for the .deb, CMAKE_INSTALL_PREFIX otherwise):
#   bin/edgeship                                        (cli/CMakeLists.txt)
#   share/bash-completion/completions/edgeship          (completions/CMakeLists.txt)
#   share/zsh/vendor-completions/_edgeship              (idem; Debian's zsh searches vendor-completions)
#   share/fish/vendor_completions.d/edgeship.fish       (idem)
#   share/man/man1/edgeship.1.gz, edgeship-<command>.1.gz   (here; gzip -9n as Debian policy §12.1 asks)
#   share/edgeship/templates/                           (here; a copy of the templates built into the binary)
#   share/doc/edgeship/                                 (here; README, docs/*.md, docs/reference/)
#
# Included from the root CMakeLists.txt after cli/ and completions/, before tests/ (the packaging e2e
# tests use EDGESHIP_MAN_DIR).

# ---- man pages ---------------------------------------------------------------------------------------
# `edgeship __docgen man DIR` walks the same CLI11 tree as --help and `__complete`, so a command added to
# command_table() gets edgeship-<command>.1 with no per-command work. The page set changes with the
# tree, so the outputs are a directory and a stamp; the directory is rebuilt from scratch each time so
# a removed command leaves no stale page behind.
set(EDGESHIP_MAN_DIR "${PROJECT_BINARY_DIR}/man/roff")   # plain roff, for the rendering tests
set(EDGESHIP_MAN_GZ_DIR "${PROJECT_BINARY_DIR}/man/gz")  # what gets installed
add_custom_command(
  OUTPUT "${PROJECT_BINARY_DIR}/man/pages.stamp"
  COMMAND "${CMAKE_COMMAND}" -E rm -rf "${EDGESHIP_MAN_DIR}" "${EDGESHIP_MAN_GZ_DIR}"
  COMMAND "${CMAKE_COMMAND}" -E make_directory "${EDGESHIP_MAN_GZ_DIR}"
  COMMAND edgeship -q __docgen man "${EDGESHIP_MAN_DIR}"
  # -n: no name or timestamp in the gzip header, so the package is reproducible.
  COMMAND sh -c "for f in \"$1\"/*.1; do gzip -9n < \"$f\" > \"$2/\${f##*/}.gz\" || exit 1; done"
          sh "${EDGESHIP_MAN_DIR}" "${EDGESHIP_MAN_GZ_DIR}"
  COMMAND "${CMAKE_COMMAND}" -E touch "${PROJECT_BINARY_DIR}/man/pages.stamp"
  WORKING_DIRECTORY "${PROJECT_BINARY_DIR}"
  DEPENDS edgeship
  COMMENT "Generating man pages from the command tree"
  VERBATIM)
add_custom_target(edgeship_man ALL DEPENDS "${PROJECT_BINARY_DIR}/man/pages.stamp")

# ---- install ------------------------------------------------------------------------------------------
install(DIRECTORY "${EDGESHIP_MAN_GZ_DIR}/" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1"
        FILES_MATCHING PATTERN "*.1.gz")
# The templates are embedded in the binary (cmake/EmbedTemplates.cmake); the installed copy is a
# starting point for users who keep their own template directory (--template-dir).
install(DIRECTORY "${PROJECT_SOURCE_DIR}/templates/" DESTINATION "${CMAKE_INSTALL_DATADIR}/edgeship/templates")
install(FILES "${PROJECT_SOURCE_DIR}/README.md" DESTINATION "${CMAKE_INSTALL_DOCDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/docs/" DESTINATION "${CMAKE_INSTALL_DOCDIR}"
        FILES_MATCHING PATTERN "*.md")

# ---- Debian package (cpack -G DEB) ------------------------------------------------------------------------
# scripts/package-test.sh builds, installs, checks and purges it. dpkg-shlibdeps (dpkg-dev) computes
# Depends from the binary's shared libraries, so the package follows whatever the build links.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "edgeship")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_VENDOR "edgeship maintainers")
set(CPACK_PACKAGE_CONTACT "edgeship maintainers <maintainers@users.noreply.r-seed-aa18c48b.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "take a trained model to a running Azure IoT Edge module")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")                 # edgeship_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# scikit-learn and PyTorch models are converted by the user's Python (docs/frameworks.md).
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3, python3-onnx, python3-sklearn, python3-torch")
# The long description: continuation lines start with a space (Debian policy §5.6.13).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION_SUMMARY}
 edgeship is one command-line tool for the model-to-fleet path of Azure IoT Edge:
 it converts XGBoost, LightGBM, scikit-learn and PyTorch models to ONNX with a
 prediction parity check, scaffolds IoT Edge solutions from templates, generates
 and validates deployment manifests, and deploys them to devices or at scale
 through the IoT Hub REST API.")
# Only the binary package is wanted; a source package of a working tree would sweep up build trees.
set(CPACK_SOURCE_GENERATOR "TGZ")
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build[^/]*/" "/out/" "/tests/node_modules/")
include(CPack)
