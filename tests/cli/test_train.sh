#!/usr/bin/env bash
# test_train.sh — `mlpot train` end to end: a dataset labelled by a random teacher model
# (mlpot model init + predict), a run killed with SIGKILL after its first checkpoint and resumed
# with --resume, which must end with the same model as an uninterrupted run; the epoch lines,
# the CSV learning curve, the /training provenance, --config files and usage errors.
# Usage: bash test_train.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_train
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# --- a labelled dataset: rattled 2x2x1 Si supercells, labels from a teacher model ---
"$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 8 --layers 2 --basis 8 \
    --readout-hidden 8 --bias-std 0.2 --seed 7 -o "$TMP/teacher.h5" 2>/dev/null
"$MLPOT" convert "$SRC/structures/Si.vasp" "$TMP/si.xyz" 2>/dev/null
frames=()
for k in $(seq 1 12); do
    awk -v seed="$k" 'BEGIN { srand(seed) }
        NR == 1 { print; next }
        NR == 2 { # a 2x2x1 supercell: double a and b in the Lattice
            match($0, /Lattice="[^"]*"/)
            split(substr($0, RSTART + 9, RLENGTH - 10), L, " ")
            for (i = 1; i <= 6; i++) L[i] *= 2
            lat = "Lattice=\"" L[1]; for (i = 2; i <= 9; i++) lat = lat " " L[i]; lat = lat "\""
            sub(/Lattice="[^"]*"/, lat); print; a1 = L[1]; b2 = L[5]; next }
        { n++; el[n] = $1; x[n] = $2; y[n] = $3; z[n] = $4 }
        END { for (i = 0; i < 2; i++) for (j = 0; j < 2; j++) for (m = 1; m <= n; m++)
                  printf "%s %.8f %.8f %.8f\n", el[m], x[m] + i * a1 / 2 + 0.15 * (rand() - 0.5),
                         y[m] + j * b2 / 2 + 0.15 * (rand() - 0.5), z[m] + 0.15 * (rand() - 0.5) }' \
        "$TMP/si.xyz" | sed '1s/.*/32/' >"$TMP/frame$k.xyz"
    frames+=("$TMP/frame$k.xyz")
done
teacher_dataset "$TMP/teacher.h5" "$TMP/data.h5" "${frames[@]}"

# cgcnn with the loss weights and patience of the defaults before issue 17: fast, and what these
# checks were written against (test_train_defaults.sh covers today's defaults)
common=(--train "$TMP/data.h5" --valid-fraction 0.25 --arch cgcnn --cutoff 4 --features 12
    --layers 2 --basis 8 --readout-hidden 12 --batch-size 3 --lr 3e-3 --seed 5 --threads 1
    --epochs 20 --energy-weight 1 --force-weight 1 --stress-weight 0.1 --patience 20)

# --- an uninterrupted run ---
run "$MLPOT" train "${common[@]}" -o "$TMP/a.h5"
expect_rc 0 "train"
expect_in out "settings:" "train prints its settings"
expect_in out "epoch   20/20" "train prints epoch lines"
expect_in out "wrote $TMP/a.h5" "train names its output"
[[ $(wc -l <"$TMP/a.h5.csv") -eq 21 ]] && ok || bad "the CSV has a header and 20 rows"
run "$MLPOT" model info "$TMP/a.h5"
expect_in out "command_line" "provenance: command line"
expect_in out "train_file" "provenance: training file"
expect_in out "train_sha256       $(sha256sum "$TMP/data.h5" | cut -d' ' -f1)" "provenance: SHA-256"

# --- killed with SIGKILL after its first checkpoint, then resumed ---
"$MLPOT" train "${common[@]}" -o "$TMP/b.h5" >"$TMP/b.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
    [[ -f $TMP/b.h5.ckpt ]] && break
    sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
# SIGKILL cannot be caught: the killed run's temporary file (CSV or checkpoint being written)
# stays; the complete files are what matters
rm -f "$TMP"/.mlpot-tmp-"$pid"-*
if [[ -f $TMP/b.h5 ]]; then
    bad "the run finished before it could be killed; the resume test tested nothing"
else
    ok
fi
[[ -f $TMP/b.h5.ckpt ]] && ok || bad "a checkpoint exists after the kill"
run "$MLPOT" train --resume "$TMP/b.h5.ckpt"
expect_rc 0 "resume"
expect_in out "resuming" "resume says so"
run "$MLPOT" predict "$TMP/frame1.xyz" --model "$TMP/a.h5" --format json --per-atom
cp "$TMP/out" "$TMP/pred_a.json"
run "$MLPOT" predict "$TMP/frame1.xyz" --model "$TMP/b.h5" --format json --per-atom
sed 's|b\.h5|a.h5|' "$TMP/out" >"$TMP/pred_b.json"
cmp -s "$TMP/pred_a.json" "$TMP/pred_b.json" && ok ||
    bad "killed + resumed run predicts differently from the uninterrupted run"
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
    /usr/bin/python3 - "$TMP/a.h5" "$TMP/b.h5" <<'PY' && ok || bad "parameters differ after resume"
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
names = []
a.visit(lambda n: names.append(n) if isinstance(a[n], h5py.Dataset) else None)
assert names and all(np.array_equal(a[n][()], b[n][()]) for n in names)
PY
fi
cmp -s <(cut -d, -f1,3- "$TMP/a.h5.csv") <(cut -d, -f1,3- "$TMP/b.h5.csv") && ok ||
    bad "the learning curves differ (apart from timings)"
no_temp_files "$TMP" "train"
compgen -G "$TMP/*.part" >/dev/null && bad "partial files left" || ok

# --- resuming with fewer epochs re-plans the cosine schedule: it still ends at lr_min ---
run "$MLPOT" train "${common[@]}" --stop-after-epochs 2 --lr-min 1e-5 -o "$TMP/resched.h5"
expect_rc 0 "train stopped after 2 of 20 epochs"
run "$MLPOT" train --resume "$TMP/resched.h5.ckpt" --epochs 4
expect_rc 0 "resume with --epochs 4"
expect_in out "epoch    4/4" "resumed run ends at the new epoch count"
lr_last=$(tail -1 "$TMP/resched.h5.csv" | cut -d, -f3)
lr_second=$(sed -n 3p "$TMP/resched.h5.csv" | cut -d, -f3)
awk -v a="$lr_last" -v b="$lr_second" 'BEGIN { exit !(a < 0.25 * b && a < 1e-3) }' && ok ||
    bad "after resume --epochs 4 the last lr ($lr_last) should be far below epoch 2's ($lr_second)"

# --- a config file, overridden by an option ---
cat >"$TMP/settings.json" <<JSON
{
  "train": "$TMP/data.h5", "arch": "cgcnn", "energy-weight": 1, "stress-weight": 0.1,
  "valid-fraction": 0.25, "cutoff": 4, "features": 6, "layers": 1, "basis": 6,
  "readout-hidden": 6, "epochs": 5, "lr-schedule": "plateau", "seed": 1
}
JSON
run "$MLPOT" train --config "$TMP/settings.json" --epochs 2 -o "$TMP/c.h5"
expect_rc 0 "train --config"
expect_in out "epochs 2," "an option overrides the config file"
expect_in out "(plateau)" "the config file's schedule is used"
# an m3gnet config with its own settings (from the architecture's table); training sets n_3
# to the data's mean number of three-body partners: 32-atom rattled Si at r_3 = 3 Å has
# 4 neighbours per atom within 3 Å, so 3 partners per short edge
cat >"$TMP/m3gnet.json" <<JSON
{
  "train": "$TMP/data.h5", "arch": "m3gnet", "edge-features": 4, "megnet-hidden": 5,
  "threebody-cutoff": 3, "threebody-basis": 3, "threebody-lmax": 2,
  "valid-fraction": 0.25, "cutoff": 4, "features": 6, "layers": 1, "basis": 6,
  "readout-hidden": 6, "epochs": 2, "seed": 1
}
JSON
run "$MLPOT" train --config "$TMP/m3gnet.json" -o "$TMP/m3.h5"
expect_rc 0 "train m3gnet from a config"
expect_in out "arch m3gnet" "m3gnet settings printed"
expect_in out "R3 3" "m3gnet's own settings printed"
run "$MLPOT" model info "$TMP/m3.h5"
expect_in out "avg_threebody_neighbors 3" "training sets n_3 from the data"
run "$MLPOT" train --config "$TMP/m3gnet.json" --arch megnet -o "$TMP/m3x.h5"
expect_rc 2 "a three-body option for megnet"
expect_in err "--threebody-cutoff does not apply to architecture megnet" "its message"
# the stress MAE a model records is mlpot eval's (model.md §9: six components, GPa)
run "$MLPOT" dataset split "$TMP/data.h5" --fractions 0.75,0.25 -o "$TMP/tr.h5" -o "$TMP/va.h5"
expect_rc 0 "dataset split"
run "$MLPOT" train --train "$TMP/tr.h5" --valid "$TMP/va.h5" --arch cgcnn --cutoff 4 --features 6 \
    --layers 1 --basis 6 --readout-hidden 6 --epochs 3 --batch-size 8 --energy-weight 1 \
    --stress-weight 0.1 --seed 1 -o "$TMP/s.h5"
expect_rc 0 "train with --valid"
run "$MLPOT" model info "$TMP/s.h5"
recorded=$(sed -n 's/.*last_epoch_valid_stress_mae_gpa *//p' "$TMP/out")
run "$MLPOT" eval "$TMP/s.h5" "$TMP/va.h5" --json
evaluated=$(sed -n 's/.*"overall": {[^}]*"stress_mae_gpa": \([^,}]*\).*/\1/p' "$TMP/out")
expect_near "$recorded" "$evaluated" 1e-9 "train's stress MAE equals eval's"
echo '{"train": "x.h5", "bogus": 1}' >"$TMP/bad.json"
run "$MLPOT" train --config "$TMP/bad.json" -o "$TMP/d.h5"
expect_rc 2 "unknown config setting"
expect_in err 'unknown setting "bogus"' "unknown config setting message"

# --- mlpot eval: the teacher on its own labels has no error at all (labels are written with
# digits that read back exactly); the trained model has some, and plots are written ---
run "$MLPOT" eval "$TMP/teacher.h5" "$TMP/data.h5" --json
expect_rc 0 "eval the teacher"
expect_in out '"energy_mae_mev_per_atom": 0,' "teacher: zero energy error"
expect_in out '"force_mae_ev_per_a": 0,' "teacher: zero force error"
expect_in out '"stress_mae_gpa": 0,' "teacher: zero stress error"
run "$MLPOT" eval "$TMP/a.h5" "$TMP/labelled.xyz" --plot "$TMP/parity.svg" \
    --log "$TMP/a.h5.csv" --curve "$TMP/curve.svg"
expect_rc 0 "eval with plots"
expect_in out "config type" "eval prints a table"
expect_in out "(none)" "frames without a config type are grouped as (none)"
run "$MLPOT" eval "$TMP/a.h5" "$TMP/data.h5"
expect_in out "labelled.xyz" "a dataset's /name (here the source file) groups the rows"
expect_file_has "$TMP/parity.svg" "<svg" "parity plot is SVG"
[[ $(grep -c "<circle" "$TMP/parity.svg") -eq $((12 + 12 * 32 * 3 + 12 * 6)) ]] && ok ||
    bad "parity plot has one point per frame, force component and stress component"
expect_file_has "$TMP/curve.svg" "valid loss" "learning curve"
run "$MLPOT" eval "$TMP/a.h5" "$TMP/data.h5" --log "$TMP/a.h5.csv"
expect_rc 2 "--log without --curve"
run "$MLPOT" eval "$TMP/a.h5" "$TMP/missing.h5"
expect_rc 1 "eval on a missing file"
# force errors by species: one species here, so its row is the overall force error
run "$MLPOT" eval "$TMP/a.h5" "$TMP/data.h5" --json
expect_in out '"forces_by_species": {"Si": {"atoms": 384' "eval: force errors by species"
overall_f=$(sed -n 's/.*"overall": {[^}]*"force_mae_ev_per_a": \([^,}]*\).*/\1/p' "$TMP/out")
si_f=$(sed -n 's/.*"Si": {[^}]*"force_mae_ev_per_a": \([^,}]*\).*/\1/p' "$TMP/out")
expect_near "$si_f" "$overall_f" 1e-12 "eval: the one species' force MAE is the overall one"
# unlabelled input: a clear message, not a table of nan
run "$MLPOT" eval "$TMP/a.h5" "$SRC/structures/Si.vasp"
expect_one_line_error 1 "eval on unlabelled structures" "no energy, force or stress labels"

# --- usage errors ---
run "$MLPOT" train -o "$TMP/e.h5"
expect_rc 2 "train without --train"
run "$MLPOT" train --train "$TMP/data.h5" -o "$TMP/e.h5" --arch transformer
expect_rc 2 "train unknown architecture"
run "$MLPOT" train --train "$TMP/missing.h5" -o "$TMP/e.h5"
expect_rc 1 "train on a missing dataset"
expect_in err "missing.h5" "missing dataset message"

finish "cli train"
