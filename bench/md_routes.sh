#!/usr/bin/env bash
# md_routes.sh — MD speed of the three routes to a shipped potential on the same crystal:
# `mlpot md`, ASE's VelocityVerlet with mlpot's calculator, and LAMMPS through the KIM driver
# (1 and 2 MPI ranks). NVE, dt = 1 fs, diamond Si supercells from 300 K.
#   bench/md_routes.sh [BUILD_DIR] [REPEAT] [STEPS]      (defaults: build, 4 -> 512 atoms, 200)
# Prints steps/s and µs/atom/step per route. Needs the build's library and binary; the ASE and
# LAMMPS rows need python3-ase, libkim-api-dev, lammps and openmpi-bin (skipped without them).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
REPEAT=${2:-4}
STEPS=${3:-200}
MODEL=$SRC/potentials/previous/Si-mlearn-cgcnn.h5
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PY=/usr/bin/python3
N=$((8 * REPEAT * REPEAT * REPEAT))

row() { # route, threads/ranks, seconds
    awk -v r="$1" -v t="$2" -v s="$3" -v n="$N" -v k="$STEPS" \
        'BEGIN { printf "| %-28s | %-12s | %6d | %8.2f | %8.0f |\n", r, t, n, k / s, s / k / n * 1e6 }'
}
now() { date +%s.%N; }

echo "| route | threads/ranks | atoms | steps/s | µs/atom/step |"
echo "|---|---|---:|---:|---:|"

# the structure: REPEAT^3 conventional cells of diamond Si at a = 5.431 Å
awk -v r="$REPEAT" 'NR == 3 || NR == 4 || NR == 5 { printf "%s %s %s\n", $1 * r, $2 * r, $3 * r; next }
    NR == 7 { print $1 * r * r * r; next } NR < 9 { print; next }
    { for (i = 0; i < r; i++) for (j = 0; j < r; j++) for (k = 0; k < r; k++)
          printf "%.10f %.10f %.10f\n", ($1 + i) / r, ($2 + j) / r, ($3 + k) / r }' \
    "$SRC/structures/Si.vasp" >"$WORK/si.vasp"

for t in 1 2; do
    t0=$(now)
    OMP_NUM_THREADS=$t "$BUILD/mlpot" md "$WORK/si.vasp" --model "$MODEL" --steps "$STEPS" \
        --every "$STEPS" >/dev/null 2>&1
    row "mlpot md" "$t thread(s)" "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')"
done

if $PY -c 'import ase, numpy' 2>/dev/null; then
    for t in 1 2; do
        s=$(OMP_NUM_THREADS=$t PYTHONPATH="$SRC/python" MLPOT_LIBRARY="$BUILD/libmlpot.so" $PY - \
            "$WORK/si.vasp" "$MODEL" "$STEPS" <<'PY'
import sys, time
import numpy as np
from ase import units
from ase.io import read
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.md.verlet import VelocityVerlet
from mlpot.ase import MlpotCalculator
atoms = read(sys.argv[1])
atoms.calc = MlpotCalculator(model=sys.argv[2])
MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=np.random.default_rng(1))
Stationary(atoms)
dyn = VelocityVerlet(atoms, 1.0 * units.fs)
atoms.get_forces()
t0 = time.time()
dyn.run(int(sys.argv[3]))
print(time.time() - t0)
PY
)
        row "ASE VelocityVerlet" "$t thread(s)" "$s"
    done
else
    echo "(ASE row skipped: $PY cannot import ase and numpy)" >&2
fi

if command -v lmp >/dev/null && command -v mpirun >/dev/null &&
    command -v kim-api-collections-management >/dev/null; then
    cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
    pc=$(dirname "$(ls "$WORK"/prefix/lib*/pkgconfig/mlpot.pc "$WORK"/prefix/lib/*/pkgconfig/mlpot.pc 2>/dev/null | head -1)")
    mkdir -p "$WORK/kim/drivers" "$WORK/kim/models" "$WORK/kim/sm" "$WORK/kim/home"
    export KIM_API_MODEL_DRIVERS_DIR=$WORK/kim/drivers KIM_API_PORTABLE_MODELS_DIR=$WORK/kim/models \
        KIM_API_SIMULATOR_MODELS_DIR=$WORK/kim/sm KIM_API_CONFIGURATION_FILE=$WORK/kim/config \
        HOME=$WORK/kim/home PKG_CONFIG_PATH=$pc
    name=Si_mlearn_cgcnn_mlpot__MO_000000000000_000
    kim-api-collections-management install environment "$SRC/interfaces/kim" >/dev/null 2>&1
    "$BUILD/mlpot" kim-model "$MODEL" "$name" -o "$WORK/models" >/dev/null 2>&1
    kim-api-collections-management install environment "$WORK/models/$name" >/dev/null 2>&1
    cat >"$WORK/in.si" <<EOF
kim init $name metal
boundary p p p
lattice diamond 5.431
region box block 0 $REPEAT 0 $REPEAT 0 $REPEAT
create_box 1 box
create_atoms 1 box
mass 1 28.0855
kim interactions Si
neighbor 1.0 bin
velocity all create 300.0 4928459 mom yes rot yes dist gaussian
timestep 0.001
fix integrate all nve
thermo $STEPS
run 0
run $STEPS
EOF
    for np in 1 2; do
        (cd "$WORK" && OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe -np $np lmp -in "$WORK/in.si" \
            -log "$WORK/log.$np" >/dev/null 2>&1)
        s=$(awk '/^Loop time of/ { t = $4 } END { print t }' "$WORK/log.$np")
        row "LAMMPS + KIM driver" "$np rank(s)" "$s"
    done
else
    echo "(LAMMPS row skipped: lmp, mpirun or the KIM API missing)" >&2
fi
