#!/usr/bin/env bash
# test_md_committee.sh — `mlpot md` on a committee (--model twice): two copies of one model run
# exactly the single-model trajectory with zero deviation and select nothing; two different
# models move the atoms with the mean of their forces, log a positive deviation that matches
# `mlpot predict` on the trajectory's frames, and --select-above selects exactly the logged
# frames above the threshold, at the trajectory's positions, appending to the file; usage
# errors of the new options.
# Usage: bash test_md_committee.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_md_committee
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
A=$TMP/a.h5
B=$TMP/b.h5
for seed in 3 4; do
    "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 8 --layers 2 --basis 6 \
        --readout-hidden 5 --bias-std 0.2 --seed $seed -o "$TMP/seed$seed.h5" 2>/dev/null
done
mv "$TMP/seed3.h5" "$A"
mv "$TMP/seed4.h5" "$B"
cp "$A" "$TMP/a_copy.h5"
# a rattled diamond cell (the perfect crystal has zero forces by symmetry)
"$MLPOT" convert "$SRC/structures/Si.vasp" "$TMP/si.xyz" 2>/dev/null
rattle_extxyz "$TMP/si.xyz" || bad "rattling the structure"
SI=$TMP/si.xyz
RUN=(md "$SI" --steps 30 --every 5 --temperature 600 --ensemble nvt-langevin --seed 2)

# --- usage errors ---
run "$MLPOT" "${RUN[@]}" --model "$A" --deviation-log "$TMP/d.csv"
expect_one_line_error 2 "--deviation-log with one model" "need a committee"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above 0.1
expect_one_line_error 2 "--select-above without a file" "--select-above X FILE"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above 0.1 --traj "$TMP/t.xyz"
expect_one_line_error 2 "--select-above followed by an option" "--select-above X FILE"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above -1 "$TMP/s.xyz"
expect_one_line_error 2 "negative --select-above" "must be >= 0"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above 0.1 "$TMP/POSCAR"
expect_one_line_error 2 "--select-above into a VASP file" "extended XYZ"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --restart-every 10
expect_one_line_error 2 "committee with --restart-every" "not available with a committee"
run "$MLPOT" md --restart "$TMP/md.restart" --model "$A" --model "$B"
expect_one_line_error 2 "committee with --restart" "cannot continue a restarted run"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$TMP/missing.h5"
expect_rc 1 "a committee model that does not exist"
[[ ! -e $TMP/s.xyz ]] && ok || bad "a failed usage left a selection file"

# --- two copies of one model: the single model's run exactly, zero spread, nothing selected ---
run "$MLPOT" "${RUN[@]}" --model "$A" --traj "$TMP/single.xyz"
expect_rc 0 "single-model run"
grep -v '^#' "$TMP/out" >"$TMP/single.thermo"
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$TMP/a_copy.h5" --traj "$TMP/copies.xyz" \
    --deviation-log "$TMP/copies.csv" --select-above 0 "$TMP/copies_sel.xyz"
expect_rc 0 "committee of two copies"
expect_in out "# committee of 2 models" "the thermo header names the committee"
grep -v '^#' "$TMP/out" >"$TMP/copies.thermo"
cmp -s "$TMP/single.thermo" "$TMP/copies.thermo" && ok || bad "copies: thermo differs from one model"
cmp -s "$TMP/single.xyz" "$TMP/copies.xyz" && ok || bad "copies: trajectory differs from one model"
expect_file_has "$TMP/copies.csv" \
    "step,time_fs,energy_std_per_atom_eV,force_deviation_max_eV_per_A,force_deviation_mean_eV_per_A" \
    "deviation log header"
[[ $(wc -l <"$TMP/copies.csv") -eq 8 ]] && ok || bad "copies: 7 rows (steps 0..30 every 5) expected"
awk -F, 'NR > 1 && ($3 != 0 || $4 != 0 || $5 != 0) { bad = 1 } END { exit bad }' \
    "$TMP/copies.csv" && ok || bad "copies: deviation not zero: $(cat "$TMP/copies.csv")"
[[ -e $TMP/copies_sel.xyz && ! -s $TMP/copies_sel.xyz ]] && ok ||
    bad "copies: --select-above 0 selected frames"
expect_in err "0 frames with a max force deviation above 0 eV/Å appended" "copies: selection count"

# --- two different models ---
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --traj "$TMP/ab.xyz" \
    --deviation-log "$TMP/ab.csv" --select-above 0 "$TMP/ab_sel.xyz"
expect_rc 0 "committee of two models"
expect_in err "7 frames with a max force deviation above 0 eV/Å appended" "every frame selected"
awk -F, 'NR > 1 && !($3 > 0 && $4 > 0 && $5 > 0 && $4 >= $5) { bad = 1 } END { exit bad }' \
    "$TMP/ab.csv" && ok || bad "two models: deviation not positive: $(cat "$TMP/ab.csv")"
# the spread as predict computes it on the trajectory's frames, and the trajectory's forces
# the mean of the two models' (each evaluated alone)
"$MLPOT" predict "$TMP/ab.xyz" --model "$A" --model "$B" --format json >"$TMP/ab_predict.json"
for m in a b; do
    "$MLPOT" predict "$TMP/ab.xyz" --model "$TMP/$m.h5" --format json >"$TMP/ab_$m.json"
done
/usr/bin/python3 - "$TMP" <<'PY' && ok || bad "deviation log, selection and forces against predict"
import json, sys
tmp = sys.argv[1]

def frames(path):
    """(info dict, rows of words) of every frame of an extended XYZ file."""
    lines = open(path).read().splitlines()
    out, k = [], 0
    while k < len(lines):
        n = int(lines[k])
        info = dict(w.split("=", 1) for w in lines[k + 1].split() if "=" in w and '"' not in w)
        out.append((info, [l.split() for l in lines[k + 2:k + 2 + n]]))
        k += n + 2
    return out

log = [l.split(",") for l in open(f"{tmp}/ab.csv").read().splitlines()[1:]]
traj, sel = frames(f"{tmp}/ab.xyz"), frames(f"{tmp}/ab_sel.xyz")
pred = [json.loads(l) for l in open(f"{tmp}/ab_predict.json")]
single = [[json.loads(l) for l in open(f"{tmp}/ab_{m}.json")] for m in "ab"]
assert len(log) == len(traj) == len(sel) == len(pred) == 7
close = lambda x, y, tol: abs(x - y) <= tol * max(1.0, abs(y))
for row, (tinfo, tatoms), (sinfo, satoms), p, fa, fb in zip(log, traj, sel, pred, *single):
    assert int(row[0]) == int(tinfo["step"]) == int(sinfo["step"])
    assert sinfo["time_fs"] == tinfo["time_fs"]
    # positions: written with the same digits
    assert [a[1:4] for a in satoms] == [a[1:4] for a in tatoms]
    # the trajectory's positions are rounded in print: tolerances above round-off
    assert close(float(row[3]), p["force_deviation_max"], 1e-6), (row, p["force_deviation_max"])
    assert close(float(row[4]), p["force_deviation_mean"], 1e-6)
    assert close(float(row[2]), p["energy_std_per_atom"], 1e-6)
    assert close(float(sinfo["force_deviation_max"]), float(row[3]), 1e-9)
    per_atom = [float(a[4]) for a in satoms]
    assert close(max(per_atom), float(row[3]), 1e-9)
    assert close(sum(per_atom) / len(per_atom), float(row[4]), 1e-9)
    # the trajectory's forces: the mean of the two models' (columns after species and pos)
    cols = tinfo["Properties"].split(":")
    names, start, forces_at = cols[0::3], 0, None
    for name, width in zip(names, cols[2::3]):
        if name == "forces":
            forces_at = start
        start += int(width)
    for i, a in enumerate(tatoms):
        for x in range(3):
            mean = (fa["forces"][i][x] + fb["forces"][i][x]) / 2
            assert abs(float(a[forces_at + x]) - mean) < 1e-6, (i, x, a, mean)
PY

# the C API example (README) prints the same spread for the trajectory's frames
EXAMPLE=$(dirname "$MLPOT")/examples/committee
if [[ -x $EXAMPLE ]]; then
    "$EXAMPLE" "$TMP/ab.xyz" "$A" "$B" >"$TMP/example.out"
    paste -d' ' <(tail -n +2 "$TMP/ab.csv") "$TMP/example.out" | awk '
        { split($1, d, ","); max = $(NF - 5); mean = $(NF - 1)
          if (sprintf("%.4f", d[4]) != max || sprintf("%.4f", d[5]) != mean) bad = 1; n++ }
        END { exit bad || n != 7 }' && ok || bad "examples/committee: $(head -2 "$TMP/example.out")"
fi

# a threshold between the smallest and largest max deviation selects exactly the rows above it
X=$(tail -n +2 "$TMP/ab.csv" | cut -d, -f4 | sort -g | sed -n 3,4p |
    awk '{ s += $1 } END { printf "%.12g", s / 2 }')
EXPECTED=$(awk -F, -v x="$X" 'NR > 1 && $4 > x { n++ } END { print n + 0 }' "$TMP/ab.csv")
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above "$X" "$TMP/ab_x.xyz"
expect_rc 0 "committee with a threshold"
SELECTED=$(grep -c Lattice "$TMP/ab_x.xyz" || true)
[[ $EXPECTED -gt 0 && $EXPECTED -lt 7 && $SELECTED -eq $EXPECTED ]] && ok ||
    bad "threshold $X: $SELECTED frames selected, expected $EXPECTED"
# a second run appends to the selection
run "$MLPOT" "${RUN[@]}" --model "$A" --model "$B" --select-above "$X" "$TMP/ab_x.xyz"
expect_rc 0 "committee appending to a selection"
[[ $(grep -c Lattice "$TMP/ab_x.xyz") -eq $((2 * EXPECTED)) ]] && ok ||
    bad "the second run did not append its frames"

finish test_md_committee
