/* test_atomic_file.c — the one temporary-file + fsync + rename helper: a committed file holds
 * exactly what was written, an aborted one leaves the old file untouched and no temporary file,
 * and atomic_file_remove_all (what the signal handler runs) removes open temporary files. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/atomic_file.h"
#include "test_support.h"

static void make_dir(char *dir, size_t size, const char *name) {
    snprintf(dir, size, "%s/%s", MLPOT_TEST_TMP_DIR, name);
    mkdir(dir, 0777);
}

/* Number of entries of dir whose name starts with ".mlpot-tmp-". */
static int count_temporaries(const char *dir) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += !strncmp(e->d_name, ".mlpot-tmp-", 11);
    closedir(d);
    return n;
}

static void read_text(const char *path, char *buf, size_t size) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(buf, 1, size - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

static void test_commit_and_abort(void **state) {
    (void)state;
    char dir[4096], path[4200], text[64];
    make_dir(dir, sizeof dir, "atomic_file");
    snprintf(path, sizeof path, "%s/out.txt", dir);
    remove(path);
    atomic_file f;
    TS_OK(atomic_file_open(&f, path));
    assert_int_equal(count_temporaries(dir), 1);
    fputs("first\n", f.fp);
    TS_OK(atomic_file_commit(&f));
    read_text(path, text, sizeof text);
    assert_string_equal(text, "first\n");
    assert_int_equal(count_temporaries(dir), 0);
    /* an aborted rewrite leaves the old contents */
    TS_OK(atomic_file_open(&f, path));
    fputs("second, half written", f.fp);
    atomic_file_abort(&f);
    read_text(path, text, sizeof text);
    assert_string_equal(text, "first\n");
    assert_int_equal(count_temporaries(dir), 0);
    /* a directory that does not exist: an error naming the path */
    char missing[4300];
    snprintf(missing, sizeof missing, "%s/no-such-dir/out.txt", dir);
    assert_int_equal(atomic_file_open(&f, missing), MLPOT_ERR_IO);
    assert_non_null(strstr(mlpot_last_error(), missing));
}

static void test_remove_all(void **state) {
    (void)state;
    char dir[4096], a[4200], b[4200];
    make_dir(dir, sizeof dir, "atomic_file_signal");
    snprintf(a, sizeof a, "%s/a.h5", dir);
    snprintf(b, sizeof b, "%s/b.xyz", dir);
    atomic_file fa, fb;
    TS_OK(atomic_file_open(&fa, a));
    TS_OK(atomic_file_open(&fb, b));
    assert_int_equal(count_temporaries(dir), 2);
    atomic_file_remove_all();
    assert_int_equal(count_temporaries(dir), 0);
    atomic_file_abort(&fa);
    atomic_file_abort(&fb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_and_abort),
        cmocka_unit_test(test_remove_all),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
