/* What files a process holds open, from /proc/PID/fd, read once per pass. */
#ifndef CT_PROC_FDS_H
#define CT_PROC_FDS_H

#include <stdbool.h>
#include <sys/types.h>

/* Forget what was read: the next question reads /proc again. The collector
 * calls this at each tick (fd tables change between ticks). */
void ct_proc_fds_forget(void);

/* Does process pid hold path (or alt, when not NULL/empty) open through
 * some fd? False when the process is gone or its fd table unreadable. */
bool ct_proc_fds_holds(const char *proc_root, pid_t pid, const char *path, const char *alt);

#endif
