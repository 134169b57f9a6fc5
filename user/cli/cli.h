/* Subcommands of the changetrace binary. Each returns the process exit
 * code: 0 ok, 1 runtime failure, 2 usage error. */
#ifndef CT_CLI_H
#define CT_CLI_H

int ct_cmd_run(int argc, char **argv);
int ct_cmd_status(int argc, char **argv);
int ct_cmd_policy(int argc, char **argv);
int ct_cmd_query(int argc, char **argv);
int ct_cmd_timeline(int argc, char **argv);
int ct_cmd_blame(int argc, char **argv);
int ct_cmd_diff(int argc, char **argv);
int ct_cmd_verify(int argc, char **argv);
int ct_cmd_deploy(int argc, char **argv);
int ct_cmd_feed(int argc, char **argv);

#endif
