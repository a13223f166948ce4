#!/usr/bin/env bash
# test_ase_compat.sh — extended XYZ written by `mlpot convert` reads in ASE exactly as the input
# does (positions, cell, pbc, energy, forces, stress, info, per-atom arrays, to 1e-12), and files
# written by ASE survive a pass through mlpot. Skipped (exit 0) when python3-ase is missing.
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_ase_compat
PYTHON=/usr/bin/python3

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_without_python_module ase
rm -rf "$TMP"
mkdir -p "$TMP"

# compare.py A B [A B ...]: ASE reads every pair of files; frames must agree to 1e-12.
cat >"$TMP/compare.py" <<'EOF'
import sys
import numpy as np
import ase.io

TOL = 1e-12
failures = []


def close(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and np.allclose(a, b, rtol=0, atol=TOL, equal_nan=True)


def results(atoms):
    calc = atoms.calc
    return dict(calc.results) if calc is not None else {}


def compare(a_path, b_path):
    a_frames = ase.io.read(a_path, ":")
    b_frames = ase.io.read(b_path, ":")
    where = f"{a_path} vs {b_path}"
    if len(a_frames) != len(b_frames):
        failures.append(f"{where}: {len(a_frames)} vs {len(b_frames)} frames")
        return
    for k, (a, b) in enumerate(zip(a_frames, b_frames)):
        w = f"{where} frame {k}"
        if list(a.numbers) != list(b.numbers):
            failures.append(f"{w}: numbers {a.numbers} vs {b.numbers}")
        if not close(a.positions, b.positions):
            failures.append(f"{w}: positions differ")
        if not close(a.cell.array, b.cell.array):
            failures.append(f"{w}: cell {a.cell.array} vs {b.cell.array}")
        if list(a.pbc) != list(b.pbc):
            failures.append(f"{w}: pbc {a.pbc} vs {b.pbc}")
        ra, rb = results(a), results(b)
        if sorted(ra) != sorted(rb):
            failures.append(f"{w}: results {sorted(ra)} vs {sorted(rb)}")
        for key in set(ra) & set(rb):
            if not close(ra[key], rb[key]):
                failures.append(f"{w}: {key} {ra[key]} vs {rb[key]}")
        if sorted(a.info) != sorted(b.info):
            failures.append(f"{w}: info keys {sorted(a.info)} vs {sorted(b.info)}")
        for key in set(a.info) & set(b.info):
            x, y = a.info[key], b.info[key]
            if isinstance(x, (bool, str)) or isinstance(y, (bool, str)):
                same = type(x) == type(y) and x == y
            else:  # numbers: an integer-valued float may come back as an int
                same = close(x, y)
            if not same:
                failures.append(f"{w}: info {key} {x!r} vs {y!r}")
        if sorted(a.arrays) != sorted(b.arrays):
            failures.append(f"{w}: arrays {sorted(a.arrays)} vs {sorted(b.arrays)}")
        for key in set(a.arrays) & set(b.arrays):
            x, y = a.arrays[key], b.arrays[key]
            if x.dtype.kind in "fi":
                same = close(x, y) and x.dtype.kind == y.dtype.kind
            else:
                same = x.dtype.kind == y.dtype.kind and np.array_equal(x, y)
            if not same:
                failures.append(f"{w}: array {key} {x} vs {y}")


args = sys.argv[1:]
for i in range(0, len(args), 2):
    compare(args[i], args[i + 1])
for f in failures:
    print("FAIL:", f, file=sys.stderr)
print(f"{len(args) // 2} file pairs compared, {len(failures)} differences")
sys.exit(1 if failures else 0)
EOF

convert() { # in out
    if "$MLPOT" convert "$1" "$2" 2>"$TMP/err"; then ok; else
        bad "mlpot convert $1 $2: $(cat "$TMP/err")"
    fi
}

# --- mlpot -> ASE: ASE reads mlpot's output as it reads the input ---
pairs=()
for name in Si NaCl ZnO triclinic Si_slab H2O_box; do
    convert "$SRC/structures/$name.vasp" "$TMP/$name.xyz"
    pairs+=("$SRC/structures/$name.vasp" "$TMP/$name.xyz")
done
for name in properties stress9 z_numbers nan_forces no_lattice; do
    convert "$SRC/tests/data/extxyz/$name.xyz" "$TMP/$name.xyz"
    pairs+=("$SRC/tests/data/extxyz/$name.xyz" "$TMP/$name.xyz")
done
MLEARN=$SRC/../shared/data/mlearn/Si_test.extxyz
if [[ -r $MLEARN ]]; then
    convert "$MLEARN" "$TMP/Si_test.xyz"
    pairs+=("$MLEARN" "$TMP/Si_test.xyz")
fi
if "$PYTHON" "$TMP/compare.py" "${pairs[@]}"; then ok; else
    bad "ASE sees mlpot's output differently"
fi

# Voigt stress and virial: ASE reads the converted files with the full stress tensor
convert "$SRC/tests/data/extxyz/stress6.xyz" "$TMP/stress6.xyz"
convert "$SRC/tests/data/extxyz/virial.xyz" "$TMP/virial.xyz"
RC=0
"$PYTHON" - "$TMP/stress6.xyz" "$TMP/virial.xyz" <<'EOF' || RC=$?
import sys
import numpy as np
import ase.io

s6 = ase.io.read(sys.argv[1]).get_stress(voigt=False)
want = np.array([[0.01, 0.04, 0.05], [0.04, 0.02, 0.06], [0.05, 0.06, 0.03]])
assert np.allclose(s6, want, rtol=0, atol=1e-12), s6
atoms = ase.io.read(sys.argv[2])
virial = np.array([[0.8, 0.4, -0.2], [0.4, 1.6, 0.0], [-0.2, 0.0, -2.4]])
stress = atoms.get_stress(voigt=False)
assert np.allclose(stress, -virial / atoms.get_volume(), rtol=0, atol=1e-12), stress
EOF
if [[ $RC -eq 0 ]]; then ok; else bad "Voigt stress or virial read differently by ASE"; fi

# --- ASE -> mlpot -> ASE ---
RC=0
"$PYTHON" - "$TMP/ase_written.xyz" <<'EOF' || RC=$?
import sys
import numpy as np
import ase.io
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator

rng = np.random.default_rng(7)
frames = []
bulk = Atoms("Si3O2", positions=rng.uniform(0, 5, (5, 3)),
             cell=[[5.1, 0.0, 0.0], [0.4, 5.3, 0.0], [-0.2, 0.3, 5.6]], pbc=True)
bulk.info["config_type"] = "bulk strained"
bulk.info["source_index"] = 17
bulk.info["weight"] = 0.25
bulk.new_array("charge", rng.normal(size=5))
bulk.new_array("dipole", rng.normal(size=(5, 3)))
bulk.new_array("fixed", np.array([True, False, True, False, True]))
bulk.new_array("label", np.array(["a", "bb", "c", "dd", "e"]))
bulk.set_tags([1, 2, 3, -4, 0])
bulk.calc = SinglePointCalculator(bulk, energy=-25.123456789, forces=rng.normal(size=(5, 3)),
                                  stress=rng.normal(size=6) * 1e-3)
frames.append(bulk)
slab = Atoms("Cu2", positions=[[0, 0, 0], [1.3, 1.2, 1.9]],
             cell=[[2.6, 0, 0], [0, 2.5, 0], [0, 0, 20.0]], pbc=[True, True, False])
slab.info["config_type"] = "slab"
slab.calc = SinglePointCalculator(slab, energy=-7.5, forces=rng.normal(size=(2, 3)))
frames.append(slab)
molecule = Atoms("OH2", positions=[[0, 0, 0.119], [0, 0.763, -0.477], [0, -0.763, -0.477]])
molecule.info["config_type"] = "molecule"
molecule.calc = SinglePointCalculator(molecule, energy=-14.25, forces=rng.normal(size=(3, 3)))
frames.append(molecule)
ase.io.write(sys.argv[1], frames, format="extxyz")
EOF
if [[ $RC -eq 0 ]]; then ok; else bad "ASE could not write its test file"; fi
convert "$TMP/ase_written.xyz" "$TMP/ase_through_mlpot.xyz"
if "$PYTHON" "$TMP/compare.py" "$TMP/ase_written.xyz" "$TMP/ase_through_mlpot.xyz"; then ok; else
    bad "ASE's file changed on its way through mlpot"
fi

# --- POSCAR as ASE writes unsorted atoms: a species group per atom ("In P In P ...", counts 1) ---
RC=0
"$PYTHON" - "$TMP/inp_unsorted.vasp" <<'EOF' || RC=$?
import sys
import ase.io
from ase import Atoms

a0 = 5.87
cell = [[0, a0 / 2, a0 / 2], [a0 / 2, 0, a0 / 2], [a0 / 2, a0 / 2, 0]]
atoms = Atoms("InP", scaled_positions=[[0, 0, 0], [0.25, 0.25, 0.25]], cell=cell, pbc=True)
atoms = atoms.repeat((6, 6, 3))  # 216 atoms, In and P alternating
atoms.rattle(0.05, seed=3)
ase.io.write(sys.argv[1], atoms, format="vasp", direct=True, sort=False)
with open(sys.argv[1]) as f:
    species_line = f.readlines()[5].split()
assert len(species_line) == 216 and species_line[:3] == ["In", "P", "In"], species_line[:3]
EOF
if [[ $RC -eq 0 ]]; then ok; else bad "ASE could not write the unsorted InP POSCAR"; fi
convert "$TMP/inp_unsorted.vasp" "$TMP/inp_unsorted.xyz"
convert "$TMP/inp_unsorted.xyz" "$TMP/inp_back.vasp"
if "$PYTHON" "$TMP/compare.py" "$TMP/inp_unsorted.vasp" "$TMP/inp_unsorted.xyz" \
    "$TMP/inp_unsorted.vasp" "$TMP/inp_back.vasp"; then ok; else
    bad "ASE's unsorted POSCAR changed on its way through mlpot"
fi

echo "cli ase compat: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
