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

finish test_reliability
