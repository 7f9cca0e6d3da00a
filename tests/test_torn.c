/*
 * test_torn.c — a torn last chunk (a writer killed inside its append's
 * write()) is cut under the file lock before the next append, so the file
 * verifies; nothing else is ever cut (runtime/append/torn.c).
 *
 *  - random mixes: files of random chunks, with damage in the middle (a
 *    torn chunk, garbage, a flipped byte) and/or a torn tail cut at any
 *    offset: exactly the torn tail is found and cut, every whole chunk's
 *    events stay, exactly once (the round-trip property of the frame walk);
 *  - a profiler's file cut inside its last chunk at every kind of offset,
 *    then a profiler appends: the tail is cut, said on stderr, the file
 *    verifies (`dasf-trace verify`);
 *  - a writer killed inside its write while our profiler keeps appending
 *    to the same file: cut at our next append (a torn chunk another
 *    writer already appended after is left, in the middle);
 *  - a writer holding the lock in the middle of its write is waited for,
 *    not cut;
 *  - for real: a writer (half of the rounds with 2 compression workers)
 *    killed with SIGKILL while its file grows (inside its write()), then
 *    recovered by `dasf_recover_maps` or by the next profiler: every
 *    reported event exactly once, the file whole.
 *
 * CI time: about 5-15 s (debug), the kill rounds (DASF_TORN_ROUNDS,
 * default 12) most of it.
 */
#include "dasf/profiler.h"
#include "append.h"
#include "encode.h"
#include "helpers.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- chunks made by the encoder ----------------------------------------------- */

/* A chunk of n events "a" (arg seq = seq0 + i, half of them with a random
 * string of up to 2000 bytes, so sizes and compressibility vary). */
static void make_chunk(dasf_buf *out, long seq0, int n, unsigned *seed) {
    dasf_chunk_enc *enc;
    cr_assert_eq(dasf_chunk_enc_create(&enc, 1 + (int)(rand_r(seed) % 5), 8), 0);
    char *s = malloc(2001);
    cr_assert(s);
    for (int i = 0; i < n; i++) {
        size_t len = rand_r(seed) % 2 ? rand_r(seed) % 2000 : 0;
        for (size_t k = 0; k < len; k++) s[k] = (char)('a' + rand_r(seed) % 26);
        s[len] = 0;
        dasf_arg a[2] = {DASF_ARG_I64("seq", seq0 + i), DASF_ARG_STR("s", s)};
        dasf_enc_event e;
        memset(&e, 0, sizeof e);
        e.name = "a";
        e.name_len = 1;
        e.phase = 'I';
        e.scope = 't';
        e.ts_ns = 1000 + seq0 + i;
        e.ns_exact = 1;
        e.pid = dasf_id_int(7);
        e.tid = dasf_id_int(8);
        e.args = a;
        e.n_args = len ? 2 : 1;
        cr_assert_eq(dasf_chunk_enc_add(enc, &e), 0);
    }
    cr_assert_eq(dasf_chunk_enc_finish(enc, NULL, out), 0);
    dasf_chunk_enc_destroy(enc);
    free(s);
}

static void put(dasf_buf *f, const void *p, size_t n) {
    cr_assert_eq(dasf_buf_append(f, p, n), 0);
}

/* A torn copy of chunk c: a prefix of one of the kinds a killed write
 * leaves (part of the magic, the header, the metadata, the data). */
static size_t torn_len(const dasf_buf *c, unsigned *seed) {
    uint32_t ml;
    memcpy(&ml, c->data + 4, 4);
    switch (rand_r(seed) % 5) {
    case 0: return 1 + rand_r(seed) % 3;                    /* the magic */
    case 1: return 4 + rand_r(seed) % 4;                    /* the metadata size */
    case 2: return 8 + rand_r(seed) % ml;                   /* the metadata */
    case 3: return c->len - 1;                              /* all but the last byte */
    default: return 8 + ml + rand_r(seed) % (c->len - 8 - ml); /* the data */
    }
}

typedef struct mix {
    dasf_buf file;
    long whole_events; /* seqs [0, whole_events) are in whole chunks */
    uint64_t tail_at;  /* where the torn tail starts; file.len: none */
    int mid_damage;    /* damaged regions in the middle */
} mix;

static void make_mix(mix *m, unsigned *seed) {
    memset(m, 0, sizeof *m);
    int k = 1 + (int)(rand_r(seed) % 6);
    /* damage after the first chunk (a damaged start is check_layout's case) */
    int damage_at = rand_r(seed) % 3 == 0 && k > 1 ? 1 + (int)(rand_r(seed) % (unsigned)(k - 1)) : -1;
    long seq = 0;
    for (int i = 0; i < k; i++) {
        dasf_buf c = {0};
        if (i == damage_at) { /* damage, always followed by a whole chunk */
            make_chunk(&c, 1 << 20, 1 + (int)(rand_r(seed) % 200), seed);
            switch (rand_r(seed) % 3) {
            case 0: put(&m->file, c.data, torn_len(&c, seed)); break; /* torn in the middle */
            case 1:                                                    /* garbage */
                for (int g = 1 + (int)(rand_r(seed) % 3000); g > 0; g--) {
                    uint8_t b = (uint8_t)rand_r(seed);
                    put(&m->file, &b, 1);
                }
                break;
            default: /* a flipped byte in its data: full length, bad checksum */
                c.data[c.len - 1 - rand_r(seed) % 16] ^= 0x40;
                put(&m->file, c.data, c.len);
            }
            m->mid_damage = 1;
            dasf_buf_free(&c);
        }
        int n = 1 + (int)(rand_r(seed) % 300);
        make_chunk(&c, seq, n, seed);
        put(&m->file, c.data, c.len);
        seq += n;
        dasf_buf_free(&c);
    }
    m->whole_events = seq;
    m->tail_at = m->file.len;
    if (rand_r(seed) % 3) {
        dasf_buf c = {0};
        make_chunk(&c, 2 << 20, 1 + (int)(rand_r(seed) % 300), seed);
        put(&m->file, c.data, torn_len(&c, seed));
        dasf_buf_free(&c);
    }
}

Test(torn, random_mixes_cut_exactly_the_torn_tail) {
    unsigned seed = (unsigned)getpid();
    const char *path = th_tmp_file("mix.dasf");
    for (int it = 0; it < 300; it++) {
        mix m;
        make_mix(&m, &seed);
        cr_assert_eq(th_write_file(path, m.file.data, m.file.len), 0);
        int fd = open(path, O_RDWR);
        cr_assert(fd >= 0);
        cr_assert_eq(dasf_torn_tail_at(fd, 0, m.file.len), m.tail_at,
                     "mix %d: the torn tail starts at %llu (%zu bytes)", it,
                     (unsigned long long)m.tail_at, m.file.len);
        close(fd);
        /* The first append cuts it; every whole chunk's events stay, the
         * appended ones are there, damage in the middle is still reported. */
        dasf_buf c = {0};
        make_chunk(&c, m.whole_events, 5, &seed);
        dasf_append_fd afd = {-1, 0};
        uint64_t cut = 0;
        int rc = dasf_file_append_cut(&afd, path, DASF_LAYOUT_ARCHIVE, c.data, c.len, 1.0, 0, 0,
                                      &cut);
        cr_assert_eq(rc, 0, "mix %d: append: %s", it, dasf_strerror(rc));
        close(afd.fd);
        cr_assert_eq(cut, m.file.len - m.tail_at, "mix %d: %llu bytes cut", it,
                     (unsigned long long)cut);
        th_seq_check ck = th_check_seqs(path, m.whole_events + 5);
        cr_assert_eq(ck.read_rc, 0);
        cr_assert_eq(ck.missing, 0, "mix %d: seq %ld lost", it, ck.first_missing);
        cr_assert_eq(ck.dup, 0);
        cr_assert_eq(ck.damaged, (uint64_t)m.mid_damage, "mix %d: damage left as it was", it);
        dasf_buf_free(&c);
        dasf_buf_free(&m.file);
    }
}

/* ---- a profiler's file, cut, then a profiler appends ---------------------------- */

static void record_batch(dasf_profiler *p, long seq0, int n) {
    for (int i = 0; i < n; i++) {
        dasf_arg a = DASF_ARG_I64("seq", seq0 + i);
        cr_assert_eq(dasf_record_complete_args(p, "a", (double)(seq0 + i) * 1e-9, 0, &a, 1), 0);
    }
}

static dasf_file_db_options no_shm(void) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.shm_dir = ""; /* rings in anonymous memory: only the file matters here */
    return o;
}

Test(torn, next_profiler_cuts_a_torn_tail_at_every_kind_of_offset) {
    const char *dir = th_tmpdir();
    char *base = th_path(dir, "base.dasf");
    dasf_file_db_options o = no_shm();
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, base, &o, NULL), 0);
    struct stat st;
    for (int b = 0; b < 4; b++) { /* one chunk per commit */
        record_batch(p, b * 300L, 300);
        cr_assert_eq(dasf_profiler_commit(p), 0);
    }
    cr_assert_eq(stat(base, &st), 0);
    off_t before_last = st.st_size;
    record_batch(p, 1200, 300);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    size_t len;
    uint8_t *whole = th_read_file(base, &len);
    cr_assert(whole && (off_t)len > before_last + 16);
    uint32_t ml;
    memcpy(&ml, whole + before_last + 4, 4);
    size_t chunk = len - (size_t)before_last;
    cr_assert_gt(chunk, 8 + ml + 2);
    size_t cuts[] = {1, 3, 4, 7, 8, 9, 8 + ml - 1, 8 + ml, 8 + ml + 1, chunk / 2, chunk - 1};
    char *errf = th_path(dir, "stderr");
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char name[32];
        snprintf(name, sizeof name, "cut%zu.dasf", i);
        char *path = th_path(dir, name);
        cr_assert_eq(th_write_file(path, whole, (size_t)before_last + cuts[i]), 0);
        /* stderr to a file while the profiler runs: the cut is said there */
        fflush(stderr);
        int saved = dup(2), efd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        cr_assert(saved >= 0 && efd >= 0);
        dup2(efd, 2);
        close(efd);
        cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
        record_batch(p, 1200, 300); /* the torn chunk's seqs, written again */
        int rc = dasf_profiler_destroy(p);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        cr_assert_eq(rc, 0);
        char *err = NULL, *out = NULL;
        size_t elen;
        uint8_t *e = th_read_file(errf, &elen);
        cr_assert(e);
        char expect[64];
        snprintf(expect, sizeof expect, "(%zu bytes at byte %lld)", cuts[i], (long long)before_last);
        cr_assert(memmem(e, elen, expect, strlen(expect)), "cut %zu said on stderr: %.*s", cuts[i],
                  (int)elen, (const char *)e);
        free(e);
        cr_assert_eq(th_cli(dir, &out, &err, "verify %s", name), 0, "cut at %zu: %s", cuts[i], out);
        free(out);
        free(err);
        th_seq_check ck = th_check_seqs(path, 1500);
        cr_assert_eq(ck.missing + ck.dup + ck.other + (long)ck.damaged, 0, "cut at %zu", cuts[i]);
    }
    /* Cut on a chunk boundary: nothing is torn, nothing is cut. */
    char *path = th_path(dir, "boundary.dasf");
    cr_assert_eq(th_write_file(path, whole, (size_t)before_last), 0);
    int fd = open(path, O_RDONLY);
    cr_assert_eq(dasf_torn_tail_at(fd, 0, (uint64_t)before_last), (uint64_t)before_last);
    close(fd);
    free(whole);
}

/* ---- a writer killed while we keep appending to the same file ---------------------- */

/* Another process appends a whole chunk and then dies inside its next
 * write while our profiler runs: our next append cuts its torn chunk (the
 * walk starts where our last append ended).  A torn chunk that another
 * live writer already appended after stays: it is in the middle. */
Test(torn, a_writer_killed_while_we_append_is_cut_at_our_next_append) {
    unsigned seed = 11;
    const char *path = th_tmp_file("shared.dasf");
    dasf_file_db_options o = no_shm();
    dasf_profiler *p;
    cr_assert_eq(dasf_profiler_create(&p, path, &o, NULL), 0);
    record_batch(p, 0, 200);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    dasf_buf other = {0}, dead = {0};
    make_chunk(&other, 200, 100, &seed);
    make_chunk(&dead, 1 << 20, 100, &seed);
    int fd = open(path, O_WRONLY | O_APPEND);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, other.data, other.len), (ssize_t)other.len);
    size_t torn = dead.len / 3;
    cr_assert_eq(write(fd, dead.data, torn), (ssize_t)torn);
    record_batch(p, 300, 200);
    cr_assert_eq(dasf_profiler_commit(p), 0);
    th_seq_check ck = th_check_seqs(path, 500);
    cr_assert_eq(ck.missing + ck.dup + ck.other + (long)ck.damaged, 0,
                 "the torn chunk was cut at our next append (%llu damaged)",
                 (unsigned long long)ck.damaged);
    /* Now in the middle: torn, then another writer's whole chunk. */
    cr_assert_eq(write(fd, dead.data, torn), (ssize_t)torn);
    cr_assert_eq(write(fd, other.data, other.len), (ssize_t)other.len); /* seqs 200.. again */
    record_batch(p, 500, 100);
    cr_assert_eq(dasf_profiler_destroy(p), 0);
    close(fd);
    ck = th_check_seqs(path, 600);
    cr_assert_eq(ck.missing, 0);
    cr_assert_eq(ck.damaged, 1, "a torn chunk in the middle is left alone");
    cr_assert_eq(ck.dup, 100, "the other writer's chunk, written twice by the test");
    dasf_buf_free(&other);
    dasf_buf_free(&dead);
}

/* ---- a writer in the middle of its write is not cut ----------------------------- */

typedef struct appender {
    const char *path;
    const dasf_buf *chunk;
    uint64_t cut;
    int rc, done;
} appender;

static void *append_thread(void *arg) {
    appender *a = arg;
    dasf_append_fd fd = {-1, 0};
    a->rc = dasf_file_append_cut(&fd, a->path, DASF_LAYOUT_ARCHIVE, a->chunk->data, a->chunk->len,
                                 30.0, 0, 0, &a->cut);
    if (fd.fd >= 0) close(fd.fd);
    __atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

Test(torn, a_writer_holding_the_lock_mid_write_is_not_cut) {
    unsigned seed = 7;
    const char *path = th_tmp_file("live.dasf");
    dasf_buf first = {0}, second = {0}, mine = {0};
    make_chunk(&first, 0, 100, &seed);
    make_chunk(&second, 100, 300, &seed);
    make_chunk(&mine, 400, 50, &seed);
    cr_assert_eq(th_write_file(path, first.data, first.len), 0);
    /* The live writer: holds the lock and has written half of its chunk. */
    int wfd = open(path, O_WRONLY | O_APPEND);
    cr_assert(wfd >= 0);
    cr_assert_eq(flock(wfd, LOCK_EX), 0);
    size_t half = second.len / 2;
    cr_assert_eq(write(wfd, second.data, half), (ssize_t)half);
    appender a = {path, &mine, 0, -1, 0};
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, append_thread, &a), 0);
    usleep(200 * 1000);
    cr_assert(!__atomic_load_n(&a.done, __ATOMIC_ACQUIRE), "the appender waits for the lock");
    struct stat st;
    cr_assert_eq(fstat(wfd, &st), 0);
    cr_assert_eq((size_t)st.st_size, first.len + half, "nothing was cut under the writer");
    cr_assert_eq(write(wfd, second.data + half, second.len - half), (ssize_t)(second.len - half));
    flock(wfd, LOCK_UN);
    close(wfd);
    pthread_join(t, NULL);
    cr_assert_eq(a.rc, 0);
    cr_assert_eq(a.cut, 0, "a whole chunk is never cut");
    th_seq_check ck = th_check_seqs(path, 450);
    cr_assert_eq(ck.missing + ck.dup + ck.other + (long)ck.damaged, 0);
    dasf_buf_free(&first);
    dasf_buf_free(&second);
    dasf_buf_free(&mine);
}

/* ---- for real: killed inside its write, then recovered -------------------------- */

Test(torn, killed_inside_write_then_recovered) {
    const char *dir = th_tmpdir();
    char *shm = th_path(dir, "shm");
    mkdir(shm, 0700);
    setenv("DASF_SHM_DIR", shm, 1);
    long rounds = getenv("DASF_TORN_ROUNDS") ? atol(getenv("DASF_TORN_ROUNDS")) : 12;
    long torn = 0;
    uint64_t bytes = 0;
    for (long i = 0; i < rounds; i++) {
        char name[64];
        snprintf(name, sizeof name, "big%ld.dasf", i);
        char *trace = th_path(dir, name);
        setenv("DASF_TEST_WORKERS", i % 4 >= 2 ? "2" : "0", 1); /* half of them with workers */
        th_child c = th_start_crash_writer(trace, "big", "0");
        cr_assert(c.pid > 0 && c.out);
        th_read_reports(&c, 1);
        /* The file grows page by page inside write(): kill at the first
         * growth seen after the (i % 3)-th chunk. */
        struct stat st;
        off_t last = 0;
        for (int grown = 0, polls = 0; grown <= (int)(i % 3); polls++) {
            if (stat(trace, &st) == 0 && st.st_size != last) {
                last = st.st_size;
                grown++;
            }
            if (polls % 4096 == 0) { /* never wait on a writer that is gone */
                int ws;
                cr_assert_eq(waitpid(c.pid, &ws, WNOHANG), 0, "round %ld: the writer died", i);
            }
        }
        kill(c.pid, SIGKILL);
        int ws = th_wait_status(c.pid);
        long reported = th_read_reports(&c, 0);
        fclose(c.out);
        cr_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
        if (i % 2 == 0) { /* the recoverer */
            dasf_recover_stats rs;
            cr_assert_eq(dasf_recover_maps(NULL, trace, 0, &rs), 0);
            cr_assert_eq(rs.maps_recovered, 1, "round %ld: the map was drained", i);
            torn += rs.tail_bytes_cut > 0;
            bytes += rs.tail_bytes_cut;
        } else { /* the next profiler on the file */
            cr_assert_eq(stat(trace, &st), 0);
            int fd = open(trace, O_RDONLY);
            uint64_t at = dasf_torn_tail_at(fd, 0, (uint64_t)st.st_size);
            close(fd);
            torn += at < (uint64_t)st.st_size;
            bytes += (uint64_t)st.st_size - at;
            dasf_profiler *p;
            cr_assert_eq(dasf_profiler_create(&p, trace, NULL, NULL), 0);
            cr_assert_eq(dasf_profiler_destroy(p), 0);
        }
        th_seq_check ck = th_check_seqs(trace, reported);
        cr_assert_eq(ck.read_rc, 0);
        cr_assert_eq(ck.damaged, 0, "round %ld: the file verifies", i);
        cr_assert_eq(ck.dup, 0, "round %ld: no event twice", i);
        cr_assert_eq(ck.missing, 0, "round %ld: %ld of %ld reported events missing", i, ck.missing,
                     reported);
    }
    fprintf(stderr, "killed inside write: %ld of %ld rounds left a torn last chunk (%llu bytes), "
                    "all cut, every reported event exactly once\n",
            torn, rounds, (unsigned long long)bytes);
    cr_assert_gt(torn, 0, "at least one kill landed inside a write (else nothing was tested)");
}
