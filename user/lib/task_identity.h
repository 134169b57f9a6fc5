/*
 * Which process a pid names. A pid is reused once its process is gone, so
 * anything kept by pid across time (the pinned ct_tasks map, a guard's
 * list of a deploy's processes, the pid of a control-socket peer) is
 * checked against the process's start time before it is believed: the
 * start time as /proc/PID/stat shows it (clock ticks since boot), the
 * value the probes keep in struct ct_task_attr.
 */
#ifndef CT_TASK_IDENTITY_H
#define CT_TASK_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Nanoseconds per clock tick (the probes' ct_ns_per_tick). */
uint64_t ct_ns_per_tick(void);
/* Start time of process pid in clock ticks since boot. 0, or -1 (gone). */
int ct_task_start_ticks(pid_t pid, uint64_t *ticks);
/* Is process pid tearing down (exit in progress, or a zombie)? */
bool ct_task_exiting(pid_t pid);
/* Exiting, or killed and not yet exiting (SIGKILL pending), or gone. */
bool ct_task_dying(pid_t pid);
/* A pidfd for pid (-1 if gone or unsupported). */
int ct_pidfd_open(pid_t pid);
/* Is the process behind pidfd still there (not reaped)? */
bool ct_pidfd_alive(int pidfd);
int ct_pidfd_signal(int pidfd, int sig);
/* Wait up to timeout_ms for process pid to be gone. 0 when it is. */
int ct_task_wait_gone(pid_t pid, int timeout_ms);
/* Signal pid only if it is still the process that started at ticks
 * (checked through a pidfd, so a pid reused meanwhile is never hit).
 * 0, or -1 with errno (ESRCH: gone or another process). */
int ct_task_signal_if(pid_t pid, uint64_t ticks, int sig);

#endif
