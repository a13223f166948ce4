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
                    --valid-fraction 0 --cutoff 4 --features 24 --layers 2 --basis 8 --epochs 2 \
                    --threads 1 -o "$FULL/m.h5" ;;
            esac
            expect_rc 1 "$what on a full disk ($mechanism, $size KB)"
            expect_in err "$why" "$what on a full disk ($mechanism, $size KB) says why"
            no_temp_files "$FULL" "$what on a full disk ($mechanism, $size KB)"
            rm -f "$FULL"/*
        done
    done
done

# --- SIGTERM, SIGINT and SIGHUP remove the command's temporary files (kept before) ---
SIG=$TMP/signals
mkdir -p "$SIG"
for signal in TERM INT HUP; do
    # job control, so that the background command does not start with SIGINT ignored
    set -m
    "$MLPOT" md "$SI" --steps 100000000 --every 1 --traj "$SIG/t.xyz" --log "$SIG/t.csv" \
        --threads 1 >/dev/null 2>&1 &
    pid=$!
    set +m
    rm -f "$SIG"/.mlpot-tmp-*
    for _ in $(seq 1 200); do
        compgen -G "$SIG/.mlpot-tmp-*" >/dev/null && break
        sleep 0.05
    done
    sleep 0.2
    kill -"$signal" "$pid"
    RC=0
    wait "$pid" || RC=$?
    expect_rc $((128 + $(kill -l "$signal"))) "md killed by SIG$signal dies of it"
    no_temp_files "$SIG" "md killed by SIG$signal"
done

finish test_reliability
