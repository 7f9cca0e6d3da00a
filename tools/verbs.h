/*
 * verbs.h — the entry point of each verb (cmd_VERB.c), called by main.c's
 * verb table with argv[0] = the verb.  Each returns an exit status
 * (messages.h: DT_OK, DT_FAIL, DT_USAGE).  One interface, ten
 * implementations: a verb includes this header only to have its entry
 * point checked against it; no verb calls another.
 * check_modules: implemented by cmd_*.c
 */
#ifndef DASF_TRACE_VERBS_H
#define DASF_TRACE_VERBS_H

int dt_cmd_cat(int argc, char **argv);
int dt_cmd_info(int argc, char **argv);
int dt_cmd_stats(int argc, char **argv);
int dt_cmd_export(int argc, char **argv);
int dt_cmd_timeline(int argc, char **argv);
int dt_cmd_merge(int argc, char **argv);
int dt_cmd_convert(int argc, char **argv);
int dt_cmd_verify(int argc, char **argv);
int dt_cmd_record(int argc, char **argv);
int dt_cmd_recover(int argc, char **argv);

#endif
