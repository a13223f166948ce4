#!/usr/bin/env bash
# Installs mlpot's Debian dependencies when they are missing (as root, or through sudo), then
# configures and builds mlpot into build/. Safe to run again: it installs and rebuilds only
# what is needed.
#   scripts/setup.sh               dependencies + release build
#   scripts/setup.sh --deps-only   dependencies only
#   scripts/setup.sh --test-deps   also what the test suite uses: python3-ase/numpy/h5py (Python
#                                  package, cross-checks), phonopy, pymatgen (CIF cross-checks),
#                                  locales (a decimal-comma locale), and the KIM API, LAMMPS and
#                                  Open MPI for the LAMMPS interface tests
#   scripts/setup.sh --native      build with -O3 -march=native (not portable to other CPUs)
set -euo pipefail
cd "$(dirname "$0")/.."

deps_only=0
test_deps=0
native=OFF
for arg in "$@"; do
    case "$arg" in
    --deps-only) deps_only=1 ;;
    --test-deps) test_deps=1 ;;
    --native) native=ON ;;
    -h | --help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option '$arg' (see scripts/setup.sh --help)" >&2; exit 2 ;;
    esac
done

packages=(gcc make cmake pkg-config libsymspg-dev libhdf5-dev libcmocka-dev)
if [ "$test_deps" = 1 ]; then
    packages+=(python3 python3-numpy python3-ase python3-h5py python3-phonopy python3-pymatgen
               locales libkim-api-dev lammps python3-lammps openmpi-bin)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup.sh: installing ${missing[*]}"
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends "${missing[@]}" >/dev/null
fi
[ "$deps_only" = 1 ] && exit 0

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMLPOT_NATIVE="$native" >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "setup.sh: built build/mlpot ($(build/mlpot --version))"
