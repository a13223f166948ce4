#!/usr/bin/env bash
# test_dataset.sh — `mlpot dataset convert|info|split`: usage errors, extxyz/VASP -> HDF5 ->
# extxyz keeping every number and label, info text and JSON, reproducible splits that keep the
# frame order, failures that leave no file behind, and (with h5py) the file layout of formats.md.
# Usage: bash test_dataset.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_dataset
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PY=/usr/bin/python3
have_h5py=0
if $PY -c 'import h5py, numpy' 2>/dev/null; then have_h5py=1; fi

# info_numbers FILE: `mlpot info --json` of every frame without the file name and frame index
info_numbers() {
    "$MLPOT" info --json "$@" | sed 's/"file": "[^"]*", "frame": [0-9]*, //'
}

# --- usage ---
run "$MLPOT" dataset --help
expect_rc 0 "dataset --help"
expect_in out "mlpot dataset split" "dataset --help lists split"
for sub in convert info split; do
    run "$MLPOT" dataset "$sub" --help
    expect_rc 0 "dataset $sub --help"
    expect_in out "usage: mlpot dataset $sub" "dataset $sub --help text"
done
run "$MLPOT" dataset
expect_rc 2 "dataset without a command"
run "$MLPOT" dataset shuffle x.h5
expect_rc 2 "dataset with an unknown command"
run "$MLPOT" dataset convert --bogus "$SRC/structures/Si.vasp" -o "$TMP/x.h5"
expect_rc 2 "convert with an unknown option"
expect_in err "unknown option '--bogus'" "convert unknown option message"
run "$MLPOT" dataset convert "$SRC/structures/Si.vasp"
expect_rc 2 "convert without -o"
expect_in err "-o OUT is required" "convert without -o message"
run "$MLPOT" dataset convert -o "$TMP/x.h5"
expect_rc 2 "convert without inputs"
run "$MLPOT" dataset convert "$SRC/structures/Si.vasp" -o "$TMP/x.txt"
expect_rc 2 "convert to an unknown format"
run "$MLPOT" dataset info
expect_rc 2 "info without a file"
run "$MLPOT" dataset info --bogus "$TMP/x.h5"
expect_rc 2 "info with an unknown option"

# --- a labelled extended XYZ file: pbc variations, a molecule, NaN force rows, config types ---
cat >"$TMP/labelled.xyz" <<'XYZ'
2
Lattice="4.0 0.0 0.0 1.0 4.0 0.0 0.0 0.5 5.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-8.25 stress="0.01 0.04 0.05 0.04 0.02 0.06 0.05 0.06 0.03" config_type="bulk strained" pbc="T T T"
Si 0.0 0.0 0.0 0.125 -0.25 0.5
Si 1.0 1.0 1.1 -0.125 0.25 -0.5
3
Properties=species:S:1:pos:R:3:forces:R:3 energy=-14.25 config_type=molecule
O 0.0 0.0 0.0 0.1 0.2 0.3
H 0.7586 0.0 0.5043 nan nan nan
H -0.7586 0.0 0.5043 -0.1 -0.2 -0.3
4
Lattice="3.1 0.0 0.0 0.0 3.2 0.0 0.0 0.0 0.0" Properties=species:S:1:pos:R:3 energy=-20.0625 pbc="T T F"
Cu 0.1 0.2 0.3
Cu 1.6 1.6 0.3
Au 0.1 1.6 2.0
Cu 1.6 0.2 2.0
1
Lattice="2.5 0.0 0.0 0.0 2.5 0.0 0.0 0.0 2.5" Properties=species:S:1:pos:R:3 pbc="T T T"
Cu 0.1 0.2 0.3
XYZ
run "$MLPOT" dataset convert "$TMP/labelled.xyz" "$SRC/structures/Si.vasp" -o "$TMP/d.h5"
expect_rc 0 "convert extxyz and vasp to a dataset"
expect_in err "wrote 5 frames (18 atoms) to" "convert reports frames and atoms"
run "$MLPOT" dataset convert "$TMP/d.h5" -o "$TMP/back.xyz"
expect_rc 0 "convert the dataset back to extxyz"
want=$( (info_numbers "$TMP/labelled.xyz"; info_numbers "$SRC/structures/Si.vasp") )
got=$(info_numbers "$TMP/back.xyz")
if [[ "$got" == "$want" ]]; then ok; else
    bad "info of the round trip differs:"$'\n'"$got"$'\n'"---"$'\n'"$want"
fi
expect_file_has "$TMP/back.xyz" "energy=-8.25" "energy survives"
expect_file_has "$TMP/back.xyz" 'config_type="bulk strained"' "config_type survives"
expect_file_has "$TMP/back.xyz" "config_type=Si.vasp" "the file name is the name without one"
expect_file_has "$TMP/back.xyz" "nan nan nan" "an unlabelled force row stays NaN"
# extxyz -> h5 -> extxyz -> h5: the same dataset
run "$MLPOT" dataset convert "$TMP/back.xyz" -o "$TMP/d2.h5"
expect_rc 0 "convert the round trip again"
"$MLPOT" dataset info --json "$TMP/d.h5" | sed 's/"file": "[^"]*", //' >"$TMP/info1"
"$MLPOT" dataset info --json "$TMP/d2.h5" | sed 's/"file": "[^"]*", //' >"$TMP/info2"
if cmp -s "$TMP/info1" "$TMP/info2"; then ok; else bad "dataset info differs after a round trip"; fi
no_temp_files "$TMP" "after the conversions"

# --- info: text and JSON ---
run "$MLPOT" dataset info "$TMP/d.h5"
expect_rc 0 "info"
expect_in out "frames              5" "info frames"
expect_in out "atoms               18 (per frame min 1, mean 3.60, max 8)" "info atoms"
expect_in out "species             H 2 O 1 Si 10 Cu 4 Au 1" "info species in Z order"
expect_in out "labels (frames)     energy 3/5, forces 2/5, stress 1/5, weight no" "info labels"
expect_in out "(4/18 atoms)" "info counts labelled force rows"
expect_in out "config types        4: labelled.xyz 2, Si.vasp 1, bulk strained 1, molecule 1" \
    "info config types, most frames first"
run "$MLPOT" dataset info --json "$TMP/d.h5"
expect_rc 0 "info --json"
[[ $(json_field n_frames) == 5 ]] && ok || bad "info --json n_frames"
[[ $(json_field n_atoms) == 18 ]] && ok || bad "info --json n_atoms"
$PY - "$TMP/out" <<'PY' && ok || bad "info --json statistics"
import json, math, sys
d = json.loads(open(sys.argv[1]).readline())
assert d["species"] == {"H": 2, "O": 1, "Si": 10, "Cu": 4, "Au": 1}
assert d["labels"] == {"energy": 3, "forces": 2, "forces_atoms": 4, "stress": 1,
                       "weight": False, "name": True}
epa = [-8.25 / 2, -14.25 / 3, -20.0625 / 4]
e = d["energy_per_atom"]
mean = sum(epa) / 3
assert abs(e["min"] - min(epa)) < 1e-12 and abs(e["max"] - max(epa)) < 1e-12
assert abs(e["mean"] - mean) < 1e-12
assert abs(e["std"] - math.sqrt(sum((x - mean) ** 2 for x in epa) / 3)) < 1e-12
f = [0.125, -0.25, 0.5, -0.125, 0.25, -0.5, 0.1, 0.2, 0.3, -0.1, -0.2, -0.3]
assert abs(d["forces"]["rms"] - math.sqrt(sum(x * x for x in f) / len(f))) < 1e-12
assert abs(d["forces"]["max_norm"] - math.sqrt(0.125**2 + 0.25**2 + 0.5**2)) < 1e-12
gpa = 160.21766208
want = [0.01, 0.02, 0.03, 0.06, 0.05, 0.04]
for a, b in zip(d["stress_gpa"]["mean_voigt"], want):
    assert abs(a - b * gpa) < 1e-9
assert abs(d["stress_gpa"]["max_abs"] - 0.06 * gpa) < 1e-9
assert d["weight"] is None
assert d["config_types"] == {"labelled.xyz": 2, "Si.vasp": 1, "bulk strained": 1, "molecule": 1}
assert d["atoms_per_frame"] == {"min": 1, "mean": 3.6, "max": 8}
PY

# --- split ---
awk 'BEGIN {
    for (k = 0; k < 100; k++) {
        n = 1 + k % 3
        printf "%d\nLattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3 energy=%d.5 config_type=c%d pbc=\"T T T\"\n", n, -k, k % 4
        for (i = 0; i < n; i++) printf "Si %g 0.5 0.5\n", i * 1.5
    }
}' >"$TMP/hundred.xyz"
run "$MLPOT" dataset convert "$TMP/hundred.xyz" -o "$TMP/h.h5"
expect_rc 0 "convert 100 frames"
split() { # seed, output prefix, extra args
    run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,0.2 --seed "$1" -o "$TMP/$2_train.h5" \
        -o "$TMP/$2_val.h5"
}
split 7 a
expect_rc 0 "split"
expect_in err "wrote 80 frames to $TMP/a_train.h5, 20 frames to $TMP/a_val.h5" "split reports"
split 7 b
expect_rc 0 "split again"
if cmp -s "$TMP/a_train.h5" "$TMP/b_train.h5" && cmp -s "$TMP/a_val.h5" "$TMP/b_val.h5"; then
    ok
else
    bad "the same seed gives different files"
fi
split 8 c
expect_rc 0 "split with another seed"
if cmp -s "$TMP/a_val.h5" "$TMP/c_val.h5"; then bad "another seed gives the same split"; else ok; fi
run "$MLPOT" dataset info --json "$TMP/a_val.h5"
[[ $(json_field n_frames) == 20 ]] && ok || bad "the validation part has 20 frames"
# every frame in exactly one part, in the original order (energies -k - 0.5 are decreasing)
for prefix in a c; do
    for part in train val; do
        "$MLPOT" dataset convert "$TMP/${prefix}_$part.h5" -o "$TMP/${prefix}_$part.xyz" 2>/dev/null
    done
    sed -n 's/.*energy=\([-0-9.]*\).*/\1/p' "$TMP/${prefix}_train.xyz" >"$TMP/e_train"
    sed -n 's/.*energy=\([-0-9.]*\).*/\1/p' "$TMP/${prefix}_val.xyz" >"$TMP/e_val"
    if sort -g -r -c "$TMP/e_train" 2>/dev/null && sort -g -r -c "$TMP/e_val" 2>/dev/null; then
        ok
    else
        bad "split $prefix: a part is not in the original order"
    fi
    if [[ $(sort -g "$TMP/e_train" "$TMP/e_val" | uniq | wc -l) -eq 100 ]]; then ok; else
        bad "split $prefix: the parts do not hold every frame once"
    fi
done
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.5,0.3,0.2 --seed 1 -o "$TMP/p1.h5" \
    -o "$TMP/p2.h5" -o "$TMP/p3.h5"
expect_rc 0 "three-way split"
expect_in err "50 frames to $TMP/p1.h5, 30 frames to $TMP/p2.h5, 20 frames to $TMP/p3.h5" \
    "three-way split sizes"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,0.3 -o "$TMP/x1.h5" -o "$TMP/x2.h5"
expect_rc 2 "fractions not summing to 1"
expect_in err "must sum to 1" "fractions not summing to 1 message"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,0.2 -o "$TMP/x1.h5"
expect_rc 2 "split with one -o for two fractions"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,0.2
expect_rc 2 "split without -o"
run "$MLPOT" dataset split "$TMP/h.h5" -o "$TMP/x1.h5" -o "$TMP/x2.h5"
expect_rc 2 "split without --fractions"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,abc -o "$TMP/x1.h5" -o "$TMP/x2.h5"
expect_rc 2 "split with a bad fraction"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.8,0.2 --seed -3 -o "$TMP/x1.h5" \
    -o "$TMP/x2.h5"
expect_rc 2 "split with a negative seed"
run "$MLPOT" dataset split "$TMP/h.h5" --fractions 0.999,0.001 -o "$TMP/x1.h5" -o "$TMP/x2.h5"
expect_rc 1 "split with an empty part"
expect_in err "no frame to $TMP/x2.h5" "empty part message"
[[ ! -e $TMP/x1.h5 && ! -e $TMP/x2.h5 ]] && ok || bad "a failed split left outputs"
no_temp_files "$TMP" "after the splits"

# --- failures: file:line messages, nothing left behind, existing outputs untouched ---
printf '2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 energy=abc\nSi 0 0 0\nSi 1 1 1\n' \
    >"$TMP/bad.xyz"
run "$MLPOT" dataset convert "$TMP/labelled.xyz" "$TMP/bad.xyz" -o "$TMP/fail.h5"
expect_rc 1 "convert a malformed file"
expect_in err "bad.xyz:2: expected energy=<number>, found 'abc'" "malformed file:line message"
[[ ! -e $TMP/fail.h5 ]] && ok || bad "a failed convert left an output"
echo "keep me" >"$TMP/keep.h5"
run "$MLPOT" dataset convert "$TMP/bad.xyz" -o "$TMP/keep.h5"
expect_rc 1 "convert a malformed file over an existing output"
expect_file_has "$TMP/keep.h5" "keep me" "a failed convert leaves the old output"
run "$MLPOT" dataset convert "$TMP/missing.xyz" -o "$TMP/fail.h5"
expect_rc 1 "convert a missing file"
expect_in err "missing.xyz: cannot open" "missing file message"
run "$MLPOT" dataset info "$TMP/keep.h5"
expect_rc 1 "info of a text file"
expect_in err "keep.h5: not an HDF5 file" "info of a text file message"
run "$MLPOT" dataset info "$TMP/a_train.xyz"
expect_rc 1 "info of an extxyz file"
no_temp_files "$TMP" "after the failures"

# --- the file layout, read by h5py ---
if [[ $have_h5py -eq 1 ]]; then
    $PY - "$TMP/d.h5" <<'PY' && ok || bad "h5py sees the layout of formats.md"
import sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["format"] == "mlpot-dataset" and f.attrs["version"] == 1
assert f.attrs["version"].dtype == np.int32
F, A = 5, 18
want = {"n_atoms": ("int32", (F,)), "offset": ("int64", (F,)), "numbers": ("int32", (A,)),
        "positions": ("float64", (A, 3)), "cell": ("float64", (F, 3, 3)),
        "pbc": ("uint8", (F, 3)), "energy": ("float64", (F,)), "forces": ("float64", (A, 3)),
        "stress": ("float64", (F, 3, 3))}
for name, (dtype, shape) in want.items():
    ds = f[name]
    assert ds.dtype == np.dtype(dtype), (name, ds.dtype)
    assert ds.shape == shape, (name, ds.shape)
for name in list(want) + ["name"]:
    ds = f[name]
    assert ds.chunks is not None and ds.compression == "gzip" and ds.shuffle, name
    assert ds.maxshape[0] is None, name
assert "weight" not in f
names = f["name"].asstr()[:]
assert list(names) == ["bulk strained", "molecule", "labelled.xyz", "labelled.xyz", "Si.vasp"]
assert h5py.check_string_dtype(f["name"].dtype).encoding == "utf-8"
assert list(f["offset"][:]) == [0, 2, 5, 9, 10] and list(f["n_atoms"][:]) == [2, 3, 4, 1, 8]
e = f["energy"][:]
assert e[0] == -8.25 and np.isnan(e[3]) and np.isnan(e[4])
forces = f["forces"][:]
assert np.isnan(forces[3]).all() and np.isnan(forces[5:]).all() and forces[4, 0] == -0.1
s = f["stress"][:]
assert s[0, 0, 1] == 0.04 and np.isnan(s[1:]).all()
assert list(f["pbc"][2]) == [1, 1, 0]
PY
    # split keeps root attributes it does not know; h5py writes a dataset mlpot reads
    $PY - "$TMP/py.h5" <<'PY' && ok || bad "h5py writes a dataset"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["format"] = "mlpot-dataset"
    f.attrs["version"] = np.int32(1)
    f.attrs["source"] = "written by h5py"
    f["n_atoms"] = np.array([1, 2, 1], dtype=np.int32)
    f["offset"] = np.array([0, 1, 3], dtype=np.int64)
    f["numbers"] = np.array([14, 8, 8, 1], dtype=np.int32)
    f["positions"] = np.arange(12, dtype=np.float64).reshape(4, 3)
    f["cell"] = np.tile(np.eye(3) * 20, (3, 1, 1))
    f["pbc"] = np.ones((3, 3), dtype=np.uint8)
    f["energy"] = np.array([-1.0, np.nan, -3.0])
    f["weight"] = np.array([1.0, 2.0, 0.5])
    f["name"] = np.array(["a", "b", "c"], dtype=h5py.string_dtype())
PY
    run "$MLPOT" dataset split "$TMP/py.h5" --fractions 0.34,0.66 -o "$TMP/py1.h5" \
        -o "$TMP/py2.h5"
    expect_rc 0 "split an h5py-written dataset"
    $PY - "$TMP/py1.h5" "$TMP/py2.h5" <<'PY' && ok || bad "split keeps attributes and weights"
import sys
import h5py, numpy as np
total = 0
for path in sys.argv[1:]:
    with h5py.File(path, "r") as f:
        assert f.attrs["source"] == "written by h5py"
        w = dict(zip(f["name"].asstr()[:], f["weight"][:]))
        assert all(w[k] == {"a": 1.0, "b": 2.0, "c": 0.5}[k] for k in w)
        total += len(w)
assert total == 3
PY
else
    echo "skipped h5py checks: /usr/bin/python3 has no h5py"
fi

finish "cli dataset"
