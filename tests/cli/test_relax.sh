#!/usr/bin/env bash
# test_relax.sh — `mlpot relax`: usage errors (one line, exit 2) and failures (exit 1, no
# output); with the shipped Si potential: a rattled cell relaxes below --fmax (checked with
# `mlpot predict`); too few steps is "not converged" (exit 1) with the last structure written;
# --cell brings a stretched and a compressed cell to the same lattice constant between them
# at zero stress; --pressure P ends at stress -P; --keep-symmetry symmetrises the forces (none
# left on a slightly displaced atom) and keeps Fd-3m. Usage: bash test_relax.sh <mlpot binary>
# <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_relax
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SI=$SRC/structures/Si.vasp
POT=$SRC/potentials/Si-mlearn-megnet.h5

# si_poscar SCALE [DX]: diamond Si with the POSCAR scale factor SCALE, atom 1 moved by DX
# (fractional, along x)
si_poscar() {
    awk -v scale="$1" -v dx="${2:-0}" 'NR == 2 { print scale; next }
        NR == 9 { printf "%.10f %s %s\n", $1 + dx, $2, $3; next } { print }' "$SI"
}

# --- usage errors and failures (no model needed to get there) ---
run "$MLPOT" relax --help
expect_rc 0 "relax --help"
expect_in out "usage: mlpot relax" "relax --help text"
run "$MLPOT" relax "$SI"
expect_one_line_error 2 "relax without -o" "-o OUT is required"
run "$MLPOT" relax "$SI" -o "$TMP/x.vasp" --pressure 1
expect_one_line_error 2 "relax --pressure without --cell" "--pressure needs --cell"
run "$MLPOT" relax "$SI" -o "$TMP/x.vasp" --fmax -1
expect_one_line_error 2 "relax negative fmax" "--fmax must be positive"
run "$MLPOT" relax "$SI" -o "$TMP/x.vasp" --max-steps -3
expect_one_line_error 2 "relax negative max-steps" "--max-steps expects an integer >= 0"
run "$MLPOT" relax "$SI" -o "$TMP/x.unknown"
expect_one_line_error 2 "relax unknown output format" "cannot tell the format of '$TMP/x.unknown'"
run "$MLPOT" relax "$SI" -o "$TMP/x.unknown" --format cif
expect_one_line_error 2 "relax bad --format" "--output-format must be vasp or extxyz, got 'cif'"
run "$MLPOT" relax "$TMP/missing.vasp" -o "$TMP/x.vasp"
expect_one_line_error 1 "relax missing structure" "missing.vasp"
[[ ! -e $TMP/x.vasp ]] && ok || bad "a failed relax left an output"

if [[ ! -f $POT ]]; then
    echo "skipped the relaxations: $POT not present"
    finish test_relax
    exit $?
fi

cat >"$TMP/mol.xyz" <<'XYZ'
2
Properties=species:S:1:pos:R:3
Si 0 0 0
Si 2.3 0 0
XYZ
run "$MLPOT" relax "$TMP/mol.xyz" --model "$POT" --cell -o "$TMP/x.xyz"
expect_one_line_error 1 "relax --cell of a molecule" "periodic in three directions"
[[ ! -e $TMP/x.xyz ]] && ok || bad "a failed relax left an output"

# --- positions ---
awk 'NR >= 9 && NR <= 16 { printf "%.10f %.10f %.10f\n", $1 + 0.01 * (NR % 3 - 1),
                              $2 + 0.008 * (NR % 2), $3 - 0.006 * (NR % 4 - 1.5); next }
     { print }' "$SI" >"$TMP/rattled.vasp"
run "$MLPOT" relax "$TMP/rattled.vasp" -o "$TMP/relaxed.vasp" --traj "$TMP/relax.xyz" --threads 1
expect_rc 0 "relax positions"
expect_in err "converged in" "relax converged message"
expect_in out "fmax_eV/A" "relax progress header"
no_temp_files "$TMP" "relax outputs"
steps=$(sed -n 's/.*converged in \([0-9]*\) steps.*/\1/p' "$TMP/err")
[[ $(grep -c '^8$' "$TMP/relax.xyz") -eq $((steps + 1)) ]] && ok ||
    bad "relax trajectory: expected $((steps + 1)) frames"
run "$MLPOT" predict "$TMP/relaxed.vasp" --model "$POT" --format json
/usr/bin/python3 - "$TMP/out" <<'PY' && ok || bad "relaxed structure has forces below fmax"
import json, sys
d = json.loads(open(sys.argv[1]).readline())
fmax = max(sum(c * c for c in f) ** 0.5 for f in d["forces"])
assert 0 < fmax < 0.01, fmax
PY
run "$MLPOT" relax "$TMP/rattled.vasp" -o "$TMP/unconverged.xyz" --max-steps 2 --threads 1
expect_rc 1 "relax not converged"
expect_in err "not converged after 2 steps" "relax not converged message"
expect_file_has "$TMP/unconverged.xyz" "forces:R:3" "the unconverged structure is written"

# --- cell: from both sides to the same lattice constant, at zero stress ---
lattice() { sed -n 3p "$1" | awk '{ print $1 }'; }
for scale in 1.03 0.97; do
    si_poscar $scale >"$TMP/si_$scale.vasp"
    run "$MLPOT" relax "$TMP/si_$scale.vasp" --cell --fmax 0.005 -o "$TMP/cell_$scale.vasp" \
        --threads 1
    expect_rc 0 "relax --cell from scale $scale"
    expect_in out "cell_eV/A" "relax --cell progress header"
    run "$MLPOT" predict "$TMP/cell_$scale.vasp" --model "$POT" --format json
    /usr/bin/python3 - "$TMP/out" <<'PY' && ok || bad "zero stress after relax --cell ($scale)"
import json, sys
d = json.loads(open(sys.argv[1]).readline())
assert max(abs(s) for s in d["stress_voigt_gpa"]) < 0.1, d["stress_voigt_gpa"]
PY
done
a_up=$(lattice "$TMP/cell_1.03.vasp")
a_down=$(lattice "$TMP/cell_0.97.vasp")
expect_near "$a_up" "$a_down" 0.002 "the same lattice constant from both sides"
awk -v a="$a_up" 'BEGIN { exit !(a > 5.431 * 0.97 && a < 5.431 * 1.03) }' && ok ||
    bad "lattice constant $a_up not between the starting ones"

# --- pressure: the final stress is -P ---
run "$MLPOT" relax "$TMP/si_1.03.vasp" --cell --pressure 5 --fmax 0.005 -o "$TMP/p5.vasp" \
    --threads 1
expect_rc 0 "relax --pressure 5"
expect_in err "at 5 GPa" "relax --pressure message"
run "$MLPOT" predict "$TMP/p5.vasp" --model "$POT" --format json
expect_near "$(json_field pressure_gpa)" 5 0.1 "pressure after relax --pressure 5"
p5=$(lattice "$TMP/p5.vasp")
awk -v p="$p5" -v a="$a_up" 'BEGIN { exit !(p < a - 0.01) }' && ok ||
    bad "5 GPa does not compress: $p5 vs $a_up"

# --- keep symmetry: atom 1 off its site by 0.0005 (0.003 Å, within --symprec 0.01) ---
si_poscar 1.02 0.0005 >"$TMP/displaced.vasp"
run "$MLPOT" relax "$TMP/displaced.vasp" --cell --keep-symmetry --symprec 0.01 \
    -o "$TMP/sym.vasp" --threads 1
expect_rc 0 "relax --keep-symmetry"
expect_in err "space group Fd-3m (227) kept" "relax --keep-symmetry message"
# symmetrised: no force left at step 0; without --keep-symmetry, the displaced atom has one
awk '$1 == "0" { exit !($3 < 1e-6) }' "$TMP/out" && ok || bad "forces not symmetrised"
run "$MLPOT" info "$TMP/sym.vasp" --symprec 0.01 --json
expect_in out '"spacegroup_number": 227' "space group of the symmetric relaxation"
run "$MLPOT" relax "$TMP/displaced.vasp" --cell --max-steps 0 -o "$TMP/x.vasp" --threads 1
awk '$1 == "0" { exit !($3 > 1e-3) }' "$TMP/out" && ok || bad "displaced atom has no force"

finish test_relax
