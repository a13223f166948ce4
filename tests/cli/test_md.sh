#!/usr/bin/env bash
# test_md.sh — `mlpot md`: usage errors (one line, exit 2) and failures (exit 1, no output
# left behind); an NVE run with a small random model: thermo columns, the CSV log (exact
# initial temperature, conserved = etot, energy conserved), the trajectory (frames, labels,
# velocities; read back by ASE when available), the summary line; the same seed reproduces a
# run and another seed does not; Langevin and Nosé–Hoover runs report a conserved energy
# apart from etot; 1 and 2 threads give the same 64-atom run.
# Usage: bash test_md.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_md
rm -rf "$TMP"
mkdir -p "$TMP"
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
SI=$SRC/structures/Si.vasp
MODEL=$TMP/si.h5

run "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 8 --layers 2 --basis 6 \
    --readout-hidden 5 --bias-std 0.2 --seed 3 -o "$MODEL"
expect_rc 0 "model init"

# --- usage errors and failures ---
run "$MLPOT" md --help
expect_rc 0 "md --help"
expect_in out "usage: mlpot md" "md --help text"
run "$MLPOT" md "$SI" --model "$MODEL"
expect_one_line_error 2 "md without --steps" "--steps N is required"
run "$MLPOT" md "$SI" --model "$MODEL" --steps -5
expect_one_line_error 2 "md negative steps" "--steps expects an integer >= 0, got '-5'"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 10 --ensemble npt
expect_one_line_error 2 "md bad ensemble" "--ensemble must be nve, nvt-langevin or nvt-nose-hoover, got 'npt'"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 10 --dt 0
expect_one_line_error 2 "md zero dt" "--dt must be positive"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 10 --temperature hot
expect_one_line_error 2 "md non-numeric temperature" "--temperature expects a number, got 'hot'"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 10 --every 0
expect_one_line_error 2 "md --every 0" "--every expects an integer >= 1"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 10 --bogus
expect_one_line_error 2 "md unknown option" "unknown option '--bogus'"
run "$MLPOT" md "$TMP/missing.vasp" --model "$MODEL" --steps 10
expect_one_line_error 1 "md missing structure" "missing.vasp"
run "$MLPOT" md "$SI" --model "$TMP/missing.h5" --steps 10 --log "$TMP/failed.csv" \
    --traj "$TMP/failed.xyz"
expect_one_line_error 1 "md missing model" "missing.h5"
[[ ! -e $TMP/failed.csv && ! -e $TMP/failed.xyz ]] && ok || bad "a failed md left outputs"
cat >"$TMP/one.xyz" <<'XYZ'
1
Lattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 pbc="T T T"
Si 0 0 0
XYZ
run "$MLPOT" md "$TMP/one.xyz" --model "$MODEL" --steps 10
expect_one_line_error 1 "md of one atom" "at least 2 atoms"

# --- NVE ---
run "$MLPOT" md "$SI" --model "$MODEL" --steps 200 --every 10 --temperature 600 --seed 4 \
    --threads 1 --log "$TMP/nve.csv" --traj "$TMP/nve.xyz"
expect_rc 0 "md nve"
expect_in out "step      time_fs          epot_eV" "md thermo header"
expect_in err "200 steps of 8 atoms in" "md summary line"
expect_in err "steps/s" "md summary steps/s"
expect_in err "µs/atom/step" "md summary µs/atom/step"
no_temp_files "$TMP" "md outputs"
expect_file_has "$TMP/nve.csv" \
    "step,time_fs,epot_eV,ekin_eV,etot_eV,conserved_eV,temperature_K,pressure_GPa" "log header"
[[ $(wc -l <"$TMP/nve.csv") -eq 22 ]] && ok || bad "log rows: $(wc -l <"$TMP/nve.csv"), expected 22"
[[ $(grep -c '^8$' "$TMP/nve.xyz") -eq 21 ]] && ok || bad "trajectory frames: expected 21"
expect_file_has "$TMP/nve.xyz" "velocities:R:3" "trajectory velocities"
expect_file_has "$TMP/nve.xyz" "forces:R:3" "trajectory forces"
expect_file_has "$TMP/nve.xyz" "step=200" "trajectory last step"
# initial temperature exact; etot = epot + ekin = conserved; energy conserved; time = step dt
awk -F, 'NR == 2 { if ($7 != "600.000000") exit 1 }
         NR > 1 { if ($5 != $6) exit 1; d = $3 + $4 - $5; if (d < -2e-10 || d > 2e-10) exit 1
                  if ($2 + 0 != $1 + 0) exit 1
                  if (NR == 2) e0 = $5; d = $5 - e0; if (d < 0) d = -d; if (d > m) m = d
                  if ($8 == "") exit 1 }
         END { if (!(m < 2e-3 && m > 0)) exit 1 }' "$TMP/nve.csv" && ok ||
    bad "NVE log: T0, conserved = etot, energy conservation: $(head -4 "$TMP/nve.csv")"

if /usr/bin/python3 -c 'import ase' 2>/dev/null; then
    /usr/bin/python3 - "$TMP/nve.xyz" "$TMP/nve.csv" <<'PY' && ok || bad "ASE reads the md trajectory"
import csv, sys
from ase.io import read
frames = read(sys.argv[1], index=":")
rows = list(csv.DictReader(open(sys.argv[2])))
assert len(frames) == len(rows) == 21
for atoms, row in zip(frames, rows):
    assert abs(atoms.get_potential_energy() - float(row["epot_eV"])) < 1e-8
    assert atoms.get_forces().shape == (8, 3) and atoms.get_stress().shape == (6,)
    assert int(atoms.info["step"]) == int(row["step"])
    v = atoms.arrays["velocities"]  # Å/fs
    ekin = 0.5 * (atoms.get_masses()[:, None] * v**2).sum() * 103.64269652680505
    assert abs(ekin - float(row["ekin_eV"])) < 1e-8, (ekin, row["ekin_eV"])
PY
else
    echo "skipped ASE check: python3-ase not installed"
fi

# --- seeds ---
run "$MLPOT" md "$SI" --model "$MODEL" --steps 20 --temperature 600 --seed 4 --threads 1 \
    --log "$TMP/seed4.csv"
expect_rc 0 "md seed 4"
cmp -s <(head -4 "$TMP/nve.csv") <(head -4 "$TMP/seed4.csv") && ok || bad "the same seed differs"
run "$MLPOT" md "$SI" --model "$MODEL" --steps 20 --temperature 600 --seed 5 --threads 1 \
    --log "$TMP/seed5.csv"
cmp -s "$TMP/seed4.csv" "$TMP/seed5.csv" && bad "another seed gives the same run" || ok

# --- thermostats: conserved_eV is etot plus the thermostat's energy ---
for ensemble in nvt-langevin nvt-nose-hoover; do
    run "$MLPOT" md "$SI" --model "$MODEL" --steps 60 --every 20 --temperature 300 \
        --ensemble $ensemble --friction 50 --tdamp 20 --threads 1 --log "$TMP/$ensemble.csv"
    expect_rc 0 "md $ensemble"
    expect_in out "# $SI: 8 atoms, $ensemble" "md $ensemble banner"
    awk -F, 'NR == 5 { d = $6 - $5; if (d < 0) d = -d; exit !(d > 1e-4) }' "$TMP/$ensemble.csv" &&
        ok || bad "$ensemble: conserved equals etot: $(cat "$TMP/$ensemble.csv")"
done

# --- threads: a 64-atom cell (the threaded path) gives the same log on 1 and 2 threads ---
awk 'NR <= 5 { if (NR >= 3 && NR <= 5) { split($0, v); printf "%.10f %.10f %.10f\n", 2 * v[1], 2 * v[2], 2 * v[3] } else print; next }
     NR == 6 { print; next } NR == 7 { print $1 * 8; next } NR == 8 { print; next }
     { line[++n] = $0 }
     END { for (a = 0; a < 2; a++) for (b = 0; b < 2; b++) for (c = 0; c < 2; c++)
             for (k = 1; k <= n; k++) { split(line[k], f)
                 printf "%.10f %.10f %.10f\n", (f[1] + a) / 2, (f[2] + b) / 2, (f[3] + c) / 2 } }' \
    "$SI" >"$TMP/si64.vasp"
for threads in 1 2; do
    run "$MLPOT" md "$TMP/si64.vasp" --model "$MODEL" --steps 10 --every 5 --temperature 900 \
        --ensemble nvt-langevin --threads $threads --log "$TMP/t$threads.csv"
    expect_rc 0 "md 64 atoms on $threads threads"
done
expect_in out "64 atoms" "supercell has 64 atoms"
cmp -s "$TMP/t1.csv" "$TMP/t2.csv" && ok || bad "1 and 2 threads differ"

finish test_md
