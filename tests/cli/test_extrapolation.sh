#!/usr/bin/env bash
# test_extrapolation.sh — extrapolation warnings of predict, md and relax (issue 17): a model
# trained on rattled diamond Si near a = 5.43 Å warns, in one stderr line naming the atoms, on
# the cell compressed to 0.8 (its distances shorter than any seen in training) and not on a
# training frame; --no-extrapolation-warnings silences it; a shipped potential without ranges
# never warns. Usage: bash test_extrapolation.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_extrapolation
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- rattled Si cells scaled by 0.98..1.02, labelled by a random teacher ---
"$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 6 --layers 2 --basis 6 \
    --readout-hidden 6 --bias-std 0.2 --seed 3 -o "$TMP/teacher.h5" 2>/dev/null
frames=()
for k in 1 2 3 4 5 6; do
    awk -v seed="$k" 'BEGIN { srand(seed) }
        NR == 2 { printf "%.4f\n", 0.98 + 0.008 * seed; next }
        NR >= 9 && NF == 3 { printf "%.8f %.8f %.8f\n", $1 + 0.01 * (rand() - 0.5),
                                    $2 + 0.01 * (rand() - 0.5), $3 + 0.01 * (rand() - 0.5); next }
        { print }' "$SRC/structures/Si.vasp" >"$TMP/frame$k.vasp"
    frames+=("$TMP/frame$k.vasp")
done
teacher_dataset "$TMP/teacher.h5" "$TMP/data.h5" "${frames[@]}"
run "$MLPOT" train --train "$TMP/data.h5" --valid-fraction 0 --cutoff 4 --features 6 --layers 2 \
    --basis 6 --readout-hidden 6 --batch-size 2 --epochs 2 --seed 1 --threads 1 \
    -o "$TMP/model.h5"
expect_rc 0 "train"

run "$MLPOT" model info "$TMP/model.h5"
expect_in out "Si                 shortest neighbour distance" "model info shows the ranges"
run "$MLPOT" model info "$SRC/potentials/previous/Si-mlearn-cgcnn.h5"
expect_in out "(none: no extrapolation warnings)" "model info of a file without ranges"

# --- a training frame: no warning ---
run "$MLPOT" predict "$TMP/frame3.vasp" --model "$TMP/model.h5"
expect_rc 0 "predict a training frame"
expect_not_in err "extrapolating" "a training frame does not extrapolate"

# --- compressed to 0.8: one warning line naming the atoms, results still printed ---
sed '2s/.*/0.8/' "$SRC/structures/Si.vasp" >"$TMP/compressed.vasp"
run "$MLPOT" predict "$TMP/compressed.vasp" --model "$TMP/model.h5"
expect_rc 0 "predict a compressed cell (a warning, not an error)"
expect_in err "mlpot: warning: $TMP/compressed.vasp (frame 1): extrapolating: 8 of 8 atoms" \
    "the compressed cell extrapolates"
expect_in err "outside the training range: Si" "the warning names atoms"
expect_in err "closer to a neighbour than any in training (atom 1 at 1.881 Å" "the warning gives the too-short distance"
expect_in out "energy" "predict still prints the results"
[[ $(grep -c extrapolating "$TMP/err") -eq 1 ]] && ok || bad "one warning line: $(cat "$TMP/err")"
run "$MLPOT" predict "$TMP/compressed.vasp" --model "$TMP/model.h5" --no-extrapolation-warnings
expect_rc 0 "predict --no-extrapolation-warnings"
expect_not_in err "extrapolating" "--no-extrapolation-warnings silences predict"

# --- md: once at the first step, a count at the end; relax: the relaxed structure ---
run "$MLPOT" md "$TMP/compressed.vasp" --model "$TMP/model.h5" --steps 3 --every 1 --threads 1
expect_rc 0 "md on the compressed cell"
expect_in err "compressed.vasp, step 0: extrapolating" "md warns at the first step"
expect_in err "4 of 4 steps extrapolated" "md counts the steps at the end"
[[ $(grep -c "extrapolating" "$TMP/err") -eq 1 ]] && ok || bad "md warns once: $(cat "$TMP/err")"
run "$MLPOT" md "$TMP/compressed.vasp" --model "$TMP/model.h5" --steps 3 --threads 1 \
    --no-extrapolation-warnings
expect_not_in err "training ranges" "--no-extrapolation-warnings silences md"
run "$MLPOT" relax "$TMP/compressed.vasp" --model "$TMP/model.h5" --max-steps 3 \
    -o "$TMP/relaxed.vasp"
expect_in err "mlpot: warning: $TMP/compressed.vasp: extrapolating" "relax warns"
run "$MLPOT" relax "$TMP/compressed.vasp" --model "$TMP/model.h5" --max-steps 3 \
    -o "$TMP/relaxed2.vasp" --no-extrapolation-warnings
expect_not_in err "extrapolating" "--no-extrapolation-warnings silences relax"

# --- a model file without ranges: no warning, no error ---
run "$MLPOT" predict "$TMP/compressed.vasp" --model "$SRC/potentials/previous/Si-mlearn-cgcnn.h5"
expect_rc 0 "predict with a model without ranges"
expect_not_in err "extrapolating" "a model without ranges never warns"

# --- a committee warns when any member's ranges are left, not only the first's ---
OLD=$SRC/potentials/previous/Si-mlearn-cgcnn.h5
run "$MLPOT" predict "$TMP/compressed.vasp" --model "$OLD" --model "$TMP/model.h5"
expect_in err "extrapolating" "predict: a committee whose second member extrapolates warns"
run "$MLPOT" md "$TMP/compressed.vasp" --model "$OLD" --model "$TMP/model.h5" --steps 2 \
    --every 1 --threads 1
expect_rc 0 "md with a committee"
expect_in err "extrapolating" "md: a committee whose second member extrapolates warns"
run "$MLPOT" md "$TMP/compressed.vasp" --model "$OLD" --model "$OLD" --steps 2 --every 1 \
    --threads 1
expect_not_in err "extrapolating" "md: a committee of models without ranges never warns"

finish test_extrapolation
