# Container tests (issue 13 item 4; docs/design/container-tests.md): a private Docker Engine (Debian's
# dockerd, own data/exec root and unix socket, no bridge, no iptables) runs what edgeship built. Every test
# starts its own engine and registry on 127.0.0.1 with free ports and stops them (watchdogs too), so they
# need no shared fixture; the Debian base images they push are cached between runs
# (${XDG_CACHE_HOME:-~/.cache}/edgeship-tests/bases, built once under flock).
# Select them with `ctest -L container`. They need root (dockerd, mmdebstrap --mode=root): without it they
# are skipped (exit 125), as root cannot be installed by the test command.
#
#   e2e.container.engine_selftest  the infrastructure: base → registry → pull + load → agent-style create,
#                                  non-root user, SIGTERM stop, nothing left behind
#   e2e.container.node_module      the real proof for node-onnxruntime: ship (default base from the local
#                                  registry) → pull + load the export → create from the generated manifest
#                                  → /score parity with XGBoost, scikit-learn and PyTorch
#   e2e.container.run              edgeship run: two modules on the private engine, createOptions applied,
#                                  --stop, one-line failures leaving nothing running, SIGINT
#   e2e.container.python_module    python-onnxruntime: the dependencies layer with the real pip and a
#                                  wheelhouse the test builds (no PyPI here), amd64 + arm64v8, a no-wheel
#                                  failure; the amd64 image run up to `import onnxruntime`
set(_container_dir "${PROJECT_SOURCE_DIR}/tests/container")
# The real npm and pip (EDGESHIP_TEST_ENV names stand-ins): these tests prove the dependencies layer.
set(_container_env "${EDGESHIP_TEST_ENV};EDGESHIP_EXE=${EDGESHIP_EXE};EDGESHIP_NPM=npm;EDGESHIP_PIP=pip3")

add_test(NAME e2e.container.engine_selftest COMMAND /usr/bin/python3 "${_container_dir}/engine_selftest.py")
set_tests_properties(e2e.container.engine_selftest PROPERTIES
  ENVIRONMENT "${_container_env};CONTAINER_TEST_DIR=${CMAKE_CURRENT_BINARY_DIR}/container/engine_selftest"
  TIMEOUT 900 SKIP_RETURN_CODE 125 PROCESSORS 1 LABELS "e2e;container")

add_test(NAME e2e.container.node_module COMMAND /usr/bin/python3 "${_container_dir}/module_e2e.py" node)
set_tests_properties(e2e.container.node_module PROPERTIES
  ENVIRONMENT "${_container_env};CONTAINER_TEST_DIR=${CMAKE_CURRENT_BINARY_DIR}/container/node_module"
  TIMEOUT 1800 SKIP_RETURN_CODE 125 PROCESSORS 2 LABELS "e2e;container")

# Debian's pip (python3-pip, /usr/bin/pip3), not the first pip3 on PATH (a developer's pyenv): it works with
# --target (no externally-managed-environment refusal there) and is the one scripts/deps/container.txt installs.
add_test(NAME e2e.container.python_module COMMAND /usr/bin/python3 "${_container_dir}/python_module_e2e.py")
set_tests_properties(e2e.container.python_module PROPERTIES
  ENVIRONMENT "${_container_env};EDGESHIP_PIP=/usr/bin/pip3;CONTAINER_TEST_DIR=${CMAKE_CURRENT_BINARY_DIR}/container/python_module"
  TIMEOUT 900 SKIP_RETURN_CODE 125 PROCESSORS 1 LABELS "e2e;container")

# `edgeship run` (issue 18; docs/run.md): a two-module manifest (node and python bases) on the private
# engine with --network host (it has no bridge): createOptions applied, --logs, --stop, one-line failures
# that leave nothing running, SIGINT in the foreground.
add_test(NAME e2e.container.run COMMAND /usr/bin/python3 "${_container_dir}/run_e2e.py")
set_tests_properties(e2e.container.run PROPERTIES
  ENVIRONMENT "${_container_env};CONTAINER_TEST_DIR=${CMAKE_CURRENT_BINARY_DIR}/container/run"
  TIMEOUT 900 SKIP_RETURN_CODE 125 PROCESSORS 1 LABELS "e2e;container")
