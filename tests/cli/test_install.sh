#!/usr/bin/env bash
# `cmake --install` puts the library, headers, the mlpot command and a pkg-config file in a
# prefix; a program built with `pkg-config --cflags --libs mlpot` links and runs against it.
set -euo pipefail
mlpot=$1 src=$2 tmp=$3
build=$(dirname "$mlpot")
prefix="$tmp/install-prefix"
rm -rf "$prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(ls -d "$prefix"/lib*/ | head -n 1)
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass + 1)); else echo "FAIL: $1"; fail=$((fail + 1)); fi; }
check "header installed" "[ -f '$prefix/include/mlpot/mlpot.h' ]"
check "shared library installed" "ls '$libdir'/libmlpot.so* >/dev/null 2>&1"
check "static library installed" "[ -f '$libdir/libmlpot.a' ]"
check "command installed" "[ -x '$prefix/bin/mlpot' ]"
check "pkg-config file installed" "[ -f '$libdir/pkgconfig/mlpot.pc' ]"
check "structures installed" "[ -f '$prefix/share/mlpot/structures/Si.vasp' ]"
cat >"$tmp/install_probe.c" <<'C'
#include <stdio.h>
#include <mlpot/mlpot.h>
int main(int argc, char **argv) {
    mlpot_structure **frames = NULL;
    int n = 0;
    if (argc < 2 || mlpot_read_all(argv[1], NULL, &frames, &n) != MLPOT_OK) {
        fprintf(stderr, "%s\n", mlpot_last_error());
        return 1;
    }
    printf("%s %d\n", mlpot_version_string(), mlpot_structure_n_atoms(frames[0]));
    mlpot_structure_free(frames[0]);
    return 0;
}
C
export PKG_CONFIG_PATH="$libdir/pkgconfig"
# a library built with sanitizers needs them in the program too
sanitize=""
# (grep reads all of ldd's output: with `grep -q` and pipefail, ldd could die of SIGPIPE
# after an early match and the test would wrongly build the probe without sanitizers)
if ldd "$libdir/libmlpot.so" | grep libasan >/dev/null; then
    sanitize="-fsanitize=address,undefined"
fi
check "compiles with pkg-config" \
    "cc -std=c11 $sanitize \$(pkg-config --cflags mlpot) '$tmp/install_probe.c' -o '$tmp/install_probe' \$(pkg-config --libs mlpot)"
check "runs against the installed library" \
    "LD_LIBRARY_PATH='$libdir' '$tmp/install_probe' '$src/structures/Si.vasp' | grep -q ' 8\$'"
check "installed command runs" "'$prefix/bin/mlpot' --version | grep -q '^mlpot '"
echo "cli install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
