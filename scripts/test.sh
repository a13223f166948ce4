#!/usr/bin/env bash
# The whole test suite: a release build with warnings as errors and an address+undefined
# sanitizer build, each running every ctest test (cmocka unit tests and command-line checks),
# and a -march=native build running the numerical unit tests.
# Installs missing dependencies first (scripts/setup.sh --deps-only --test-deps).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --deps-only --test-deps
jobs=$(nproc)

echo "== release build (-Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMLPOT_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

# -march=native -O3: the kernels of src/nn at this CPU's vector width (AVX2 or AVX-512 with
# glibc's vector exp/log1p); about 35 s to build, so only the numerical unit tests run here
echo "== native build (-O3 -march=native, -Werror): kernel, model and potential tests"
cmake -S . -B build-native -DCMAKE_BUILD_TYPE=Release -DMLPOT_NATIVE=ON -DMLPOT_BENCH=OFF \
    -DMLPOT_WERROR=ON >/dev/null
cmake --build build-native -j"$jobs"
ctest --test-dir build-native --output-on-failure -j"$jobs" \
    -R '^test_(nn_|model_|potentials|loss_gradient|calculator|threebody|triplets)'

# the sanitizer build also covers the portable kernels: scalar exp/log1p lane by lane
echo "== sanitizer build (address, undefined; portable kernels without libmvec)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMLPOT_SANITIZE=ON -DMLPOT_BENCH=OFF \
    -DMLPOT_WERROR=ON -DMLPOT_VECTOR_MATH=OFF >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"
