/*
 * The agent under a service manager: systemd's notify protocol (through
 * libsystemd). READY=1 once the probes are attached and the loop is about
 * to run, RELOADING=1/READY=1 around a SIGHUP reload, STOPPING=1 on the
 * way out, and WATCHDOG=1 keep-alives sent from the event loop itself, so
 * a wedged loop stops them and the manager restarts the agent. Without
 * $NOTIFY_SOCKET every call does nothing.
 */
#ifndef CT_AGENT_SERVICE_H
#define CT_AGENT_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

struct ct_service {
	bool notify;              /* $NOTIFY_SOCKET was set */
	uint64_t watchdog_ns;     /* $WATCHDOG_USEC for us; 0: no watchdog */
	uint64_t last_ping_ns;    /* monotonic */
	uint64_t pings;           /* WATCHDOG=1 sent */
	uint64_t notify_failures; /* messages the manager may not have got */
};

void ct_service_init(struct ct_service *s);
/* The longest the event loop may sleep so keep-alives stay on time. */
int ct_service_max_sleep_ms(const struct ct_service *s, int want_ms);
void ct_service_ready(struct ct_service *s, const char *status);
void ct_service_reloading(struct ct_service *s);
void ct_service_stopping(struct ct_service *s);
/* Called every loop iteration: WATCHDOG=1 once half the interval passed. */
void ct_service_tick(struct ct_service *s, uint64_t now_mono_ns);

#endif
