/* atomic_file.c — temporary file + fsync + rename for every output, and the removal of
 * temporary files on a terminating signal (see atomic_file.h). */
#define _POSIX_C_SOURCE 200809L
#include "io/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"

/* Temporary files open at one time (a command writes a handful); beyond this many a file is
 * still written, only not removed on a signal. */
#define MAX_REGISTERED 64

static char *volatile registered[MAX_REGISTERED];

static void register_tmp(char *tmp) {
    for (int k = 0; k < MAX_REGISTERED; k++)
        if (!registered[k]) {
            registered[k] = tmp;
            return;
        }
}

static void unregister_tmp(const char *tmp) {
    for (int k = 0; k < MAX_REGISTERED; k++)
        if (registered[k] == tmp)
            registered[k] = NULL;
}

void atomic_file_remove_all(void) {
    for (int k = 0; k < MAX_REGISTERED; k++) {
        char *tmp = registered[k];
        if (tmp)
            unlink(tmp);
    }
}

static void on_terminating_signal(int sig) {
    atomic_file_remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

void atomic_file_install_signal_cleanup(void) {
    static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t k = 0; k < sizeof signals / sizeof signals[0]; k++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_terminating_signal;
        sigemptyset(&sa.sa_mask);
        struct sigaction old;
        /* a signal ignored by the parent (nohup) stays ignored */
        if (sigaction(signals[k], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
            continue;
        sigaction(signals[k], &sa, NULL);
    }
}

static void release(atomic_file *f) {
    unregister_tmp(f->tmp);
    free(f->tmp);
    free(f->path);
    f->tmp = f->path = NULL;
    f->fp = NULL;
}

/* Writing straight to the file (an existing device or pipe, or a streamed file). */
static mlpot_status open_direct(atomic_file *f, const char *path, const struct stat *st,
                                const char *mode) {
    if (S_ISDIR(st->st_mode))
        return error_set(MLPOT_ERR_IO, "%s: is a directory", path);
    mlpot_status status = mem_strdup(&f->path, path);
    if (status)
        return status;
    f->fp = fopen(path, mode);
    if (!f->fp) {
        status = error_set(MLPOT_ERR_IO, "%s: cannot open for writing: %s", path,
                           strerror(errno));
        release(f);
    }
    return status;
}

mlpot_status atomic_file_open_streaming(atomic_file *f, const char *path, long keep_bytes) {
    memset(f, 0, sizeof *f);
    struct stat existing;
    if (stat(path, &existing) != 0)
        existing.st_mode = S_IFREG;
    if (keep_bytes <= 0 || !S_ISREG(existing.st_mode))
        return open_direct(f, path, &existing, "wb");
    if (existing.st_size < keep_bytes)
        return error_set(MLPOT_ERR_IO, "%s: %lld bytes, shorter than the %ld expected", path,
                         (long long)existing.st_size, keep_bytes);
    if (truncate(path, keep_bytes) != 0)
        return error_set(MLPOT_ERR_IO, "%s: cannot truncate: %s", path, strerror(errno));
    return open_direct(f, path, &existing, "ab");
}

mlpot_status atomic_file_open(atomic_file *f, const char *path) {
    memset(f, 0, sizeof *f);
    struct stat existing;
    if (stat(path, &existing) == 0 && !S_ISREG(existing.st_mode))
        return open_direct(f, path, &existing, "wb");
    size_t size = strlen(path) + 64;
    const char *slash = strrchr(path, '/');
    int dir_len = slash ? (int)(slash - path) + 1 : 0;
    mlpot_status st;
    if ((st = mem_strdup(&f->path, path)) || (st = mem_calloc(&f->tmp, size, 1))) {
        release(f);
        return st;
    }
    int fd = -1;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(f->tmp, size, "%.*s.mlpot-tmp-%ld-%d-%s", dir_len, path, (long)getpid(),
                 attempt, path + dir_len);
        fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        st = error_set(MLPOT_ERR_IO, "%s: cannot create a temporary file: %s", path,
                       strerror(errno));
        release(f);
        return st;
    }
    register_tmp(f->tmp);
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        st = error_set(MLPOT_ERR_IO, "%s: cannot open for writing: %s", path, strerror(errno));
        close(fd);
        unlink(f->tmp);
        release(f);
        return st;
    }
    return MLPOT_OK;
}

mlpot_status atomic_file_commit(atomic_file *f) {
    errno = 0;
    if (!f->tmp) { /* in place: flushed and, a regular file, synced; nothing to rename */
        struct stat info;
        int bad = fflush(f->fp) != 0 || ferror(f->fp) ||
                  (fstat(fileno(f->fp), &info) == 0 && S_ISREG(info.st_mode) &&
                   fsync(fileno(f->fp)) != 0);
        int saved = errno;
        bad |= fclose(f->fp) != 0;
        mlpot_status st = bad ? error_set(MLPOT_ERR_IO, "%s: write error: %s", f->path,
                                          strerror(saved ? saved : errno))
                              : MLPOT_OK;
        release(f);
        return st;
    }
    int bad = fflush(f->fp) != 0 || ferror(f->fp) || fsync(fileno(f->fp)) != 0;
    int saved = errno;
    if (fclose(f->fp) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    f->fp = NULL;
    mlpot_status st = MLPOT_OK;
    if (bad)
        st = error_set(MLPOT_ERR_IO, "%s: write error: %s", f->path,
                       saved ? strerror(saved) : "unknown cause");
    else if (rename(f->tmp, f->path) != 0)
        st = error_set(MLPOT_ERR_IO, "%s: cannot rename the temporary file: %s", f->path,
                       strerror(errno));
    if (st)
        unlink(f->tmp);
    release(f);
    return st;
}

void atomic_file_abort(atomic_file *f) {
    if (f->fp)
        fclose(f->fp);
    if (f->tmp)
        unlink(f->tmp);
    release(f);
}
