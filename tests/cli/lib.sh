# lib.sh — helpers shared by the command-line checks (sourced, not run). Each script sets TMP
# before sourcing; counts go in `passed`/`failed` and `finish NAME` prints the closing line.
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() {
    failed=$((failed + 1))
    echo "FAIL: $*" >&2
}
# run CMD...: exit status in RC, output in $TMP/out and $TMP/err
run() {
    RC=0
    "$@" >"$TMP/out" 2>"$TMP/err" || RC=$?
}
expect_rc() { # expected, what
    if [[ $RC -eq $1 ]]; then ok; else
        bad "$2: exit status $RC, expected $1; stderr: $(head -c 400 "$TMP/err")"
    fi
}
expect_in() { # file (out|err), fixed text, what
    if grep -qF -- "$2" "$TMP/$1"; then ok; else
        bad "$3: '$2' not in std$1: $(head -c 600 "$TMP/$1")"
    fi
}
# expect_one_line_error RC WHAT TEXT: exit status RC, one line on stderr containing TEXT
expect_one_line_error() {
    expect_rc "$1" "$2"
    expect_in err "$3" "$2 message"
    if [[ $(wc -l <"$TMP/err") -eq 1 ]]; then ok; else bad "$2: not one line: $(cat "$TMP/err")"; fi
}
expect_not_in() {
    if grep -qF -- "$2" "$TMP/$1"; then bad "$3: '$2' unexpectedly in std$1"; else ok; fi
}
expect_file_has() { # path, fixed text, what
    if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1: $(head -c 600 "$1")"; fi
}
# json_field NAME: the value of "NAME" in the first JSON line of $TMP/out
json_field() {
    sed -n '1s/.*"'"$1"'": \([^,}]*\).*/\1/p' "$TMP/out"
}
expect_near() { # value, target, tolerance, what
    if awk -v x="$1" -v t="$2" -v e="$3" \
        'BEGIN { d = x - t; if (d < 0) d = -d; exit !(x != "" && d <= e) }'; then
        ok
    else
        bad "$4: got '$1', expected $2 +- $3"
    fi
}
# no_temp_files DIR WHAT: the writers' temporary files are gone
no_temp_files() {
    if compgen -G "$1/.mlpot-tmp-*" >/dev/null; then
        bad "$2: temporary files left: $(ls -A "$1")"
    else
        ok
    fi
}
finish() {
    echo "$1: $passed passed, $failed failed"
    [[ $failed -eq 0 ]]
}
# skip_without_python_module MODULE: exit 0 (skipped) when $PYTHON cannot import MODULE
skip_without_python_module() {
    if ! "$PYTHON" -c "import $1" >/dev/null 2>&1; then
        echo "skipped: $PYTHON cannot import $1 (Debian: python3-$1)"
        exit 0
    fi
}
# rattle_extxyz FILE: moves every atom of a one-frame extended XYZ file by a fixed pattern of
# up to 0.1 Å per coordinate (a crystal off its symmetric positions, where forces vanish)
rattle_extxyz() {
    /usr/bin/python3 - "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
for k in range(2, len(lines)):
    w = lines[k].split()
    w[1:4] = [f"{float(x) + 0.05 * ((k * 7 + j * 3) % 5 - 2):.8f}" for j, x in enumerate(w[1:4])]
    lines[k] = " ".join(w)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
}

# teacher_dataset TEACHER.h5 OUT.h5 FRAME...: the frames labelled (energy, forces, stress) by the
# teacher model and converted to a training dataset; TMP/labelled.xyz holds the labels.
teacher_dataset() {
    local teacher=$1 out=$2
    shift 2
    run "$MLPOT" predict "$@" --model "$teacher" --output-format extxyz -o "$TMP/labelled.xyz"
    expect_rc 0 "teacher labels"
    run "$MLPOT" dataset convert "$TMP/labelled.xyz" -o "$out"
    expect_rc 0 "dataset convert"
}
