#!/usr/bin/env bash
# test_format_options.sh — one set of format option names: every command that reads structures
# takes --input-format and every one that writes them --output-format, the older names
# (--format, convert's --from/--to) still work as aliases, and a file whose format cannot be told
# is refused before any work with a hint naming the right option.
# Usage: bash test_format_options.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_format_options
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POT=$SRC/potentials/previous/Si-mlearn-cgcnn.h5
cp "$SRC/structures/Si.vasp" "$TMP/si.txt" # VASP under a name that says no format
"$MLPOT" convert "$SRC/structures/Si.vasp" "$TMP/si.xyz" 2>/dev/null
cp "$TMP/si.xyz" "$TMP/si_xyz.txt"
HINT="or --input-format vasp|extxyz|cif"

# expect_hint WHAT OPTION: exit status 2, one line naming the file and the option to give
expect_hint() {
    expect_one_line_error 2 "$1" "$2"
    expect_not_in err "give --format" "$1: the old hint"
}

# --- info ---
run "$MLPOT" info "$TMP/si.txt"
expect_hint "info: unknown input format" "$HINT"
expect_in err "si.txt" "info: the hint names the file"
run "$MLPOT" info "$TMP/si.txt" --input-format vasp --json
expect_rc 0 "info --input-format"
expect_in out '"spacegroup_number": 227' "info --input-format vasp reads the file"
run "$MLPOT" info "$TMP/si.txt" --format vasp --json
expect_rc 0 "info --format (alias)"
run "$MLPOT" info "$TMP/si.txt" --input-format yaml
expect_hint "info: a bad --input-format" "--input-format must be vasp, extxyz or cif, got 'yaml'"
run "$MLPOT" info - --json <"$TMP/si.xyz"
expect_hint "info: standard input without a format" "'-' (standard input) needs --input-format"
run "$MLPOT" info - --input-format extxyz --json <"$TMP/si.xyz"
expect_rc 0 "info - --input-format extxyz"

# --- convert ---
run "$MLPOT" convert "$TMP/si.txt" "$TMP/c1.xyz"
expect_hint "convert: unknown input format" "$HINT"
run "$MLPOT" convert "$TMP/si.txt" "$TMP/c1.out" --input-format vasp
expect_hint "convert: unknown output format" "or --output-format vasp|extxyz"
run "$MLPOT" convert "$TMP/si.txt" "$TMP/c1.out" --input-format vasp --output-format extxyz
expect_rc 0 "convert --input-format --output-format"
[[ $(head -n 1 "$TMP/c1.out") == 8 ]] && ok || bad "convert --output-format extxyz wrote $(head -n 2 "$TMP/c1.out")"
run "$MLPOT" convert "$TMP/si.txt" "$TMP/c2.out" --from vasp --to extxyz
expect_rc 0 "convert --from --to (aliases)"
cmp -s "$TMP/c1.out" "$TMP/c2.out" && ok || bad "the aliases wrote another file"
run "$MLPOT" convert "$TMP/si.xyz" "$TMP/c3.cif"
expect_hint "convert: a CIF output" "the cif format is read only"
run "$MLPOT" convert "$TMP/si.xyz" -
expect_hint "convert: '-' without a format" "'-' (standard output) needs --output-format"
run "$MLPOT" convert "$TMP/si.xyz" - --output-format vasp
expect_rc 0 "convert to '-' with --output-format"
expect_in out "Si" "convert - writes VASP"

# --- predict ---
run "$MLPOT" predict "$TMP/si.txt" --model "$POT"
expect_hint "predict: unknown input format" "$HINT"
run "$MLPOT" predict "$TMP/si.txt" --model "$POT" --input-format vasp --output-format json
expect_rc 0 "predict --input-format --output-format"
expect_in out '"energy":' "predict --output-format json"
cp "$TMP/out" "$TMP/p1.json"
run "$MLPOT" predict "$TMP/si.txt" --model "$POT" --input-format vasp --format json
expect_rc 0 "predict --format (alias)"
cmp -s "$TMP/out" "$TMP/p1.json" && ok || bad "predict --format json printed something else"
run "$MLPOT" predict "$TMP/si.txt" --model "$POT" --input-format vasp --output-format yaml
expect_hint "predict: a bad --output-format" "--output-format must be text, json or extxyz"

# --- eval (a structure-file DATA) ---
"$MLPOT" predict "$TMP/si.xyz" --model "$POT" --output-format extxyz -o "$TMP/labelled.xyz"
cp "$TMP/labelled.xyz" "$TMP/labelled.txt"
run "$MLPOT" eval "$POT" "$TMP/labelled.txt"
expect_hint "eval: unknown input format" "$HINT"
run "$MLPOT" eval "$POT" "$TMP/labelled.txt" --input-format extxyz --json
expect_rc 0 "eval --input-format"
expect_in out '"frames": 1' "eval --input-format reads the data"

# --- dataset convert ---
run "$MLPOT" dataset convert "$TMP/labelled.txt" -o "$TMP/d.h5"
expect_hint "dataset convert: unknown input format" "$HINT"
run "$MLPOT" dataset convert "$TMP/labelled.txt" -o "$TMP/d.h5" --input-format extxyz
expect_rc 0 "dataset convert --input-format"
run "$MLPOT" dataset convert "$TMP/labelled.txt" -o "$TMP/d2.h5" --format extxyz
expect_rc 0 "dataset convert --format (alias)"
run "$MLPOT" dataset convert "$TMP/d.h5" -o "$TMP/back.out"
expect_hint "dataset convert: unknown output format" "or --output-format vasp|extxyz"
run "$MLPOT" dataset convert "$TMP/d.h5" -o "$TMP/back.out" --output-format extxyz
expect_rc 0 "dataset convert --output-format"
expect_file_has "$TMP/back.out" "energy=" "dataset convert --output-format extxyz wrote the labels"
run "$MLPOT" dataset convert "$TMP/labelled.xyz" -o "$TMP/d3.h5" --output-format extxyz
expect_hint "dataset convert: --output-format for a dataset" "--output-format is for a structure-file OUT"

# --- relax ---
run "$MLPOT" relax "$TMP/si.txt" -o "$TMP/r.vasp" --model "$POT"
expect_hint "relax: unknown input format" "$HINT"
run "$MLPOT" relax "$TMP/si.txt" -o "$TMP/r.out" --model "$POT" --input-format vasp
expect_hint "relax: unknown output format" "or --output-format vasp|extxyz"
run "$MLPOT" relax "$TMP/si.txt" -o "$TMP/r.out" --model "$POT" --input-format vasp \
    --output-format extxyz --max-steps 2
expect_rc 0 "relax --input-format --output-format"
[[ $(head -n 1 "$TMP/r.out") == 8 ]] && ok || bad "relax --output-format extxyz wrote $(head -n 2 "$TMP/r.out")"
run "$MLPOT" relax "$TMP/si.txt" -o "$TMP/r2.out" --model "$POT" --input-format vasp \
    --format vasp --max-steps 2
expect_rc 0 "relax --format (alias)"
if grep -qE '^(Direct|Cartesian)' "$TMP/r2.out"; then ok; else
    bad "relax --format vasp did not write VASP: $(head -n 3 "$TMP/r2.out")"
fi

# --- md ---
run "$MLPOT" md "$TMP/si.txt" --steps 2 --model "$POT"
expect_hint "md: unknown input format" "$HINT"
run "$MLPOT" md "$TMP/si.txt" --steps 2 --every 1 --model "$POT" --input-format vasp
expect_rc 0 "md --input-format"

# --- the help of each command names the options and the aliases ---
for cmd in info convert predict eval "dataset convert" relax md; do
    # shellcheck disable=SC2086
    run "$MLPOT" $cmd --help
    expect_in out "--input-format" "$cmd --help names --input-format"
done
for cmd in convert predict "dataset convert" relax; do
    # shellcheck disable=SC2086
    run "$MLPOT" $cmd --help
    expect_in out "--output-format" "$cmd --help names --output-format"
done

finish test_format_options
