#!/usr/bin/env bash
# test_predict.sh — `mlpot model init|info` and `mlpot predict`: usage errors, JSON fields and
# their relations (energy per atom, GPa conversion, pressure, per-atom energies summing to the
# energy, no stress without 3D periodicity), text and extxyz output (read back by ASE when
# available), multi-frame input, -o written atomically, and the missing-potential message.
# Usage: bash test_predict.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_predict
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SI=$SRC/structures/Si.vasp
MODEL=$TMP/si_o.h5

# --- model init / info ---
run "$MLPOT" model init --arch cgcnn --species O,Si --cutoff 4.5 --features 8 --layers 2 \
    --basis 6 --readout-hidden 5 --bias-std 0.2 --seed 3 -o "$MODEL"
expect_rc 0 "model init"
expect_in err "wrote cgcnn model" "model init message"
run "$MLPOT" model info "$MODEL"
expect_rc 0 "model info"
expect_in out "architecture        cgcnn" "model info architecture"
expect_in out "species             O Si" "model info species in ascending Z"
expect_in out "seed               3" "model info provenance"
# describe: the description changes, predictions and provenance do not
run "$MLPOT" predict "$SI" --model "$MODEL" --format json
cp "$TMP/out" "$TMP/before.json"
run "$MLPOT" model describe "$MODEL" "For tests: Si-O only." -o "$TMP/described.h5"
expect_rc 0 "model describe"
run "$MLPOT" model info "$TMP/described.h5"
expect_in out "description         For tests: Si-O only." "model describe sets the description"
expect_in out "seed               3" "model describe keeps the provenance"
run "$MLPOT" predict "$SI" --model "$TMP/described.h5" --format json
sed -i 's/described.h5/si_o.h5/' "$TMP/out"
if cmp -s "$TMP/out" "$TMP/before.json"; then ok; else bad "model describe changed predictions"; fi
run "$MLPOT" model describe "$MODEL"
expect_rc 2 "model describe without text"
run "$MLPOT" model describe "$TMP/missing.h5" "x"
expect_rc 1 "model describe missing file"
expect_in err "missing.h5" "model describe names the missing file"
run "$MLPOT" model init --arch cgcnn --species Si --cutoff 5
expect_rc 2 "model init without -o"
expect_in err "required" "model init without -o message"
run "$MLPOT" model init --arch schnet --species Si --cutoff 5 -o "$TMP/x.h5"
expect_rc 2 "model init unknown arch"
expect_in err "cgcnn, megnet" "model init unknown arch lists the registered ones"
run "$MLPOT" model init --arch cgcnn --edge-features 4 --species Si --cutoff 5 -o "$TMP/x.h5"
expect_one_line_error 2 "architecture option of another architecture" \
    "--edge-features does not apply to architecture cgcnn"
run "$MLPOT" model init --megnet-hidden 0 --arch megnet --species Si --cutoff 5 -o "$TMP/x.h5"
expect_one_line_error 2 "architecture option out of range" "--megnet-hidden expects an integer"
run "$MLPOT" model init --megnet-hidden 7 --arch megnet --species Si --cutoff 5 --features 4 \
    --layers 1 --basis 3 --readout-hidden 2 --edge-features 5 -o "$TMP/m7.h5"
expect_rc 0 "architecture options before --arch"
run "$MLPOT" model info "$TMP/m7.h5"
expect_in out "megnet_hidden       7" "model info shows the architecture's own values"
expect_in out "n_edge_features     5" "model info shows n_edge_features"
rm -f "$TMP/m7.h5"
run "$MLPOT" model init --arch cgcnn --species Si,Xx --cutoff 5 -o "$TMP/x.h5"
expect_rc 2 "model init unknown element"
expect_in err "unknown element 'Xx'" "model init unknown element message"
run "$MLPOT" model init --arch megnet --species Si --cutoff -1 -o "$TMP/x.h5"
expect_rc 1 "model init negative cutoff"
expect_in err "cutoff" "model init negative cutoff message"
[[ ! -e $TMP/x.h5 ]] && ok || bad "a failed model init left a file"
echo "not a model" >"$TMP/bad.h5"
run "$MLPOT" model info "$TMP/bad.h5"
expect_rc 1 "model info on a text file"
expect_in err "bad.h5" "model info error names the file"

# --- predict: JSON ---
run "$MLPOT" predict "$SI" --model "$MODEL" --format json --per-atom
expect_rc 0 "predict json"
for key in energy energy_per_atom forces stress stress_voigt_gpa pressure_gpa energies model; do
    expect_in out "\"$key\":" "predict json has $key"
done
/usr/bin/python3 - "$TMP/out" <<'PY' && ok || bad "predict json relations"
import json, sys
d = json.loads(open(sys.argv[1]).readline())
n = d["n_atoms"]
assert n == 8 and len(d["forces"]) == 8 and len(d["energies"]) == 8
assert abs(d["energy_per_atom"] - d["energy"] / n) < 1e-12 * abs(d["energy"])
assert abs(sum(d["energies"]) - d["energy"]) < 1e-10 * abs(d["energy"])
s = d["stress"]
voigt = [s[0][0], s[1][1], s[2][2], s[1][2], s[0][2], s[0][1]]
for a, b in zip(voigt, d["stress_voigt_gpa"]):
    assert abs(a * 160.21766208 - b) <= 1e-9 * (1 + abs(b))
assert abs(d["pressure_gpa"] + sum(d["stress_voigt_gpa"][:3]) / 3) < 1e-9
# perfect diamond: forces vanish by symmetry, stress is isotropic
assert max(abs(f) for row in d["forces"] for f in row) < 1e-10
assert abs(s[0][0] - s[1][1]) < 1e-12 and abs(s[0][1]) < 1e-12
PY

# a molecule: no stress at all
cat >"$TMP/mol.xyz" <<'XYZ'
3
Properties=species:S:1:pos:R:3
O 0.0 0.0 0.0
Si 1.6 0.0 0.0
O 3.2 0.3 0.0
XYZ
run "$MLPOT" predict "$TMP/mol.xyz" --model "$MODEL" --format json
expect_rc 0 "predict molecule"
expect_not_in out '"stress"' "molecule has no stress"
run "$MLPOT" predict "$TMP/mol.xyz" --model "$MODEL"
expect_in out "none (not periodic in three directions)" "molecule text says no stress"

# --- multi-frame input, text output ---
"$MLPOT" convert "$SI" "$TMP/si.xyz" 2>/dev/null
cat "$TMP/si.xyz" "$TMP/mol.xyz" >"$TMP/two.xyz"
run "$MLPOT" predict "$TMP/two.xyz" --model "$MODEL" --format json
expect_rc 0 "predict two frames"
[[ $(wc -l <"$TMP/out") -eq 2 ]] && ok || bad "two frames give two JSON lines"
run "$MLPOT" predict "$TMP/two.xyz" --model "$MODEL"
expect_in out "two.xyz, frame 2" "text labels frames"
expect_in out "pressure" "text has pressure"
expect_in out "xx yy zz yz xz xy" "text labels the Voigt order"

# --- extxyz output, -o atomically ---
run "$MLPOT" predict "$SI" --model "$MODEL" --format extxyz --per-atom -o "$TMP/pred.xyz"
expect_rc 0 "predict extxyz -o"
expect_file_has "$TMP/pred.xyz" "energies:R:1" "extxyz has per-atom energies"
expect_file_has "$TMP/pred.xyz" "stress=" "extxyz has stress"
no_temp_files "$TMP" "predict -o"
if /usr/bin/python3 -c 'import ase' 2>/dev/null; then
    run "$MLPOT" predict "$SI" --model "$MODEL" --format json --per-atom
    /usr/bin/python3 - "$TMP/pred.xyz" "$TMP/out" <<'PY' && ok || bad "ASE reads predict's extxyz"
import json, sys
import numpy as np
from ase.io import read
atoms = read(sys.argv[1])
d = json.loads(open(sys.argv[2]).readline())
assert abs(atoms.get_potential_energy() - d["energy"]) < 1e-12 * abs(d["energy"])
assert np.allclose(atoms.get_forces(), d["forces"], atol=1e-14)
assert np.allclose(atoms.get_stress(voigt=False), d["stress"], atol=1e-15)
PY
else
    echo "skipped ASE check: python3-ase not installed"
fi
# a failing run keeps an existing output untouched
echo "keep me" >"$TMP/keep.txt"
echo "not a structure" >"$TMP/bad.xyz" # (a name without a format is refused before any work)
run "$MLPOT" predict "$SI" "$TMP/bad.xyz" --model "$MODEL" -o "$TMP/keep.txt"
expect_rc 1 "predict with an unreadable second input"
expect_file_has "$TMP/keep.txt" "keep me" "failed predict leaves the old output"
no_temp_files "$TMP" "failed predict"

# --- errors ---
run "$MLPOT" predict "$SI" --model "$MODEL" --format yaml
expect_rc 2 "predict unknown format"
run "$MLPOT" predict "$SI" --model "$MODEL" --bogus
expect_rc 2 "predict unknown option"
run "$MLPOT" predict "$SI" --model "$TMP/missing.h5"
expect_rc 1 "predict missing model"
expect_in err "missing.h5" "predict missing model message"
cat >"$TMP/fe.xyz" <<'XYZ'
1
Properties=species:S:1:pos:R:3
Fe 0.0 0.0 0.0
XYZ
run "$MLPOT" predict "$TMP/fe.xyz" --model "$MODEL"
expect_rc 1 "predict unknown element"
expect_in err "atom 1 is Fe, which the model does not know (its species: O, Si)" "unknown element"
run env MLPOT_POTENTIALS="$TMP/empty" "$MLPOT" predict "$TMP/fe.xyz"
expect_rc 1 "predict without a covering potential"
expect_in err "--model" "missing-potential message suggests --model"
mkdir -p "$TMP/pots"
cp "$MODEL" "$TMP/pots/si_o.h5"
run env MLPOT_POTENTIALS="$TMP/pots" "$MLPOT" predict "$SI" --format json
expect_rc 0 "predict finds a potential in MLPOT_POTENTIALS"
expect_in err "using potential $TMP/pots/si_o.h5" "predict names the potential it used"

# --- --symmetrize on a displaced atom: forces keep the symmetry of the input ---
run "$MLPOT" predict "$SI" --model "$MODEL" --symmetrize --format json
expect_rc 0 "predict --symmetrize"
run "$MLPOT" predict "$TMP/mol.xyz" --model "$MODEL" --symmetrize
expect_rc 1 "--symmetrize on a molecule"
expect_in err "periodic" "--symmetrize on a molecule message"

# a committee of two models: the mean of their predictions and their spread, against the two
# predictions made one model at a time
"$MLPOT" model init --arch megnet --species O,Si --cutoff 4.5 --features 8 --layers 2 --basis 6 \
    --edge-features 4 --megnet-hidden 5 --bias-std 0.2 --seed 9 -o "$TMP/second.h5" 2>/dev/null
"$MLPOT" convert "$SRC/structures/Si.vasp" "$TMP/si_rattled.xyz" 2>/dev/null
rattle_extxyz "$TMP/si_rattled.xyz" || bad "rattling a structure for the committee check"
for m in "$MODEL" "$TMP/second.h5"; do
    "$MLPOT" predict "$TMP/si_rattled.xyz" --model "$m" --format json --per-atom >>"$TMP/single.json"
done
run "$MLPOT" predict "$TMP/si_rattled.xyz" --model "$MODEL" --model "$TMP/second.h5" \
    --format json --per-atom
expect_rc 0 "predict with a committee of two models"
/usr/bin/python3 - "$TMP/single.json" "$TMP/out" <<'PY' && ok || bad "committee mean and deviation"
import json, sys
import numpy as np
a, b = [json.loads(l) for l in open(sys.argv[1])]
c = json.loads(open(sys.argv[2]).readline())
n = c["n_atoms"]
assert c["committee_size"] == 2
assert abs(c["energy"] - (a["energy"] + b["energy"]) / 2) < 1e-12 * (1 + abs(c["energy"]))
fa, fb, fc = (np.array(x["forces"]) for x in (a, b, c))
assert np.abs(fc - (fa + fb) / 2).max() < 1e-12
assert np.abs(np.array(c["stress"]) - (np.array(a["stress"]) + np.array(b["stress"])) / 2).max() < 1e-14
assert np.abs(np.array(c["energies"]) - (np.array(a["energies"]) + np.array(b["energies"])) / 2).max() < 1e-12
dev = np.sqrt((((fa - fc) ** 2 + (fb - fc) ** 2) / 2).sum(axis=1))
assert dev.max() > 1e-3  # the two models disagree
assert abs(c["force_deviation_max"] - dev.max()) < 1e-12
assert abs(c["force_deviation_mean"] - dev.mean()) < 1e-12
assert abs(c["energy_std_per_atom"] - abs(a["energy"] - b["energy"]) / 2 / n) < 1e-12
PY
run "$MLPOT" predict "$TMP/si_rattled.xyz" --model "$MODEL" --model "$TMP/second.h5"
expect_in out "committee           2 models" "the text output names the committee"

finish "cli predict"
