#!/usr/bin/env bash
# test_info.sh — `mlpot info` and the top-level command: help, version, usage errors (exit 2),
# JSON and text output for shipped structures and a molecule, failures on missing or malformed
# files. Usage: bash test_info.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_info
rm -rf "$TMP"
mkdir -p "$TMP"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SI=$SRC/structures/Si.vasp

# --- the top-level command ---
run "$MLPOT" --help
expect_rc 0 "mlpot --help"
expect_in out "usage: mlpot" "mlpot --help"
expect_in out "info" "mlpot --help lists info"
expect_in out "convert" "mlpot --help lists convert"

run "$MLPOT" --version
expect_rc 0 "mlpot --version"
if grep -qE '^mlpot [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"; then ok; else
    bad "--version prints '$(cat "$TMP/out")'"
fi

run "$MLPOT"
expect_rc 2 "mlpot without a command"
expect_in err "usage: mlpot" "mlpot without a command prints the usage on stderr"

run "$MLPOT" frobnicate
expect_rc 2 "unknown command"
expect_in err "unknown command 'frobnicate'" "unknown command message"

run "$MLPOT" --frobnicate
expect_rc 2 "unknown top-level option"
expect_in err "frobnicate" "unknown top-level option message"

# --- info usage ---
run "$MLPOT" info --help
expect_rc 0 "mlpot info --help"
expect_in out "usage: mlpot info" "info --help"
expect_in out "--cutoff" "info --help documents --cutoff"

run "$MLPOT" info --bogus "$SI"
expect_rc 2 "info with an unknown option"
expect_in err "unknown option '--bogus'" "info unknown option message"

run "$MLPOT" info
expect_rc 2 "info without files"
expect_in err "expected at least one structure file" "info without files message"

run "$MLPOT" info --cutoff abc "$SI"
expect_rc 2 "info --cutoff abc"
expect_in err "--cutoff" "info --cutoff abc message"

run "$MLPOT" info --cutoff -1 "$SI"
expect_rc 2 "info --cutoff -1"

run "$MLPOT" info "$SI" --cutoff
expect_rc 2 "info --cutoff without a value"
expect_in err "needs a value" "info --cutoff without a value message"

# --- Si: JSON ---
run "$MLPOT" info "$SI" --json
expect_rc 0 "info Si --json"
expect_in out '"spacegroup_number": 227' "Si space group number"
expect_in out '"spacegroup_symbol": "Fd-3m"' "Si space group symbol"
expect_in out '"n_atoms": 8' "Si atoms"
expect_in out '"formula": "Si8"' "Si formula"
expect_in out '"n_edges": 224' "Si edges at 5 A (28 neighbours within 5 A)"
expect_in out '"neighbors_min": 28' "Si min neighbours"
expect_in out '"neighbors_max": 28' "Si max neighbours"
expect_in out '"pbc": [true, true, true]' "Si pbc"
if [[ $(wc -l <"$TMP/out") -eq 1 ]]; then ok; else
    bad "info --json prints one line per structure"
fi
expect_near "$(json_field density)" 2.329 0.0005 "Si density (8 x 28.085 amu / 5.431^3 A^3)"
expect_near "$(json_field volume)" 160.191477991 1e-6 "Si volume 5.431^3"
expect_near "$(json_field min_distance)" 2.3516919839766 1e-9 "Si bond sqrt(3)/4 a"

# the diamond first shell alone: 4 neighbours at 2.35 A, the next shell is at 3.84 A
run "$MLPOT" info "$SI" --json --cutoff 3
expect_rc 0 "info Si --cutoff 3"
expect_in out '"n_edges": 32' "Si edges at 3 A"
expect_in out '"neighbors_min": 4' "Si neighbours at 3 A"

# --- Si: text ---
run "$MLPOT" info "$SI"
expect_rc 0 "info Si (text)"
expect_in out "Fd-3m (227)" "Si text space group"
expect_in out "2.3290" "Si text density"
expect_in out "Si8" "Si text formula"

# --- other shipped structures ---
run "$MLPOT" info "$SRC/structures/NaCl.vasp" --json
expect_in out '"spacegroup_number": 225' "NaCl space group"
run "$MLPOT" info "$SRC/structures/ZnO.vasp" --json
expect_in out '"spacegroup_number": 186' "ZnO space group"
run "$MLPOT" info "$SRC/structures/triclinic.vasp" --json
expect_in out '"spacegroup_number": 2' "kyanite space group"
run "$MLPOT" info "$SRC/structures/H2O_box.vasp" --json
expect_rc 0 "info H2O_box"
expect_in out '"spacegroup_number": 25' "H2O in a 3D box has a space group"
expect_in out '"volume": 1000' "H2O box volume"

# --- a molecule without a cell ---
cat >"$TMP/water.xyz" <<'EOF'
3
Properties=species:S:1:pos:R:3 energy=-14.25
O 0.0 0.0 0.119
H 0.0 0.763 -0.477
H 0.0 -0.763 -0.477
EOF
run "$MLPOT" info "$TMP/water.xyz" --json
expect_rc 0 "info molecule"
expect_in out '"volume": null' "molecule volume"
expect_in out '"density": null' "molecule density"
expect_in out '"spacegroup_number": null' "molecule space group"
expect_in out '"pbc": [false, false, false]' "molecule pbc"
expect_in out '"n_edges": 6' "molecule edges (3 atoms, all within 5 A)"
run "$MLPOT" info "$TMP/water.xyz"
expect_rc 0 "info molecule (text)"
expect_in out "not periodic" "molecule text says not periodic"

# --- several frames: one JSON line each ---
{
    cat "$TMP/water.xyz"
    cat "$TMP/water.xyz"
    cat <<'EOF'
2
Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties=species:S:1:pos:R:3 pbc="T T T"
Cs 0.0 0.0 0.0
Cl 1.5 1.5 1.5
EOF
} >"$TMP/frames.xyz"
run "$MLPOT" info "$TMP/frames.xyz" --json
expect_rc 0 "info on 3 frames"
if [[ $(wc -l <"$TMP/out") -eq 3 ]]; then ok; else
    bad "3 frames give $(wc -l <"$TMP/out") JSON lines"
fi
if [[ $(sed -n 3p "$TMP/out") == *'"frame": 2'*'"spacegroup_number": 221'* ]]; then ok; else
    bad "frame 3 (CsCl) line: $(sed -n 3p "$TMP/out")"
fi

# --- failures ---
run "$MLPOT" info "$TMP/does_not_exist.vasp"
if [[ $RC -ne 0 ]]; then ok; else bad "missing file exits 0"; fi
expect_in err "does_not_exist.vasp" "missing file message names the file"

printf 'comment\n1.0\n4 0 0\n0 4 abc\n0 0 4\nSi\n1\nDirect\n0 0 0\n' >"$TMP/broken.vasp"
run "$MLPOT" info "$TMP/broken.vasp"
expect_rc 1 "malformed POSCAR"
expect_in err "broken.vasp:4: expected lattice vector b" \
    "malformed POSCAR message has file:line:"
if [[ $(wc -l <"$TMP/err") -eq 1 ]]; then ok; else
    bad "malformed POSCAR message is not one line"
fi

printf '2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\n' >"$TMP/truncated.xyz"
run "$MLPOT" info "$TMP/truncated.xyz" --json
expect_rc 1 "truncated extxyz"
expect_in err "truncated.xyz:4:" "truncated extxyz message has file:line:"
expect_not_in out "{" "truncated extxyz prints no JSON"

: >"$TMP/empty.xyz"
run "$MLPOT" info "$TMP/empty.xyz"
expect_rc 1 "empty file"
expect_in err "empty.xyz" "empty file message names the file"

cp "$SI" "$TMP/si.txt"
run "$MLPOT" info "$TMP/si.txt"
if [[ $RC -ne 0 ]]; then ok; else bad "a file name without a known format exits 0"; fi
expect_in err "si.txt" "unknown format message names the file"
run "$MLPOT" info --format vasp "$TMP/si.txt" --json
expect_rc 0 "info --format vasp"
expect_in out '"spacegroup_number": 227' "info --format vasp reads the file"

# VASP 4 file: species from --species
sed '6d' "$SI" | sed '1s/.*/no species here/' >"$TMP/vasp4.vasp"
run "$MLPOT" info "$TMP/vasp4.vasp"
expect_rc 1 "VASP 4 without species"
expect_in err "vasp4.vasp:6:" "VASP 4 without species message"
run "$MLPOT" info --species Si "$TMP/vasp4.vasp" --json
expect_rc 0 "VASP 4 with --species"
expect_in out '"formula": "Si8"' "VASP 4 with --species formula"

# a molecule has no cell: no nan angles
printf '3\nProperties=species:S:1:pos:R:3\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n' >"$TMP/water.xyz"
run "$MLPOT" info "$TMP/water.xyz"
expect_rc 0 "info on a molecule"
expect_in out "cell                none" "a molecule's cell is none"
expect_not_in out "nan" "no nan in info on a molecule"

echo "cli info: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
