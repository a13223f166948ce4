#!/usr/bin/env bash
# test_train_log.sh — what `mlpot train` prints while it runs: each epoch's learning rate is that
# of its last step, checked against the warm-up and cosine formulas computed here; missing
# values (no validation set) are "nan" in the log and in a CSV that numpy and pandas read; a log
# redirected to a file holds its lines in the order they were printed (line-buffered stdout).
# Usage: bash test_train_log.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_train_log
PYTHON=/usr/bin/python3
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- six rattled 8-atom Si cells labelled by a small random teacher ---
"$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 6 --layers 1 --basis 6 \
    --readout-hidden 6 --seed 3 -o "$TMP/teacher.h5" 2>/dev/null
"$MLPOT" convert "$SRC/structures/Si.vasp" "$TMP/si.xyz" 2>/dev/null
frames=()
for k in $(seq 1 6); do
    awk -v seed="$k" 'BEGIN { srand(seed) } NR <= 2 { print; next }
        { printf "%s %.8f %.8f %.8f\n", $1, $2 + 0.2 * (rand() - 0.5),
                 $3 + 0.2 * (rand() - 0.5), $4 + 0.2 * (rand() - 0.5) }' \
        "$TMP/si.xyz" >"$TMP/frame$k.xyz"
    frames+=("$TMP/frame$k.xyz")
done
teacher_dataset "$TMP/teacher.h5" "$TMP/data.h5" "${frames[@]}"

# --- 6 frames, batches of 2: 3 steps an epoch, 15 in all, 4 of them warm-up ---
lr=2e-3
lr_min=1e-4
warmup=4
run "$MLPOT" train --train "$TMP/data.h5" --valid-fraction 0 --arch cgcnn --cutoff 4 \
    --features 6 --layers 1 --basis 6 --readout-hidden 6 --batch-size 2 --epochs 5 --lr $lr \
    --energy-weight 1 --stress-weight 0.1 --patience 20 \
    --lr-min $lr_min --warmup-steps $warmup --seed 1 --threads 1 -o "$TMP/m.h5"
expect_rc 0 "train"
cp "$TMP/out" "$TMP/train.log"

# the schedule of src/train/optimizer.c, step t = 1, 2, ...: linear warm-up to lr, then a cosine
# from lr down to lr_min over the remaining steps; the epoch's rate is its last step's, t = 3 e
expected_lr() { # epoch
    awk -v e="$1" -v lr=$lr -v lmin=$lr_min -v w=$warmup 'BEGIN {
        t = 3 * e; total = 15; pi = atan2(0, -1)
        if (t <= w) r = lr * t / w
        else { x = (t - w) / (total - w); if (x > 1) x = 1
               r = lmin + 0.5 * (lr - lmin) * (1 + cos(pi * x)) }
        printf "%.10e\n", r }'
}
for e in 1 2 3 4 5; do
    want=$(expected_lr $e)
    printed=$(sed -n "s|^epoch *$e/5  lr \([^ ]*\) .*|\1|p" "$TMP/train.log")
    logged=$(awk -F, -v e=$e 'NR > 1 && $1 == e { print $3 }' "$TMP/m.h5.csv")
    want_printed=$(awk -v x="$want" 'BEGIN { printf "%.2e", x }')
    if [[ $printed == "$want_printed" ]]; then ok; else
        bad "epoch $e: printed lr '$printed', expected $want_printed (last step, t = $((3 * e)))"
    fi
    expect_near "$logged" "$want" "$(awk -v x="$want" 'BEGIN { print 1e-6 * x }')" \
        "epoch $e: the CSV's lr"
done
# the warm-up is visible: epoch 1 ends at 3/4 of lr (its first step had 1/4)
[[ $(sed -n 's|^epoch *1/5  lr \([^ ]*\) .*|\1|p' "$TMP/train.log") == "1.50e-03" ]] && ok ||
    bad "epoch 1's lr is not that of its last warm-up step: $(grep 'epoch *1/5' "$TMP/train.log")"

# --- no validation set: its columns are nan, written the one way numpy and pandas read ---
expect_file_has "$TMP/train.log" "| valid loss" "the epoch line has its validation part"
if grep -E -- '-nan|NaN|-inf' "$TMP/train.log" "$TMP/m.h5.csv" >/dev/null; then
    bad "non-finite values not written as nan/inf: $(grep -E -- '-nan|NaN' "$TMP/m.h5.csv" | head -2)"
else
    ok
fi
expect_file_has "$TMP/train.log" "E nan  F nan  S nan" "missing validation errors print as nan"
if "$PYTHON" -c 'import numpy' 2>/dev/null; then
    if "$PYTHON" - "$TMP/m.h5.csv" <<'EOF'; then ok; else bad "numpy reading the CSV"; fi
import sys
import numpy as np
a = np.genfromtxt(sys.argv[1], delimiter=",", names=True)
b = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
assert a.shape == (5,) and b.shape == (5, 11), (a.shape, b.shape)
for name in ("valid_energy_mae_mev_per_atom", "valid_force_mae_ev_per_a", "valid_stress_mae_gpa"):
    assert np.isnan(a[name]).all(), name
for name in ("lr", "train_loss", "train_energy_mae_mev_per_atom", "train_stress_mae_gpa"):
    assert np.isfinite(a[name]).all(), name
assert np.isnan(b[:, 8:]).all() and np.isfinite(b[:, :8]).all()
try:
    import pandas as pd
except ImportError:
    sys.exit(0)
df = pd.read_csv(sys.argv[1])
assert all(df.dtypes == "float64") or df["epoch"].dtype == "int64", df.dtypes
assert df["valid_force_mae_ev_per_a"].isna().all() and df["lr"].notna().all()
EOF
else
    echo "skipped numpy/pandas checks: $PYTHON cannot import numpy"
fi

# --- a log redirected to a file: lines in the order printed, stdout and stderr alike ---
# (stdout fully buffered would put the settings lines after the error that followed them)
"$MLPOT" train --train "$TMP/missing.h5" -o "$TMP/never.h5" >"$TMP/mixed.log" 2>&1 || true
first=$(head -n 1 "$TMP/mixed.log")
last=$(tail -n 1 "$TMP/mixed.log")
[[ $first == settings:* ]] && ok || bad "the settings line is not first: $(cat "$TMP/mixed.log")"
[[ $last == mlpot:*missing.h5* ]] && ok || bad "the error is not last: $(cat "$TMP/mixed.log")"

finish test_train_log
