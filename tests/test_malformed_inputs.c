/* test_malformed_inputs.c — every file of tests/data/malformed/ with a sidecar <file>.expect must
 * fail to read with a one-line message that names the file and contains the .expect text; files
 * claiming huge atom counts must fail fast without allocating for the count. */
#define _POSIX_C_SOURCE 200809L
#include "test_support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MIN_CASES 25

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The reader format for a file name: from its extension. */
static const char *format_of(const char *name) {
    if (ends_with(name, ".vasp") || ends_with(name, ".poscar"))
        return "vasp";
    if (ends_with(name, ".xyz") || ends_with(name, ".extxyz"))
        return "extxyz";
    if (ends_with(name, ".cif"))
        return "cif";
    return NULL;
}

/* First line of a text file without its line end ("" for an empty file). */
static void first_line(const char *path, char *out, size_t size) {
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    out[0] = '\0';
    if (!fgets(out, (int)size, fp))
        out[0] = '\0';
    fclose(fp);
    out[strcspn(out, "\r\n")] = '\0';
}

/* Reads every frame; on the expected failure returns NULL, else a description of what is wrong
 * (in a static buffer). */
static const char *check_case(const char *dir, const char *name) {
    static char problem[2048];
    char path[4608], expect_path[4616], expected[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(expect_path, sizeof expect_path, "%s.expect", path);
    first_line(expect_path, expected, sizeof expected);
    if (!expected[0]) {
        snprintf(problem, sizeof problem, "%s.expect has an empty first line", name);
        return problem;
    }
    mlpot_read_options opt = {.format = format_of(name)};
    mlpot_structure **frames = NULL;
    int n = 0;
    mlpot_status st = mlpot_read_all(path, &opt, &frames, &n);
    if (st == MLPOT_OK) {
        for (int k = 0; k < n; k++)
            mlpot_structure_free(frames[k]);
        free(frames);
        snprintf(problem, sizeof problem, "%s: read %d frame(s) without error, expected '%s'",
                 name, n, expected);
        return problem;
    }
    const char *message = mlpot_last_error();
    if (!strstr(message, expected)) {
        snprintf(problem, sizeof problem, "%s: message '%s' does not contain '%s'", name,
                 message, expected);
        return problem;
    }
    if (strchr(message, '\n') || strchr(message, '\r')) {
        snprintf(problem, sizeof problem, "%s: message is not a single line: '%s'", name,
                 message);
        return problem;
    }
    if (!strstr(message, name)) {
        snprintf(problem, sizeof problem, "%s: message does not name the file: '%s'", name,
                 message);
        return problem;
    }
    return NULL;
}

static void test_every_malformed_file_fails_clearly(void **state) {
    (void)state;
    char dir_path[4096];
    ts_data_path("malformed", dir_path, sizeof dir_path);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int cases = 0, failures = 0;
    for (struct dirent *d; (d = readdir(dir));) {
        const char *name = d->d_name;
        if (name[0] == '.' || ends_with(name, ".expect"))
            continue;
        char expect_path[4608];
        struct stat sb;
        snprintf(expect_path, sizeof expect_path, "%s/%s.expect", dir_path, name);
        if (stat(expect_path, &sb) != 0)
            continue; /* no sidecar: not a case (e.g. a fuzzing corpus file) */
        cases++;
        const char *problem = check_case(dir_path, name);
        if (problem) {
            failures++;
            print_message("FAIL %s\n", problem);
        }
    }
    closedir(dir);
    print_message("%d malformed inputs checked, %d failed\n", cases, failures);
    assert_true(cases >= MIN_CASES);
    assert_int_equal(failures, 0);
}

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* A file that claims up to 10^9 atoms but holds two must fail at once, in a child process whose
 * address space is limited to 2 GiB (not under AddressSanitizer, which reserves far more): a
 * reader that allocated for the claimed count would fail with an out-of-memory message. */
static void test_huge_counts_fail_fast(void **state) {
    (void)state;
    const char *files[] = {"huge_count.vasp", "huge_total.vasp", "huge_count_below_limit.vasp",
                           "huge_count.xyz", "huge_count_below_limit.xyz"};
    char dir_path[4096];
    ts_data_path("malformed", dir_path, sizeof dir_path);
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        double start = seconds_now();
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            if (!UNDER_ASAN) {
                struct rlimit limit = {.rlim_cur = 2ul << 30, .rlim_max = 2ul << 30};
                setrlimit(RLIMIT_AS, &limit);
            }
            const char *problem = check_case(dir_path, files[k]);
            if (problem)
                fprintf(stderr, "FAIL %s\n", problem);
            fflush(NULL);
            _exit(problem ? 1 : 0);
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        double elapsed = seconds_now() - start;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail_msg("%s: the reader did not fail cleanly (see above)", files[k]);
        if (elapsed > 5.0)
            fail_msg("%s: took %.2f s to fail", files[k], elapsed);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_malformed_file_fails_clearly),
        cmocka_unit_test(test_huge_counts_fail_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
