#!/usr/bin/env bash
# test_reference_model.sh — `mlpot predict` against the independent Python reference
# (tests/reference/mlpot_reference.py: numpy energies per model.md, complex-step forces and
# stress). Three random models (cgcnn, megnet, m3gnet; biases and species energies non-zero) from
# `mlpot model init`, seven structures (diamond Si, rattled Si, rattled and sheared alpha quartz,
# a random triclinic SiO2 cell, a 2-atom cell shorter than r_c, a T T F slab, a molecule).
# Energy to 1e-9 relative (+1e-12 eV); per-atom energies, forces and stress to 1e-9 of the
# largest reference component (+1e-10). Skipped (exit 0) without python3-numpy/h5py/ase.
# Usage: bash test_reference_model.sh <mlpot binary> <source dir> <tmp dir>
set -uo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_reference_model
PY=/usr/bin/python3
REF=$SRC/tests/reference/mlpot_reference.py

if ! "$PY" -c 'import numpy, h5py, ase' >/dev/null 2>&1; then
    echo "skipped: python3-numpy/h5py/ase not installed"
    exit 0
fi

rm -rf "$TMP"
mkdir -p "$TMP"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- the reference checks itself first (finite differences, invariances, ASE's stress) ---
if "$PY" "$REF" --self-test >"$TMP/self_test.out" 2>&1; then
    ok
    tail -n 1 "$TMP/self_test.out"
else
    bad "reference self-test: $(grep -E '^FAIL|Error' "$TMP/self_test.out" | head -n 5)"
fi

# --- 1. two random models ---
COMMON=(--species "Si,O" --cutoff 4.5 --features 8 --layers 2 --basis 6 --readout-hidden 7
    --avg-neighbors 11.5 --energy-scale 0.7 --energy-shift -1.3 --bias-std 0.3 --seed 12)
MODELS=()
if "$MLPOT" model init --arch cgcnn "${COMMON[@]}" -o "$TMP/ref_cgcnn.h5" >"$TMP/init.out" 2>"$TMP/init.err"; then
    ok
    MODELS+=(cgcnn)
else
    bad "mlpot model init --arch cgcnn: $(head -c 400 "$TMP/init.err")"
fi
if "$MLPOT" model init --arch megnet --edge-features 5 --megnet-hidden 6 "${COMMON[@]}" \
    -o "$TMP/ref_megnet.h5" >"$TMP/init.out" 2>"$TMP/init.err"; then
    ok
    MODELS+=(megnet)
else
    bad "mlpot model init --arch megnet: $(head -c 400 "$TMP/init.err")"
fi
# r_3 = 3.5 Å: the 2.7 Å cell below has triplets of two images of the same atom (j = k)
if "$MLPOT" model init --arch m3gnet --edge-features 5 --megnet-hidden 6 --threebody-cutoff 3.5 \
    --threebody-basis 3 --threebody-lmax 3 --avg-threebody-neighbors 4.5 "${COMMON[@]}" \
    -o "$TMP/ref_m3gnet.h5" >"$TMP/init.out" 2>"$TMP/init.err"; then
    ok
    MODELS+=(m3gnet)
else
    bad "mlpot model init --arch m3gnet: $(head -c 400 "$TMP/init.err")"
fi

# --- 2. structures (ASE, fixed seeds) ---
if "$PY" - "$TMP" "$SRC/structures/Si.vasp" >"$TMP/structures.out" 2>&1 <<'EOF'
import sys
import numpy as np
import ase.io
from ase import Atoms
from ase.spacegroup import crystal

tmp, si_path = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(2024)


def min_distance(atoms):
    """Shortest distance between two atoms or an atom and an image (brute force, 3x3x3 images)."""
    pos = atoms.positions
    cell = atoms.cell[:]
    ranges = [range(-2, 3) if p else range(1) for p in atoms.pbc]
    best = np.inf
    for a in ranges[0]:
        for b in ranges[1]:
            for c in ranges[2]:
                shift = np.array([a, b, c]) @ cell
                d = pos[None, :, :] + shift - pos[:, None, :]
                r = np.linalg.norm(d, axis=2)
                if a == b == c == 0:
                    r[np.diag_indices(len(pos))] = np.inf
                best = min(best, r.min())
    return best


def random_atoms(symbols, cell, pbc, box):
    atoms = Atoms(symbols, cell=cell, pbc=pbc)
    for _ in range(100000):
        atoms.positions = rng.random((len(atoms), 3)) * box
        if min_distance(atoms) >= 1.5:
            return atoms
    raise RuntimeError("could not place atoms")


def write(atoms, name, fmt, floor=1.5):
    assert min_distance(atoms) >= floor, (name, min_distance(atoms))
    if fmt == "vasp":
        ase.io.write(f"{tmp}/{name}", atoms, format="vasp", direct=True, vasp5=True, sort=False)
    else:
        ase.io.write(f"{tmp}/{name}", atoms, format="extxyz")
    print(f"{name}: {len(atoms)} atoms, pbc {atoms.pbc.tolist()}, min distance {min_distance(atoms):.3f}")


si = ase.io.read(si_path)
si.positions += rng.normal(0.0, 0.08, si.positions.shape)
si.set_cell(si.cell[:] @ np.array([[1.01, 0.02, 0.0], [0.02, 0.99, -0.01], [0.0, -0.01, 1.005]]),
            scale_atoms=True)
write(si, "Si_rattled.vasp", "vasp")

# alpha quartz in P3_121 (152): Si 3a (0.4697, 0, 1/3), O 6c; Si-O 1.604 and 1.613 Å
quartz = crystal(["Si", "O"], basis=[(0.4697, 0.0, 1.0 / 3.0), (0.2669, 0.4135, 0.1191 + 2.0 / 3.0)],
                 spacegroup=152, cellpar=[4.9134, 4.9134, 5.4052, 90, 90, 120])
assert len(quartz) == 9
quartz.set_cell(quartz.cell[:] @ np.array([[1.0, 0.015, -0.01], [0.0, 1.02, 0.012], [0.0, 0.0, 0.985]]),
                scale_atoms=True)
quartz.positions += rng.normal(0.0, 0.03, quartz.positions.shape)
write(quartz, "quartz.vasp", "vasp", floor=1.45)

cell = [[4.6, 0.0, 0.0], [0.8, 4.5, 0.0], [-0.5, 0.6, 4.8]]
sio2 = Atoms("SiO2SiO2", cell=cell, pbc=True)
sio2.set_scaled_positions(rng.random((6, 3)))
while min_distance(sio2) < 1.5:
    sio2.set_scaled_positions(rng.random((6, 3)))
write(sio2, "sio2_random.xyz", "extxyz")

small = Atoms("SiO", positions=[[0.1, 0.2, 0.05], [1.45, 1.3, 1.35]],
              cell=[[2.7, 0.0, 0.0], [0.3, 2.75, 0.0], [0.2, -0.1, 2.65]], pbc=True)
write(small, "small_cell.vasp", "vasp")

slab = random_atoms("Si2O4", [[4.8, 0.0, 0.0], [1.0, 4.6, 0.0], [0.0, 0.0, 14.0]], [True, True, False],
                    np.array([5.5, 4.6, 4.0]))
write(slab, "slab.xyz", "extxyz")

molecule = random_atoms("Si2O3", np.zeros((3, 3)), False, np.array([3.2, 3.2, 3.2]))
write(molecule, "molecule.xyz", "extxyz")
EOF
then
    ok
    cat "$TMP/structures.out"
else
    bad "writing the test structures: $(tail -n 5 "$TMP/structures.out")"
fi

STRUCTURES=("$SRC/structures/Si.vasp" "$TMP/Si_rattled.vasp" "$TMP/quartz.vasp" "$TMP/sio2_random.xyz"
    "$TMP/small_cell.vasp" "$TMP/slab.xyz" "$TMP/molecule.xyz")

# compare.py MLPOT_OUT LINE REF_OUT LABEL: one PASS/FAIL line per quantity
cat >"$TMP/compare.py" <<'EOF'
import json
import sys

import numpy as np

mlpot_file, line, ref_file, label = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = [x for x in open(mlpot_file).read().splitlines() if x.strip()]
ref = json.loads(open(ref_file).read())
try:
    got = json.loads(lines[line])
except (IndexError, ValueError) as e:
    print(f"FAIL {label}: no JSON object on line {line + 1} of mlpot's output ({e})")
    sys.exit(0)
n = len(ref["energies"])


def report(name, deviation, tolerance):
    status = "PASS" if np.isfinite(deviation) and deviation <= tolerance else "FAIL"
    print(f"{status} {label} {name}: max deviation {deviation:.3e} (tolerance {tolerance:.3e})")


def array_field(name, shape):
    value = got.get(name)
    if value is None:
        print(f"FAIL {label} {name}: missing from mlpot's output")
        return None
    value = np.asarray(value, dtype=float)
    if value.shape != shape:
        print(f"FAIL {label} {name}: shape {value.shape}, expected {shape}")
        return None
    return value


def compare_relative_to_largest(name, shape):
    value = array_field(name, shape)
    if value is None:
        return
    want = np.asarray(ref[name], dtype=float)
    report(name, float(np.max(np.abs(value - want))), 1e-9 * float(np.max(np.abs(want))) + 1e-10)


for name in ("energy", "energy_per_atom"):
    if not isinstance(got.get(name), (int, float)):
        print(f"FAIL {label} {name}: missing or not a number in mlpot's output")
        continue
    want = ref[name]
    report(name, abs(got[name] - want), 1e-9 * abs(want) + 1e-12)
compare_relative_to_largest("energies", (n,))
compare_relative_to_largest("forces", (n, 3))
if "stress" in ref:
    compare_relative_to_largest("stress", (3, 3))
elif got.get("stress") is not None:
    print(f"FAIL {label} stress: present for a structure not periodic in 3D")
else:
    print(f"PASS {label} stress: absent (not periodic in 3D)")
EOF

# count_compare FILE: adds its PASS/FAIL lines to the totals and prints them
count_compare() {
    local p f
    p=$(grep -c '^PASS' "$1")
    f=$(grep -c '^FAIL' "$1")
    passed=$((passed + p))
    failed=$((failed + f))
    grep '^PASS' "$1" | sed 's/^PASS /  ok   /'
    grep '^FAIL' "$1" >&2
}

for m in "${MODELS[@]}"; do
    model=$TMP/ref_$m.h5
    for s in "${STRUCTURES[@]}"; do
        name=$(basename "$s")
        label="$m/$name"
        if ! "$MLPOT" predict "$s" --model "$model" --format json --per-atom >"$TMP/$m.$name.mlpot" 2>"$TMP/err"; then
            bad "$label: mlpot predict failed: $(head -c 400 "$TMP/err")"
            continue
        fi
        if ! "$PY" "$REF" "$model" "$s" >"$TMP/$m.$name.ref" 2>"$TMP/err"; then
            bad "$label: reference failed: $(tail -n 3 "$TMP/err")"
            continue
        fi
        "$PY" "$TMP/compare.py" "$TMP/$m.$name.mlpot" 0 "$TMP/$m.$name.ref" "$label" >"$TMP/cmp"
        count_compare "$TMP/cmp"
    done

    # all structures in one run (one calculator, several sizes): line k is structure k
    if "$MLPOT" predict "${STRUCTURES[@]}" --model "$model" --format json --per-atom >"$TMP/$m.all.mlpot" 2>"$TMP/err"; then
        k=0
        : >"$TMP/cmp"
        for s in "${STRUCTURES[@]}"; do
            name=$(basename "$s")
            if [[ -s $TMP/$m.$name.ref ]]; then
                "$PY" "$TMP/compare.py" "$TMP/$m.all.mlpot" "$k" "$TMP/$m.$name.ref" "$m/all-in-one-run/$name" >>"$TMP/cmp"
            fi
            k=$((k + 1))
        done
        count_compare "$TMP/cmp"
    else
        bad "$m: mlpot predict on all structures at once failed: $(head -c 400 "$TMP/err")"
    fi
done

echo "reference model: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
