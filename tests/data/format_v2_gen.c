/* Writes the same events to a legacy file and a version-2 archive (built
 * against the format-2 library). */
#include <dasf/profiler.h>
#include <stdio.h>
#include <string.h>
static void run(const char *path, int level) {
    dasf_file_db_options o = dasf_file_db_options_default();
    o.compression_level = level;
    o.remove_old_output_file = true;
    o.commit_threshold = 25;
    dasf_profiler *p;
    if (dasf_profiler_create(&p, path, &o, NULL)) return;
    static const unsigned char mp[] = {0x82, 0xa1, 'n', 0x01, 0xa4, 'l', 'i', 's', 't', 0x92, 0xc3, 0xa1, 'x'};
    for (int i = 0; i < 60; i++) {
        double ts = 100.0 + i * 0.001234567;
        dasf_arg a[2] = {DASF_ARG_I64("iter", i), DASF_ARG_F64("r", i * 0.5)};
        dasf_record_complete_args(p, "step", ts, 0.0005 + i * 1e-6, a, 2);           /* schema */
        dasf_record_opts ro = {.args_msgpack = mp, .args_msgpack_size = sizeof mp};
        dasf_profiler_record_complete_event(p, "long", ts + 1e-7, 5.0 - i * 0.01, &ro); /* mode 2 */
        if (i % 20 == 19) dasf_profiler_commit(p);
        if (i % 7 == 0) {
            dasf_event ev = {.name = "async", .timestamp = ts, .phase = DASF_PHASE_ASYNC_BEGIN,
                             .cat = "io", .id = dasf_id_str("req-1"),
                             .process_id = dasf_id_str("node-3"), .thread_id = dasf_id_int(9)};
            dasf_profiler_record(p, &ev);
            dasf_record_opts io = {.scope = DASF_SCOPE_PROCESS};
            dasf_profiler_record_instant_event(p, "mark", ts, &io);
            dasf_profiler_record_duration_begin_event(p, "be", ts, NULL);
            dasf_profiler_record_duration_end_event(p, "be", ts + 1e-4, NULL);
        }
    }
    dasf_profiler_destroy(p);
}
int main(int argc, char **argv) {
    (void)argc;
    run(argv[1], 1);
    run(argv[2], 0);
    return 0;
}
