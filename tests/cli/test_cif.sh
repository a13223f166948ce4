#!/usr/bin/env bash
# test_cif.sh — CIF files of several space groups read by mlpot as ASE and pymatgen read them:
# the same atoms, cell and positions (up to the order of the atoms and lattice translations).
# The CIFs are written here: by ASE (all atoms, P1), by this script (the asymmetric unit and
# the group's operations from ase.spacegroup), and by pymatgen's CifWriter (symmetrized); one
# file holds several data blocks. Skipped (exit 0) without python3-ase; the pymatgen
# comparisons are skipped without python3-pymatgen.
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_cif
PYTHON=/usr/bin/python3

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_without_python_module ase
rm -rf "$TMP"
mkdir -p "$TMP"

# write_cifs.py DIR: the test CIFs; prints their names
cat >"$TMP/write_cifs.py" <<'EOF'
import sys
from fractions import Fraction
import numpy as np
import ase.io
from ase.spacegroup import Spacegroup, crystal

out = sys.argv[1]
rng = np.random.default_rng(11)
# name: (space group, symbols, asymmetric unit, cell parameters)
crystals = {
    "rutile": (136, ["Ti", "O"], [(0, 0, 0), (0.3049, 0.3049, 0)], [4.594, 4.594, 2.959, 90, 90, 90]),
    "quartz": (152, ["Si", "O"], [(0.4697, 0, 0), (0.4135, 0.2669, 0.1191)],
               [4.916, 4.916, 5.405, 90, 90, 120]),
    "wurtzite": (186, ["Zn", "O"], [(1 / 3, 2 / 3, 0), (1 / 3, 2 / 3, 0.382)],
                 [3.25, 3.25, 5.207, 90, 90, 120]),
    "rocksalt": (225, ["Na", "Cl"], [(0, 0, 0), (0.5, 0.5, 0.5)], [5.64, 5.64, 5.64, 90, 90, 90]),
    "monoclinic": (14, ["Ca", "C", "O"], [(0.11, 0.23, 0.37), (0.61, 0.09, 0.19),
                                           (0.32, 0.71, 0.83)], [6.1, 7.3, 8.2, 90, 104.5, 90]),
    "silicon": (227, ["Si"], [(0, 0, 0)], [5.431, 5.431, 5.431, 90, 90, 90]),
    "triclinic": (2, ["K", "Al", "Si"], [(0.13, 0.27, 0.41), (0.72, 0.18, 0.33),
                                          (0.36, 0.64, 0.91)], [5.2, 6.3, 7.1, 82.0, 96.5, 104.0]),
}


def term_text(rotation_row, shift):
    text = ""
    for coefficient, axis in zip(rotation_row, "xyz"):
        if coefficient:
            text += ("-" if coefficient < 0 else "+") + axis
    fraction = Fraction(shift).limit_denominator(12)
    if fraction:
        text += ("-" if fraction < 0 else "+") + str(abs(fraction))
    return text.lstrip("+")


def symmetrized_cif(path, number, symbols, basis, cellpar, tag):
    ops = Spacegroup(number).get_symop()
    with open(path, "w") as f:
        f.write(f"data_{number}\n_symmetry_space_group_name_H-M '{Spacegroup(number).symbol}'\n")
        f.write(f"_space_group_IT_number {number}\n")
        for name, value in zip(["length_a", "length_b", "length_c", "angle_alpha", "angle_beta",
                                "angle_gamma"], cellpar):
            f.write(f"_cell_{name} {value}(3)\n")
        f.write(f"loop_\n{tag}\n")
        for rotation, shift in ops:
            f.write("'" + ", ".join(term_text(rotation[i], shift[i]) for i in range(3)) + "'\n")
        f.write("loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
                "_atom_site_fract_y\n_atom_site_fract_z\n_atom_site_occupancy\n")
        for k, (symbol, position) in enumerate(zip(symbols, basis)):
            f.write(f"{symbol}{k + 1} {symbol} {position[0]:.10f} {position[1]:.10f} "
                    f"{position[2]:.10f} 1.0\n")


names = []
blocks = []
for name, (number, symbols, basis, cellpar) in crystals.items():
    atoms = crystal(symbols, basis=basis, spacegroup=number, cellpar=cellpar)
    ase.io.write(f"{out}/{name}_ase.cif", atoms)
    ase.io.write(f"{out}/{name}.vasp", atoms, format="vasp", direct=True)
    tag = "_space_group_symop_operation_xyz" if number % 2 else "_symmetry_equiv_pos_as_xyz"
    symmetrized_cif(f"{out}/{name}_sym.cif", number, symbols, basis, cellpar, tag)
    names += [f"{name}_ase.cif", f"{name}_sym.cif"]
    blocks.append(open(f"{out}/{name}_sym.cif").read())
    try:
        from pymatgen.io.ase import AseAtomsAdaptor
        from pymatgen.io.cif import CifWriter
        structure = AseAtomsAdaptor.get_structure(atoms)
        CifWriter(structure, symprec=1e-3).write_file(f"{out}/{name}_pmg.cif")
        names.append(f"{name}_pmg.cif")
    except ImportError:
        pass
with open(f"{out}/several.cif", "w") as f:
    f.write("# several data blocks, one of them without a structure\ndata_publication\n"
            "_publ_section_title\n;\nCrystals\n of several kinds\n;\n" + "\n".join(blocks))
names.append("several.cif")
print(" ".join(names))
EOF

# compare.py CIF XYZ [CIF XYZ ...]: mlpot's reading (XYZ) against ASE's and pymatgen's of CIF
cat >"$TMP/compare.py" <<'EOF'
import sys
import warnings
import numpy as np
import ase.io

failures = []


def cellpar(cell):
    from ase.geometry import cell_to_cellpar
    return cell_to_cellpar(np.asarray(cell))


def same_sites(where, numbers_a, frac_a, numbers_b, frac_b, cell, tolerance=1e-6):
    """Every atom of a has one atom of b of its element at the same place (within tolerance Å)
    modulo the lattice."""
    if sorted(numbers_a) != sorted(numbers_b):
        failures.append(f"{where}: atoms {sorted(numbers_a)} vs {sorted(numbers_b)}")
        return
    used = set()
    for z, f in zip(numbers_a, frac_a):
        d = frac_b - f
        d -= np.round(d)
        distance = np.linalg.norm(d @ cell, axis=1)
        candidates = [j for j in np.argsort(distance)
                      if numbers_b[j] == z and j not in used and distance[j] < tolerance]
        if not candidates:
            failures.append(f"{where}: no atom {z} at {f} (nearest {distance.min():.2e} Å)")
            return
        used.add(candidates[0])


try:
    from pymatgen.io.cif import CifParser
except ImportError:
    CifParser = None


def compare(cif, xyz):
    mine = ase.io.read(xyz, ":")
    ase_frames = ase.io.read(cif, ":")
    if len(ase_frames) != len(mine):
        failures.append(f"{cif}: ASE reads {len(ase_frames)} frames, mlpot {len(mine)}")
    for k, (a, m) in enumerate(zip(ase_frames, mine)):
        where = f"{cif} frame {k} (ASE)"
        if not np.allclose(a.cell, m.cell, rtol=0, atol=1e-9):
            failures.append(f"{where}: cell {a.cell[:]} vs {m.cell[:]}")
        same_sites(where, list(m.numbers), m.get_scaled_positions(), list(a.numbers),
                   a.get_scaled_positions(), m.cell[:])

    if CifParser is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            structures = CifParser(cif).get_structures(primitive=False)
        if len(structures) != len(mine):
            failures.append(f"{cif}: pymatgen reads {len(structures)} structures, mlpot {len(mine)}")
        for k, (p, m) in enumerate(zip(structures, mine)):
            where = f"{cif} frame {k} (pymatgen)"
            if not np.allclose(p.lattice.parameters, cellpar(m.cell), rtol=0, atol=1e-9):
                failures.append(f"{where}: cell {p.lattice.parameters} vs {cellpar(m.cell)}")
            same_sites(where, list(m.numbers), m.get_scaled_positions(),
                       [site.specie.Z for site in p], np.array([site.frac_coords for site in p]),
                       m.cell[:], tolerance=1e-4)  # pymatgen snaps 0.33333 to 1/3


for i in range(1, len(sys.argv), 2):
    compare(sys.argv[i], sys.argv[i + 1])
for f in failures:
    print("FAIL:", f, file=sys.stderr)
sys.exit(1 if failures else 0)
EOF

RC=0
names=$("$PYTHON" "$TMP/write_cifs.py" "$TMP") || RC=$?
if [[ $RC -eq 0 ]]; then ok; else bad "could not write the test CIFs"; fi
pairs=()
for name in $names; do
    run "$MLPOT" convert "$TMP/$name" "$TMP/$name.xyz"
    expect_rc 0 "mlpot convert $name"
    pairs+=("$TMP/$name" "$TMP/$name.xyz")
done
if "$PYTHON" "$TMP/compare.py" "${pairs[@]}"; then ok; else
    bad "mlpot reads CIFs differently from ASE or pymatgen"
fi
if "$PYTHON" -c 'import pymatgen' >/dev/null 2>&1; then
    [[ $names == *_pmg.cif* ]] && ok || bad "pymatgen present but no CIF written with it"
else
    echo "note: python3-pymatgen not installed: compared with ASE only"
fi

# the symmetrized rutile has 6 atoms; several.cif 7 frames (the publication block is none)
run "$MLPOT" info "$TMP/rutile_sym.cif"
expect_rc 0 "info on a CIF"
expect_in out "O4Ti2" "info formula of rutile from its asymmetric unit"
expect_in out "P4_2/mnm (136)" "info finds rutile's space group"
run "$MLPOT" convert "$TMP/several.cif" "$TMP/several.xyz"
expect_rc 0 "convert a CIF of several blocks"
[[ $(grep -c Lattice= "$TMP/several.xyz") -eq 7 ]] && ok || bad "several.cif: expected 7 frames"

# no CIF writer; partial occupancy and a group without operations are errors naming the cause
run "$MLPOT" convert "$TMP/rutile_sym.cif" "$TMP/out.cif"
expect_one_line_error 2 "write a CIF" "the cif format is read only"
sed 's/^\(O2 O .*\) 1.0$/\1 0.5/' "$TMP/rutile_sym.cif" >"$TMP/partial.cif"
run "$MLPOT" info "$TMP/partial.cif"
expect_one_line_error 1 "partial occupancy" "site 'O2' has occupancy '0.5'"
grep -v "^'" "$TMP/rutile_sym.cif" | grep -v -x "_symmetry_equiv_pos_as_xyz" |
    grep -v -x "_space_group_symop_operation_xyz" | awk '!(/^loop_$/ && !seen++)' >"$TMP/noops.cif"
run "$MLPOT" info "$TMP/noops.cif"
expect_one_line_error 1 "space group without operations" "of space group 'P 42/m n m'"
run "$MLPOT" info --format cif "$TMP/rutile_sym.cif"
expect_rc 0 "info --format cif"

# predict on a CIF: the energy of the same crystal given as a POSCAR (atoms in another order)
energy() { # structure file
    run "$MLPOT" predict "$1" --model "$SRC/potentials/previous/Si-mlearn-cgcnn.h5" --format json
    expect_rc 0 "predict $(basename "$1")"
    json_field energy
}
e_cif=$(energy "$TMP/silicon_sym.cif")
e_vasp=$(energy "$TMP/silicon.vasp")
if awk -v a="$e_cif" -v b="$e_vasp" 'BEGIN { d = a - b; exit !(a != "" && d < 1e-9 && d > -1e-9) }'
then ok; else bad "predict: CIF energy $e_cif, POSCAR energy $e_vasp"; fi

finish "cli cif"
