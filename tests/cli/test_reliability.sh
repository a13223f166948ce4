#!/usr/bin/env bash
# test_reliability.sh — the reproductions of issue 16 (no crash, no silent wrong answer, nothing
# lost): absurd coordinates, a full disk under HDF5 writes, temporary files on signals.
# Usage: bash test_reliability.sh <mlpot binary> <source dir> <tmp dir>
set -euo pipefail

MLPOT=$1
SRC=$2
TMP=$3/cli_reliability
rm -rf "$TMP"
mkdir -p "$TMP"

# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SI=$SRC/structures/Si.vasp

# --- an open structure spanning 1e200 Å: SIGFPE in the binning before (exit 136) ---
printf '2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\nSi 1e200 1e200 1e200\n' >"$TMP/far.xyz"
run "$MLPOT" info "$TMP/far.xyz"
expect_one_line_error 1 "info on a 1e200 Å span" "neighbour search can resolve"
for cmd in "predict" "md --steps 2" "relax -o $TMP/far-relaxed.xyz"; do
    # shellcheck disable=SC2086 # the command's options split on purpose
    run "$MLPOT" $cmd "$TMP/far.xyz"
    expect_rc 1 "$cmd on a 1e200 Å span"
    expect_in err "atom positions span 1e+200 Å" "$cmd on a 1e200 Å span message"
done

# --- a full disk under every HDF5 writer: SIGSEGV at exit before (exit 139) ---
# Two ways to fill it: a file size limit (`ulimit -f`, SIGXFSZ ignored so that writes fail with
# EFBIG), always available; and a tmpfs of a few KB in an unprivileged user and mount namespace
# (a real ENOSPC), where the system allows one.
FULL=$TMP/full
mkdir -p "$FULL"
mechanisms=(ulimit)
if unshare -rm bash -c 'mount -t tmpfs -o size=4k tmpfs "$1"' _ "$FULL" 2>/dev/null; then
    mechanisms+=(tmpfs)
else
    echo "test_reliability: tmpfs full-disk checks skipped (no tmpfs in a user namespace)"
fi
on_full_disk() { # MECHANISM SIZE_KB CMD...: run CMD with $FULL holding at most SIZE_KB
    local mechanism=$1 size=$2
    shift 2
    if [[ $mechanism == ulimit ]]; then
        run bash -c 'trap "" XFSZ; ulimit -f "$1" && shift && exec "$@"' _ "$size" "$@"
    else
        run unshare -rm bash -c 'mount -t tmpfs -o size="$1"k tmpfs "$2" && shift 2 && exec "$@"' \
            _ "$size" "$FULL" "$@"
    fi
}
"$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 16 --layers 2 \
    --basis 8 --readout-hidden 16 --seed 3 -o "$TMP/teacher.h5" 2>/dev/null
"$MLPOT" convert "$SI" "$TMP/si.xyz" 2>/dev/null
for k in 1 2 3 4 5 6; do
    awk -v s="$k" 'BEGIN { srand(s) } NR <= 2 { print; next }
        { printf "%s %.6f %.6f %.6f\n", $1, $2 + 0.1 * rand(), $3 + 0.1 * rand(), $4 }' \
        "$TMP/si.xyz" >"$TMP/f$k.xyz"
done
"$MLPOT" predict "$TMP"/f?.xyz --model "$TMP/teacher.h5" --format extxyz \
    -o "$TMP/labelled.xyz" 2>/dev/null
"$MLPOT" dataset convert "$TMP/labelled.xyz" -o "$TMP/data.h5" 2>/dev/null
for mechanism in "${mechanisms[@]}"; do
    if [[ $mechanism == ulimit ]]; then why="File too large"; else why="No space left on device"; fi
    for size in 4 12 24; do
        for what in "model init" "model describe" "dataset convert" "dataset split" "train"; do
            case $what in
            "model init")
                on_full_disk $mechanism $size "$MLPOT" model init --arch cgcnn --species Si \
                    --cutoff 4 --features 32 --layers 3 -o "$FULL/m.h5" ;;
            "model describe")
                on_full_disk $mechanism $size "$MLPOT" model describe "$TMP/teacher.h5" "words" \
                    -o "$FULL/m.h5" ;;
            "dataset convert")
                on_full_disk $mechanism $size "$MLPOT" dataset convert "$TMP/labelled.xyz" \
                    -o "$FULL/d.h5" ;;
            "dataset split")
                on_full_disk $mechanism $size "$MLPOT" dataset split "$TMP/data.h5" \
                    --fractions 0.5,0.5 -o "$FULL/a.h5" -o "$FULL/b.h5" ;;
            "train")
                on_full_disk $mechanism $size "$MLPOT" train --train "$TMP/data.h5" \
                    --valid-fraction 0 --arch cgcnn --cutoff 4 --features 24 --layers 2 \
                    --basis 8 --epochs 2 --batch-size 8 --threads 1 -o "$FULL/m.h5" ;;
            esac
            expect_rc 1 "$what on a full disk ($mechanism, $size KB)"
            expect_in err "$why" "$what on a full disk ($mechanism, $size KB) says why"
            no_temp_files "$FULL" "$what on a full disk ($mechanism, $size KB)"
            rm -f "$FULL"/*
        done
    done
done

# --- an output that names an input, or replaces a file of another kind: refused ---
# (each of these replaced the input silently with exit 0 before)
OUT=$TMP/outputs
mkdir -p "$OUT"
cp "$TMP/data.h5" "$OUT/d.h5"
cp "$TMP/teacher.h5" "$OUT/m.h5"
cp "$SI" "$OUT/g.vasp"
sums() { sha256sum "$OUT/d.h5" "$OUT/m.h5" "$OUT/g.vasp"; }
before=$(sums)
tiny=(--arch cgcnn --cutoff 4 --features 8 --layers 1 --basis 8 --epochs 1 --batch-size 8
    --threads 1 --valid-fraction 0)
check_refused() { # WHAT TEXT CMD...
    local what=$1 text=$2
    shift 2
    run "$@"
    expect_rc 1 "$what"
    expect_in err "$text" "$what: message"
    if [[ $(sums) == "$before" ]]; then ok; else bad "$what: an input changed"; fi
    no_temp_files "$OUT" "$what"
}
check_refused "train -o the dataset" "is the input" \
    "$MLPOT" train --train "$OUT/d.h5" "${tiny[@]}" -o "$OUT/d.h5"
check_refused "train --log the dataset" "is the input" \
    "$MLPOT" train --train "$OUT/d.h5" "${tiny[@]}" -o "$OUT/new.h5" --log "$OUT/d.h5"
check_refused "train --checkpoint the dataset" "is the input" \
    "$MLPOT" train --train "$OUT/d.h5" "${tiny[@]}" -o "$OUT/new.h5" --checkpoint "$OUT/d.h5"
check_refused "train --log an existing model" "is a model file" \
    "$MLPOT" train --train "$OUT/d.h5" "${tiny[@]}" -o "$OUT/new.h5" --log "$OUT/m.h5"
check_refused "eval --plot the model" "is the input" \
    "$MLPOT" eval "$OUT/m.h5" "$OUT/d.h5" --plot "$OUT/m.h5"
check_refused "md --traj the model" "is the input" \
    "$MLPOT" md "$OUT/g.vasp" --model "$OUT/m.h5" --steps 1 --traj "$OUT/m.h5"
check_refused "md --log the structure" "is the input" \
    "$MLPOT" md "$OUT/g.vasp" --model "$OUT/m.h5" --steps 1 --log "$OUT/g.vasp"
check_refused "predict -o the model" "is the input" \
    "$MLPOT" predict "$OUT/g.vasp" --model "$OUT/m.h5" -o "$OUT/m.h5"
check_refused "dataset split onto its input" "is the input" \
    "$MLPOT" dataset split "$OUT/d.h5" --fractions 0.5,0.5 -o "$OUT/d.h5" -o "$OUT/e.h5"
check_refused "dataset convert over a model" "is a model file, not a dataset" \
    "$MLPOT" dataset convert "$OUT/g.vasp" -o "$OUT/m.h5"
check_refused "model init over a dataset" "is a dataset, not a model file" \
    "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 -o "$OUT/d.h5"
check_refused "relax -o the input" "is the input" \
    "$MLPOT" relax "$OUT/g.vasp" --model "$OUT/m.h5" -o "$OUT/g.vasp"
# md --traj out.vasp wrote extended XYZ under a VASP name: refused, nothing written
run "$MLPOT" md "$OUT/g.vasp" --model "$OUT/m.h5" --steps 1 --traj "$OUT/out.vasp"
expect_one_line_error 2 "md --traj out.vasp" "a trajectory is written as extended XYZ"
[[ ! -e $OUT/out.vasp ]] && ok || bad "md --traj out.vasp wrote a file"
# --force replaces a file of another kind (never an input)
cp "$OUT/d.h5" "$OUT/d2.h5"
run "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 -o "$OUT/d2.h5" --force
expect_rc 0 "model init --force over a dataset"
run "$MLPOT" model info "$OUT/d2.h5"
expect_rc 0 "model init --force wrote a model"
run "$MLPOT" train --train "$OUT/d.h5" "${tiny[@]}" -o "$OUT/d.h5" --force
expect_rc 1 "--force does not let an output be an input"
# a new file and a file of its own kind are written as before
run "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 -o "$OUT/d2.h5"
expect_rc 0 "a model replaces a model"

# --- one validation of frames (dataset info, train, eval), naming file and frame ---
# dataset info passed overlapping atoms and a 0.01 Å cell that train then rejected, and train's
# errors did not name the file and frame
printf '2\nLattice="5 0 0 0 5 0 0 0 5" Properties=species:S:1:pos:R:3 energy=-10 pbc="T T T"\nSi 1 1 1\nSi 1 1 1.000000001\n' \
    >"$TMP/overlap.xyz"
printf '1\nLattice="0.01 0 0 0 0.01 0 0 0 0.01" Properties=species:S:1:pos:R:3 energy=-5 pbc="T T T"\nSi 0 0 0\n' \
    >"$TMP/thin.xyz"
for bad in overlap thin; do
    cat "$TMP/labelled.xyz" "$TMP/$bad.xyz" >"$TMP/with-$bad.xyz"
    "$MLPOT" dataset convert "$TMP/with-$bad.xyz" -o "$TMP/with-$bad.h5" 2>/dev/null
    run "$MLPOT" dataset info "$TMP/with-$bad.h5"
    expect_one_line_error 1 "dataset info on a frame train rejects ($bad)" "with-$bad.h5: frame 6:"
    run "$MLPOT" train --train "$TMP/with-$bad.h5" "${tiny[@]}" -o "$TMP/never.h5"
    expect_rc 1 "train on a frame it cannot use ($bad)"
    expect_in err "with-$bad.h5: frame 6:" "train names the file and frame ($bad)"
    run "$MLPOT" eval "$TMP/teacher.h5" "$TMP/with-$bad.h5"
    expect_rc 1 "eval on a frame it cannot use ($bad)"
    expect_in err "with-$bad.h5: frame 6:" "eval names the file and frame ($bad)"
done
# an energy label of 1e300 eV: refused before training, the frame named
rm -f "$TMP/never.h5"
sed '2s/energy=[^ ]*/energy=1e300/' "$TMP/labelled.xyz" >"$TMP/huge.xyz"
"$MLPOT" dataset convert "$TMP/huge.xyz" -o "$TMP/huge.h5" 2>/dev/null
run "$MLPOT" train --train "$TMP/huge.h5" "${tiny[@]}" -o "$TMP/never.h5"
expect_rc 1 "train on an energy label of 1e300"
expect_in err "huge.h5: frame 0: energy label 1e+300 eV" "train names the 1e300 label"
[[ ! -e $TMP/never.h5 ]] && ok || bad "train wrote a model from a 1e300 label"
# a label far outside the others (a unit slip: +1000 eV on one frame): warned about
sed '2s/energy=\([^ ]*\)/energy=1000\1/' "$TMP/labelled.xyz" >"$TMP/slip.xyz"
"$MLPOT" dataset convert "$TMP/slip.xyz" -o "$TMP/slip.h5" 2>/dev/null
run "$MLPOT" dataset info "$TMP/slip.h5"
expect_rc 0 "dataset info with an outlying label"
expect_in err "warning: $TMP/slip.h5: frame 0: energy" "dataset info warns about the outlier"
run "$MLPOT" dataset info "$TMP/data.h5"
expect_not_in err "warning" "no warning on ordinary labels"
run "$MLPOT" train --train "$TMP/slip.h5" "${tiny[@]}" -o "$TMP/slip-model.h5"
expect_in out "warning: $TMP/slip.h5: frame 0: energy" "train warns about the outlier"
# degenerate settings: refused before any work
for settings in "--energy-weight -1" "--energy-weight 0 --force-weight 0 --stress-weight 0" \
    "--lr 1e6 --clip-norm 0"; do
    # shellcheck disable=SC2086 # the settings split on purpose
    run "$MLPOT" train --train "$TMP/data.h5" "${tiny[@]}" $settings -o "$TMP/never.h5"
    expect_rc 1 "train $settings"
    [[ ! -e $TMP/never.h5 ]] && ok || bad "train $settings wrote a model"
done

# --- every write checked: standard output on a full device, a log past a size limit ---
run bash -c '"$1" md "$2" --model "$3" --steps 5 --every 1 >/dev/full' _ "$MLPOT" "$SI" \
    "$TMP/teacher.h5"
expect_rc 1 "md > /dev/full (exit 0 with its thermo lines lost before)"
expect_in err "<stdout>: write error" "md > /dev/full says why"
run bash -c '"$1" info "$2" >/dev/full' _ "$MLPOT" "$SI"
expect_rc 1 "info > /dev/full"
run bash -c 'trap "" XFSZ; ulimit -f 2; exec "$@" >/dev/null' _ "$MLPOT" md "$SI" --model "$TMP/teacher.h5" \
    --steps 300 --every 1 --log "$TMP/big.csv"
expect_rc 1 "md --log past a file size limit"
expect_in err "big.csv: write error" "md --log write error names the file"
no_temp_files "$TMP" "md --log write error"
# an output that is a pipe or device is written straight to it, never renamed over
mkfifo "$TMP/pipe.xyz"
timeout 60 cat "$TMP/pipe.xyz" >"$TMP/from-pipe.xyz" &
reader=$!
run "$MLPOT" convert "$SI" "$TMP/pipe.xyz"
wait "$reader" || true
expect_rc 0 "convert to a named pipe"
[[ -p $TMP/pipe.xyz ]] && ok || bad "the named pipe was replaced by a file"
expect_file_has "$TMP/from-pipe.xyz" 'Lattice="5.431' "the pipe's reader got the structure"

# --- relax and md with atoms closer than any physical distance ---
printf '2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\nSi 0 0 5.4e-8\n' >"$TMP/close.xyz"
run "$MLPOT" relax "$TMP/close.xyz" -o "$TMP/close-relaxed.xyz"
expect_in err "atoms 1 and 2 are 5.4e-08 Å apart" "relax warns about atoms 5.4e-8 Å apart"
printf '2\nProperties=species:S:1:pos:R:3\nSi 0 0 0\nSi 0 0 5.4e-9\n' >"$TMP/same.xyz"
for cmd in "relax -o $TMP/same-relaxed.xyz" "md --steps 1"; do
    # shellcheck disable=SC2086 # the command's options split on purpose
    run "$MLPOT" $cmd "$TMP/same.xyz"
    expect_rc 1 "$cmd with atoms 5.4e-9 Å apart (model.md §9: the same position)"
    expect_in err "atoms 1 and 2 are at the same position" "$cmd names both atoms"
done

# --- md streams: a run killed with SIGKILL keeps every whole frame and log row ---
# (before: only a hidden temporary trajectory with a cut frame and an empty log)
KILLED=$TMP/killed
mkdir -p "$KILLED"
"$MLPOT" md "$SI" --model "$TMP/teacher.h5" --steps 100000000 --every 1 --threads 1 \
    --traj "$KILLED/t.xyz" --log "$KILLED/t.csv" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1200); do
    [[ -s $KILLED/t.csv && $(wc -l <"$KILLED/t.csv") -gt 20 ]] && break
    sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
lines=$(wc -l <"$KILLED/t.xyz")
frames=$(grep -c '^8$' "$KILLED/t.xyz")
[[ $frames -gt 5 && $lines -eq $((frames * 10)) ]] && ok ||
    bad "killed md: $lines trajectory lines for $frames frames of 8 atoms (cut frame?)"
[[ $(tail -c 1 "$KILLED/t.xyz" | od -An -c | tr -d ' ') == '\n' ]] && ok || bad "cut last line"
if awk -F, 'NR == 1 { if ($1 != "step") exit 1; next } NF != 8 { exit 1 }' "$KILLED/t.csv"; then
    ok
else
    bad "killed md: the thermo log has a cut row: $(tail -n 2 "$KILLED/t.csv")"
fi
[[ $(wc -l <"$KILLED/t.csv") -gt 20 ]] && ok || bad "killed md: the log was not streamed"
rm -f "$KILLED"/.mlpot-tmp-"$pid"-*
no_temp_files "$KILLED" "killed md"

# --- md --restart continues a run killed with SIGKILL bit for bit, in every ensemble ---
R=$TMP/restart
mkdir -p "$R"
for ensemble in nve nvt-langevin nvt-nose-hoover; do
    common=(--model "$TMP/teacher.h5" --ensemble "$ensemble" --steps 1500 --every 3 --threads 1
        --seed 4)
    "$MLPOT" md "$SI" "${common[@]}" --traj "$R/a.xyz" --log "$R/a.csv" >/dev/null 2>&1
    rm -f "$R/b.restart"
    "$MLPOT" md "$SI" "${common[@]}" --traj "$R/b.xyz" --log "$R/b.csv" --restart-every 11 \
        --restart-file "$R/b.restart" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 3000); do # up to a minute for a slow (sanitizer) build
        [[ -f $R/b.restart && $(wc -l <"$R/b.csv") -gt 40 ]] && break
        sleep 0.02
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -f "$R"/.mlpot-tmp-"$pid"-*
    killed_at=$(tail -n 1 "$R/b.csv" | cut -d, -f1)
    if [[ $killed_at -lt 1500 ]]; then ok; else
        bad "$ensemble: the run finished before it was killed; the restart tested nothing"
    fi
    run "$MLPOT" md --restart "$R/b.restart"
    expect_rc 0 "md --restart ($ensemble, killed after step $killed_at)"
    if cmp -s "$R/a.xyz" "$R/b.xyz" && cmp -s "$R/a.csv" "$R/b.csv"; then ok; else
        bad "$ensemble: the restarted run differs from the uninterrupted one"
    fi
done
run "$MLPOT" md --restart "$TMP/labelled.xyz"
expect_one_line_error 1 "md --restart on a file that is not one" "not a complete mlpot md restart"

# --- md starts from the velocities (or ASE momenta) of an extended XYZ file ---
V=$TMP/velocities
mkdir -p "$V"
"$MLPOT" md "$SI" --model "$TMP/teacher.h5" --steps 3 --every 1 --traj "$V/a.xyz" >/dev/null 2>&1
head -n 10 "$V/a.xyz" >"$V/first.xyz" # frame 0 with its velocities column
run "$MLPOT" md "$V/first.xyz" --model "$TMP/teacher.h5" --steps 3 --every 1 --traj "$V/b.xyz"
expect_in out "velocities from the file's velocities column" "md says where velocities came from"
# continuing from frame 0's velocities reproduces the run bit for bit (NVE: no random numbers)
if cmp -s <(tail -n +11 "$V/a.xyz") <(tail -n +11 "$V/b.xyz"); then ok; else
    bad "md from frame 0's velocities differs from the original run"
fi
run "$MLPOT" md "$SI" --model "$TMP/teacher.h5" --steps 0
expect_in out "velocities drawn from Maxwell-Boltzmann" "md without velocities says so"
if /usr/bin/python3 -c 'import ase' 2>/dev/null; then
    /usr/bin/python3 - "$V/first.xyz" "$V/momenta.xyz" <<'PY'
import sys
from ase.io import read, write
atoms = read(sys.argv[1])
velocities = atoms.arrays.pop("velocities")          # Å/fs
atoms.calc = None
atoms.set_momenta(velocities * atoms.get_masses()[:, None] * 10.180505671156725)
write(sys.argv[2], atoms, format="extxyz")
PY
    run "$MLPOT" md "$V/momenta.xyz" --model "$TMP/teacher.h5" --steps 3 --every 1 \
        --traj "$V/c.xyz"
    expect_in out "velocities from the file's momenta column" "md uses ASE momenta"
    # (ASE and mlpot masses differ in the last digits: 1e-6 Å/fs on ~5e-3)
    awk 'NR > 2 && NR <= 10 { print $5, $6, $7 }' "$V/a.xyz" >"$V/va"
    awk 'NR > 2 && NR <= 10 { print $5, $6, $7 }' "$V/c.xyz" >"$V/vc"
    paste "$V/va" "$V/vc" | awk '{ for (k = 1; k <= 3; k++) { d = $k - $(k + 3);
        if (d < 0) d = -d; if (d > 1e-6) exit 1 } }' && ok ||
        bad "velocities from ASE momenta differ from the velocities they came from"
fi

# --- very large requests: an estimate-based refusal before allocating ---
# (info --cutoff 200 on 8 atoms took 1.2 GB; model init --features 4096 --layers 32 asked for
# 17 GB and ran for over a minute)
run "$MLPOT" info "$SI" --cutoff 200
expect_one_line_error 1 "info --cutoff 200" "needs about 1.5 GB"
expect_in err "--allow-large" "info --cutoff 200 names the override"
run "$MLPOT" model init --arch cgcnn --species Si --cutoff 4 --features 4096 --layers 32 \
    -o "$TMP/huge-model.h5"
expect_one_line_error 1 "model init of 2e9 parameters" "a model of 2156400770 parameters"
[[ ! -e $TMP/huge-model.h5 ]] && ok || bad "model init wrote a refused model"
# the estimate is the graph's size: at 40 Å it predicts 107233 edges, the graph has 107248
run "$MLPOT" info "$SI" --cutoff 40 --json
expect_rc 0 "info --cutoff 40 (under the budget)"
expect_near "$(json_field n_edges)" 107233 1100 "the edge estimate within 1 %"

# --- parameters_sha256 (formats.md), computed independently with h5py and hashlib ---
if /usr/bin/python3 -c 'import h5py' 2>/dev/null; then
    expected=$(/usr/bin/python3 - "$TMP/teacher.h5" <<'PY'
import hashlib, sys
import h5py, numpy as np
names = []
with h5py.File(sys.argv[1], "r") as f:
    f.visititems(lambda n, o: names.append("/" + n)
                 if isinstance(o, h5py.Dataset) and not n.startswith("training") else None)
    h = hashlib.sha256()
    for n in sorted(names, key=lambda s: s.encode()):
        h.update(np.ascontiguousarray(f[n][()], dtype="<f8").tobytes())
    print(h.hexdigest(), f.attrs["parameters_sha256"])
PY
)
    read -r computed stored <<<"$expected"
    [[ $computed == "$stored" ]] && ok || bad "parameters_sha256 $stored, h5py computes $computed"
    run "$MLPOT" model info "$TMP/teacher.h5"
    expect_in out "parameters_sha256   $computed (verified against the file)" "model info shows it"
    run "$MLPOT" model info "$SRC/potentials/previous/Si-mlearn-cgcnn.h5"
    expect_in out "(computed; the file stores none)" "potentials without it load"
else
    echo "test_reliability: parameters_sha256 cross-check skipped (no h5py)"
fi

# --- SIGTERM, SIGINT and SIGHUP remove the command's temporary files (kept before) ---
# convert reads a named pipe whose writer holds it open after one frame: the output's temporary
# file exists while convert waits for the next frame
SIG=$TMP/signals
mkdir -p "$SIG"
"$MLPOT" convert "$SI" "$SIG/si.xyz" 2>/dev/null
for signal in TERM INT HUP; do
    rm -f "$SIG"/.mlpot-tmp-* "$SIG/in.xyz"
    mkfifo "$SIG/in.xyz"
    { cat "$SIG/si.xyz"; exec sleep 60; } >"$SIG/in.xyz" &
    feeder=$!
    # job control, so that the background command does not start with SIGINT ignored
    set -m
    "$MLPOT" convert "$SIG/in.xyz" "$SIG/out.xyz" >/dev/null 2>&1 &
    pid=$!
    set +m
    for _ in $(seq 1 1000); do
        compgen -G "$SIG/.mlpot-tmp-*" >/dev/null && break
        sleep 0.02
    done
    compgen -G "$SIG/.mlpot-tmp-*" >/dev/null && ok || bad "SIG$signal: no temporary file to remove"
    sleep 0.2
    kill -"$signal" "$pid"
    RC=0
    wait "$pid" || RC=$?
    kill "$feeder" 2>/dev/null || true
    wait "$feeder" 2>/dev/null || true
    expect_rc $((128 + $(kill -l "$signal"))) "convert killed by SIG$signal dies of it"
    no_temp_files "$SIG" "convert killed by SIG$signal"
done

finish test_reliability
