#!/usr/bin/env bash
# test_train_defaults.sh — `mlpot train`'s defaults (issue 17): what --help states is what a run
# with no options uses (its settings line, the checkpoint's stored settings, the model) and is
# the shipped recipe (potentials/recipes/); the printed "loss terms at 1 std of the data" agree
# with a recomputation from the dataset (h5py); a checkpoint written with the old defaults
# resumes with its own settings. Skipped (exit 0) without python3-h5py.
# Usage: bash test_train_defaults.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_train_defaults
PYTHON=/usr/bin/python3
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
skip_without_python_module h5py

# --- a small dataset of two species with arbitrary labels (spread on purpose): 10 rattled
# Si/Ge diamond cells of 8 atoms, energies, forces, and a stress on all but two frames ---
"$PYTHON" - "$SRC/structures/Si.vasp" "$TMP/labelled.xyz" <<'PY'
import sys
import numpy as np
lines = open(sys.argv[1]).read().split("\n")
scale = float(lines[1])
cell = scale * np.array([[float(x) for x in lines[k].split()] for k in (2, 3, 4)])
counts = [int(x) for x in lines[6].split()]
frac = np.array([[float(x) for x in lines[8 + k].split()[:3]] for k in range(sum(counts))])
rng = np.random.default_rng(17)
with open(sys.argv[2], "w") as out:
    for f in range(10):
        n = len(frac)
        species = ["Si" if rng.random() < 0.3 + 0.05 * f else "Ge" for _ in range(n)]
        pos = frac @ cell + rng.normal(0, 0.05, (n, 3))
        energy = -5.4 * species.count("Si") - 4.6 * species.count("Ge") + rng.normal(0, 0.2)
        forces = rng.normal(0, 0.7, (n, 3))
        info = 'Lattice="%s" Properties=species:S:1:pos:R:3:forces:R:3 energy=%.10f pbc="T T T"' % (
            " ".join("%.10f" % x for x in cell.ravel()), energy)
        if f % 5 != 4:
            s = rng.normal(0, 0.01, (3, 3))
            info += ' stress="%s"' % " ".join("%.10f" % x for x in ((s + s.T) / 2).ravel())
        out.write("%d\n%s\n" % (n, info))
        for i in range(n):
            out.write("%s %.10f %.10f %.10f %.10f %.10f %.10f\n" % ((species[i],) + tuple(pos[i])
                                                                   + tuple(forces[i])))
PY
run "$MLPOT" dataset convert "$TMP/labelled.xyz" -o "$TMP/data.h5"
expect_rc 0 "dataset convert"

# --- the defaults as --help states them ---
run "$MLPOT" train --help
expect_rc 0 "train --help"
cp "$TMP/out" "$TMP/help.txt"
expect_in out "recipe of the shipped potentials (potentials/recipes/)" "help names the recipe"
help_default() { # the value in parentheses after an option's name
    sed -n "s/.*--$1 [A-Z]* (\([^);]*\)).*/\1/p" "$TMP/help.txt" | head -1
}
help_arch_default() { # "--edge-features E    megnet, m3gnet: ... (default 16)"
    sed -n "s/.*--$1 [A-Z0-9]* .*(default \([^)]*\))$/\1/p" "$TMP/help.txt" | head -1
}
arch=$(sed -n 's/.*--arch A .*(default \([a-z0-9]*\)).*/\1/p' "$TMP/help.txt")
model_line=$(grep '^model (defaults:' "$TMP/help.txt")
help_size() { # r_c F L K H from "model (defaults: r_c 5, F 32, ...)"
    sed -n "s/.*[ (]$1 \([0-9.]*\)[,)].*/\1/p" <<<"${model_line/defaults:/defaults: }"
}
declare -A want=(
    [arch]=$arch [cutoff]=$(help_size r_c) [features]=$(help_size F) [layers]=$(help_size L)
    [basis]=$(help_size K) [readout-hidden]=$(help_size H)
    [edge-features]=$(help_arch_default edge-features)
    [megnet-hidden]=$(help_arch_default megnet-hidden)
    [energy-weight]=$(help_default energy-weight) [force-weight]=$(help_default force-weight)
    [stress-weight]=$(help_default stress-weight) [epochs]=$(help_default epochs)
    [batch-size]=$(help_default batch-size) [lr]=$(help_default lr)
    [lr-min]=$(help_default lr-min) [clip-norm]=$(help_default clip-norm)
    [ema-decay]=$(help_default ema-decay)
    [patience]=$(sed -n 's/.*--patience N ([^)]*; \([0-9]*\)).*/\1/p' "$TMP/help.txt")
)
for key in "${!want[@]}"; do
    [[ -n ${want[$key]} ]] && ok || bad "no default for --$key found in train --help"
done
# the help's defaults are the shipped recipe (apart from its files, seed and threads)
"$PYTHON" - "$SRC/potentials/recipes/Si-mlearn-megnet.json" \
    "$(for k in "${!want[@]}"; do printf '%s=%s;' "$k" "${want[$k]}"; done)" <<'PY' && ok || bad \
    "train --help's defaults differ from potentials/recipes/Si-mlearn-megnet.json"
import json, sys
recipe = json.load(open(sys.argv[1]))
helped = dict(kv.split("=", 1) for kv in sys.argv[2].split(";") if kv)
same = lambda a, b: a == b if isinstance(a, str) else abs(float(a) - float(b)) <= 1e-12
wrong = [(k, recipe[k], helped[k]) for k in helped if k in recipe and not same(recipe[k], helped[k])]
shared = [k for k in helped if k in recipe]
assert len(shared) >= 13 and not wrong, (shared, wrong)
PY

# --- a run given nothing but data and output uses them: the settings line, the stored
# settings of its checkpoint, the model's sizes ---
run "$MLPOT" train --train "$TMP/data.h5" -o "$TMP/d.h5" --stop-after-epochs 1
expect_rc 0 "train with the defaults (stopped after one epoch)"
cp "$TMP/out" "$TMP/defaults.log"
expect_in out "arch ${want[arch]}, r_c ${want[cutoff]}, F ${want[features]}, L ${want[layers]}, K ${want[basis]}, H ${want[readout-hidden]}, E ${want[edge-features]}, M ${want[megnet-hidden]}" \
    "the settings line has the help's model defaults"
expect_in out "weights E ${want[energy-weight]} F ${want[force-weight]} S ${want[stress-weight]}, epochs ${want[epochs]}, batch ${want[batch-size]}," \
    "the settings line has the help's loss and optimiser defaults"
"$PYTHON" - "$TMP/d.h5.ckpt" \
    "$(for k in "${!want[@]}"; do printf '%s=%s;' "$k" "${want[$k]}"; done)" <<'PY' && ok || bad \
    "the checkpoint's stored settings differ from train --help's defaults"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
helped = dict(kv.split("=", 1) for kv in sys.argv[2].split(";") if kv)
stored = f["checkpoint"].attrs
pairs = {"energy-weight": "energy_weight", "force-weight": "force_weight",
         "stress-weight": "stress_weight", "epochs": "epochs", "batch-size": "batch_size",
         "lr": "lr", "lr-min": "lr_min", "clip-norm": "clip_norm", "ema-decay": "ema_decay",
         "patience": "patience"}
wrong = [(k, helped[k], stored[a]) for k, a in pairs.items() if float(helped[k]) != float(stored[a])]
assert not wrong, wrong
PY
run "$MLPOT" model info "$TMP/d.h5.ckpt"
expect_in out "architecture        ${want[arch]}" "model info: the default architecture"
expect_in out "n_edge_features     ${want[edge-features]}" "model info: the default E"
expect_in out "megnet_hidden       ${want[megnet-hidden]}" "model info: the default M"
expect_in out "node features       ${want[features]}" "model info: the default F"
# model init keeps the architecture's own defaults
run "$MLPOT" model init --arch megnet --species Si --cutoff 5 -o "$TMP/init.h5"
run "$MLPOT" model info "$TMP/init.h5"
expect_in out "n_edge_features     32" "model init keeps its own E"
expect_in out "node features       64" "model init keeps its own F"

# --- the loss terms at one standard deviation of the training labels ---
run "$MLPOT" train --train "$TMP/data.h5" --valid-fraction 0 --energy-weight 30 \
    --force-weight 2 --stress-weight 50 -o "$TMP/w.h5" --stop-after-epochs 1
expect_rc 0 "train with other weights"
expect_in out "loss weights: energy 30, forces 2, stress 50;" "the weights printed"
"$PYTHON" - "$TMP/data.h5" "$TMP/out" <<'PY' && ok || bad "the printed loss terms at 1 std"
import re, sys
import h5py
import numpy as np
d = h5py.File(sys.argv[1], "r")
n, off, z = d["n_atoms"][()], d["offset"][()], d["numbers"][()]
species = sorted(set(z))
counts = np.array([[np.sum(z[o:o + k] == s) for s in species] for o, k in zip(off, n)], float)
energy = d["energy"][()]
ref = np.linalg.lstsq(counts, energy, rcond=None)[0]
e_std = np.std((energy - counts @ ref) / n)
forces = d["forces"][()]
f_std = np.std(forces[np.all(np.isfinite(forces), axis=1)])
stress = d["stress"][()]
labelled = np.all(np.isfinite(stress.reshape(len(n), 9)), axis=1) & np.all(d["pbc"][()], axis=1)
assert 0 < labelled.sum() < len(n)
s_std = np.std(stress[labelled])
text = open(sys.argv[2]).read()
m = re.search(r"data std: energy (\S+) eV/atom, force components (\S+) eV/A, "
              r"stress components (\S+) eV/A\^3", text)
t = re.search(r"loss terms at 1 std of the data: energy (\S+), forces (\S+), stress (\S+)\n", text)
printed_std, printed_terms = [float(x) for x in m.groups()], [float(x) for x in t.groups()]
want_std = [e_std, f_std, s_std]
want_terms = [30 * e_std**2, 2 * f_std**2, 50 * s_std**2]
print("std", printed_std, want_std, "terms", printed_terms, want_terms)
for a, b in zip(printed_std + printed_terms, want_std + want_terms):
    assert abs(a - b) <= 1e-3 * abs(b), (a, b)
PY

# --- a checkpoint written with the old defaults (before issue 17: cgcnn, weights 1/1/0.1,
# batch 8, lr 1e-3, patience 20; smaller than the old F 64 L 3 K 32 H 64, which take 15 s
# under the sanitizers) resumes with its own settings ---
old=(--arch cgcnn --cutoff 5 --features 8 --layers 3 --basis 12 --readout-hidden 10
    --energy-weight 1 --force-weight 1 --stress-weight 0.1 --batch-size 8 --lr 1e-3
    --patience 20)
run "$MLPOT" train --train "$TMP/data.h5" "${old[@]}" --epochs 2 --stop-after-epochs 1 \
    -o "$TMP/old.h5"
expect_rc 0 "a run with the old defaults, stopped after one of two epochs"
run "$MLPOT" train --resume "$TMP/old.h5.ckpt"
expect_rc 0 "resume it"
expect_in out "epoch    2/2" "the resumed run ends at its own epoch count"
run "$MLPOT" model info "$TMP/old.h5"
for line in "architecture        cgcnn" "node features       8" "layers              3" \
    "Gaussian basis      12" "readout hidden      10" "batch_size         8" \
    "lr                 0.001" "energy_weight      1" "stress_weight      0.1" \
    "patience           20" "epochs             2"; do
    grep -qxE " +$line" "$TMP/out" && ok || bad "resumed with its own setting: $line"
done

finish "cli train defaults"
