#!/usr/bin/env bash
# The whole test suite: a release build with warnings as errors and an address+undefined
# sanitizer build, each running every ctest test (cmocka unit tests and command-line checks).
# Installs missing dependencies first (scripts/setup.sh --deps-only --test-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps-only --test-deps
jobs=$(nproc)

echo "== release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMLPOT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== sanitizer build (address, undefined)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMLPOT_SANITIZE=ON -DMLPOT_BENCH=OFF \
    -DMLPOT_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"
