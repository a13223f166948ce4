/* test_sha256.c — SHA-256 against the FIPS 180-4 example vectors (whole and fed in uneven
 * pieces), a file digest against the sha256sum command, and the error for a missing file. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sha256.h"
#include "test_support.h"

static void to_hex(const unsigned char digest[32], char hex[65]) {
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

static void check_whole(const char *message, const char *expected) {
    sha256_context c;
    unsigned char digest[32];
    char hex[65];
    sha256_init(&c);
    sha256_update(&c, message, strlen(message));
    sha256_final(&c, digest);
    to_hex(digest, hex);
    assert_string_equal(hex, expected);
}

static void test_fips_vectors(void **state) {
    (void)state;
    check_whole("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_whole("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    check_whole("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_million_a_in_pieces(void **state) {
    (void)state;
    static const char expected[] =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    enum { TOTAL = 1000000 };
    char *a = malloc(TOTAL);
    assert_non_null(a);
    memset(a, 'a', TOTAL);
    unsigned char digest[32];
    char hex[65];
    sha256_context c;

    /* all at once */
    sha256_init(&c);
    sha256_update(&c, a, TOTAL);
    sha256_final(&c, digest);
    to_hex(digest, hex);
    assert_string_equal(hex, expected);

    /* uneven pieces, including empty updates, crossing block boundaries in every way */
    static const size_t pieces[] = {1, 63, 64, 65, 1000, 0, 7, 127, 128, 129, 4096, 55, 56, 57};
    const size_t n_pieces = sizeof pieces / sizeof pieces[0];
    sha256_init(&c);
    size_t done = 0;
    for (size_t k = 0; done < TOTAL; k++) {
        size_t n = pieces[k % n_pieces];
        if (n > TOTAL - done)
            n = TOTAL - done;
        sha256_update(&c, a + done, n);
        done += n;
    }
    sha256_final(&c, digest);
    to_hex(digest, hex);
    assert_string_equal(hex, expected);

    /* final leaves the context re-initialised: hashing "" now gives the empty digest */
    sha256_final(&c, digest);
    to_hex(digest, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(a);
}

static void test_file_against_sha256sum(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("sha256_input.bin", path, sizeof path);
    /* 200 000 pseudo-random bytes: several 64 KiB chunks plus a partial one */
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    ts_rng rng;
    ts_rng_seed(&rng, 20240611);
    for (int i = 0; i < 200000; i++)
        fputc((int)(ts_uniform(&rng) * 256), f);
    assert_int_equal(fclose(f), 0);

    char hex[65];
    TS_OK(sha256_file_hex(path, hex));
    assert_int_equal(strlen(hex), 64);

    if (system("command -v sha256sum >/dev/null 2>&1") != 0) {
        print_message("sha256sum not found: skipping the comparison\n");
    } else {
        char command[4200];
        snprintf(command, sizeof command, "sha256sum '%s'", path);
        FILE *p = popen(command, "r");
        assert_non_null(p);
        char line[4400] = "";
        char *got = fgets(line, sizeof line, p);
        assert_int_equal(pclose(p), 0);
        assert_non_null(got);
        line[64] = '\0';
        assert_string_equal(hex, line);
    }
    remove(path);
}

static void test_missing_file(void **state) {
    (void)state;
    char path[4096];
    ts_tmp_path("sha256_no_such_file.bin", path, sizeof path);
    remove(path);
    char hex[65];
    assert_int_equal(sha256_file_hex(path, hex), MLPOT_ERR_IO);
    assert_non_null(strstr(mlpot_last_error(), path));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fips_vectors),
        cmocka_unit_test(test_million_a_in_pieces),
        cmocka_unit_test(test_file_against_sha256sum),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
