#!/usr/bin/env bash
# test_convert.sh — `mlpot convert`: vasp -> extxyz -> vasp keeps every number `mlpot info` shows,
# labels survive extxyz -> extxyz, and failures leave neither an output nor a temporary file and
# never touch an existing output. Usage: bash test_convert.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_convert
rm -rf "$TMP"
mkdir -p "$TMP"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# info_numbers FILE: `mlpot info --json` without the file name
info_numbers() {
    "$MLPOT" info --json "$1" | sed 's/"file": "[^"]*", //'
}

# --- usage ---
run "$MLPOT" convert --help
expect_rc 0 "convert --help"
expect_in out "usage: mlpot convert" "convert --help"
run "$MLPOT" convert "$SRC/structures/Si.vasp"
expect_rc 2 "convert with one file name"
expect_in err "expected an input and an output file" "convert with one file name message"
run "$MLPOT" convert --bogus "$SRC/structures/Si.vasp" "$TMP/x.xyz"
expect_rc 2 "convert with an unknown option"
expect_in err "unknown option '--bogus'" "convert unknown option message"
run "$MLPOT" convert "$SRC/structures/Si.vasp" -
expect_rc 2 "convert to stdout without --to"

# --- every shipped structure: vasp -> extxyz -> vasp ---
for f in "$SRC"/structures/*.vasp; do
    name=$(basename "$f" .vasp)
    run "$MLPOT" convert "$f" "$TMP/$name.xyz"
    expect_rc 0 "convert $name.vasp to extxyz"
    expect_in err "wrote 1 structure to" "convert $name reports what it wrote"
    run "$MLPOT" convert "$TMP/$name.xyz" "$TMP/${name}_back.vasp"
    expect_rc 0 "convert $name.xyz back to vasp"
    want=$(info_numbers "$f")
    for out in "$TMP/$name.xyz" "$TMP/${name}_back.vasp"; do
        got=$(info_numbers "$out")
        if [[ "$got" == "$want" ]]; then ok; else
            bad "info of $(basename "$out") differs from $name.vasp:"$'\n'"  $got"$'\n'"  $want"
        fi
    done
done
no_temp_files "$TMP" "after the shipped conversions"

# --- labels and extra columns survive extxyz -> extxyz ---
{
    echo 2
    printf '%s ' 'Lattice="4.0 0.0 0.0 1.0 4.0 0.0 0.0 0.5 5.0"' \
        'Properties=species:S:1:pos:R:3:tag:I:1:forces:R:3' 'energy=-8.25' \
        'stress="0.01 0.04 0.05 0.04 0.02 0.06 0.05 0.06 0.03"' 'config_type="bulk strained"'
    echo 'pbc="T T T"'
    echo 'Si 0.0 0.0 0.0 3 0.125 -0.25 0.5'
    echo 'Si 1.0 1.0 1.0 -4 nan nan nan'
} >"$TMP/labelled.xyz"
run "$MLPOT" convert "$TMP/labelled.xyz" "$TMP/labelled_out.xyz"
expect_rc 0 "convert a labelled extxyz"
expect_file_has "$TMP/labelled_out.xyz" "energy=-8.25" "energy kept"
expect_file_has "$TMP/labelled_out.xyz" 'stress="0.01 0.04 0.05 0.04 0.02 0.06 0.05 0.06 0.03"' \
    "stress kept"
expect_file_has "$TMP/labelled_out.xyz" 'config_type="bulk strained"' "info kept"
expect_file_has "$TMP/labelled_out.xyz" ":tag:I:1" "extra column kept"
if grep -qE '^Si +1 1 1 -4 nan nan nan$' "$TMP/labelled_out.xyz"; then ok; else
    bad "atom 2 line: $(sed -n 4p "$TMP/labelled_out.xyz")"
fi
run "$MLPOT" convert "$TMP/labelled_out.xyz" "$TMP/labelled_again.xyz"
if cmp -s "$TMP/labelled_out.xyz" "$TMP/labelled_again.xyz"; then ok; else
    bad "extxyz written by mlpot is not a fixed point of convert"
fi

# --- standard output, explicit formats ---
run "$MLPOT" convert "$SRC/structures/Si.vasp" - --to extxyz
expect_rc 0 "convert to stdout"
if [[ $(head -n 1 "$TMP/out") == 8 && $(wc -l <"$TMP/out") -eq 10 ]]; then ok; else
    bad "extxyz on stdout: $(head -c 300 "$TMP/out")"
fi
cp "$SRC/structures/Si.vasp" "$TMP/si_input.txt"
run "$MLPOT" convert "$TMP/si_input.txt" "$TMP/from_txt.xyz"
if [[ $RC -ne 0 ]]; then ok; else bad "an input name without a format is accepted"; fi
expect_in err "si_input.txt" "unknown input format message names the file"
run "$MLPOT" convert --from vasp "$TMP/si_input.txt" "$TMP/from_txt.xyz"
expect_rc 0 "convert --from vasp"
run "$MLPOT" convert --to vasp "$TMP/from_txt.xyz" "$TMP/si_output.txt"
expect_rc 0 "convert --to vasp"
if [[ "$(info_numbers "$TMP/from_txt.xyz")" == "$(info_numbers "$SRC/structures/Si.vasp")" ]]
then
    ok
else
    bad "--from vasp conversion changed the structure"
fi

# output files get the usual permissions (umask), not those of a private temporary file
(
    umask 022
    "$MLPOT" convert "$SRC/structures/Cu.vasp" "$TMP/perm.xyz" 2>/dev/null
)
if [[ $(stat -c %a "$TMP/perm.xyz") == 644 ]]; then ok; else
    bad "output mode $(stat -c %a "$TMP/perm.xyz"), expected 644 under umask 022"
fi

# --- failures leave nothing behind ---
mkdir -p "$TMP/multi"
cat >"$TMP/two_frames.xyz" <<'EOF'
1
Lattice="3.0 0.0 0.0 0.0 3.0 0.0 0.0 0.0 3.0" Properties=species:S:1:pos:R:3 pbc="T T T"
Cu 0.0 0.0 0.0
1
Lattice="3.1 0.0 0.0 0.0 3.1 0.0 0.0 0.0 3.1" Properties=species:S:1:pos:R:3 pbc="T T T"
Cu 0.0 0.0 0.0
EOF
run "$MLPOT" convert "$TMP/two_frames.xyz" "$TMP/multi/out.vasp"
expect_rc 1 "two frames to vasp"
expect_in err "one structure" "two frames to vasp message"
if [[ -z $(ls -A "$TMP/multi") ]]; then ok; else
    bad "two frames to vasp left files: $(ls -A "$TMP/multi")"
fi

# a molecule has no cell for a POSCAR
mkdir -p "$TMP/molecule"
printf '2\nProperties=species:S:1:pos:R:3\nH 0 0 0\nH 0.74 0 0\n' >"$TMP/h2.xyz"
run "$MLPOT" convert "$TMP/h2.xyz" "$TMP/molecule/h2.vasp"
expect_rc 1 "molecule to vasp"
expect_in err "periodic" "molecule to vasp message"
if [[ -z $(ls -A "$TMP/molecule") ]]; then ok; else
    bad "molecule to vasp left files: $(ls -A "$TMP/molecule")"
fi

# a missing input creates no output
mkdir -p "$TMP/missing"
run "$MLPOT" convert "$TMP/nope.vasp" "$TMP/missing/out.xyz"
expect_rc 1 "missing input"
expect_in err "nope.vasp" "missing input message names the file"
if [[ -z $(ls -A "$TMP/missing") ]]; then ok; else bad "missing input left files"; fi

# an existing output survives a conversion that fails on frame 2
mkdir -p "$TMP/keep"
cp "$TMP/labelled_out.xyz" "$TMP/keep/old.xyz"
cp "$TMP/keep/old.xyz" "$TMP/old_copy.xyz"
{
    cat "$TMP/two_frames.xyz"
    printf '2\nProperties=species:S:1:pos:R:3\nCu 0 0 0\n'
} >"$TMP/bad_third_frame.xyz"
run "$MLPOT" convert "$TMP/bad_third_frame.xyz" "$TMP/keep/old.xyz"
expect_rc 1 "conversion failing on frame 3"
expect_in err "bad_third_frame.xyz:10:" "frame 3 error has file:line:"
if cmp -s "$TMP/keep/old.xyz" "$TMP/old_copy.xyz"; then ok; else
    bad "a failed conversion changed the existing output"
fi
no_temp_files "$TMP/keep" "after a failed conversion over an existing file"

cp "$SRC/structures/NaCl.vasp" "$TMP/keep/old.vasp"
run "$MLPOT" convert "$TMP/two_frames.xyz" "$TMP/keep/old.vasp"
expect_rc 1 "two frames over an existing POSCAR"
if cmp -s "$TMP/keep/old.vasp" "$SRC/structures/NaCl.vasp"; then ok; else
    bad "a failed conversion changed the existing POSCAR"
fi
no_temp_files "$TMP/keep" "after two frames over an existing POSCAR"

# a successful conversion replaces the existing output
run "$MLPOT" convert "$SRC/structures/Li.vasp" "$TMP/keep/old.vasp"
expect_rc 0 "conversion over an existing file"
if [[ "$(info_numbers "$TMP/keep/old.vasp")" == "$(info_numbers "$SRC/structures/Li.vasp")" ]]
then
    ok
else
    bad "the existing output was not replaced"
fi
no_temp_files "$TMP/keep" "after a successful conversion"

# converting a file onto itself is refused (issue 16: an output is never an input), also
# under another name for the same file, and the file is untouched
cp "$TMP/labelled_out.xyz" "$TMP/in_place.xyz"
ln -sf in_place.xyz "$TMP/in_place_link.xyz"
for out in "$TMP/in_place.xyz" "$TMP/in_place_link.xyz"; do
    run "$MLPOT" convert "$TMP/in_place.xyz" "$out"
    expect_one_line_error 1 "convert a file onto itself" "is the input"
done
if cmp -s "$TMP/in_place.xyz" "$TMP/labelled_out.xyz"; then ok; else
    bad "converting a file onto itself changed it"
fi

# an output directory that does not exist
run "$MLPOT" convert "$SRC/structures/Li.vasp" "$TMP/no/such/dir/out.xyz"
expect_rc 1 "output in a missing directory"
expect_in err "out.xyz" "output in a missing directory message names the file"

echo "cli convert: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
