/* The agent under a service manager: see agent_service.h. */
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>

#include "agent/agent_service.h"
#include "lib/util.h"

static void send_state(struct ct_service *s, const char *state)
{
	/* 0: no socket, nothing to tell; < 0: the manager did not get it */
	if (s->notify && sd_notify(0, state) <= 0)
		s->notify_failures++;
}

void ct_service_init(struct ct_service *s)
{
	uint64_t usec = 0;

	*s = (struct ct_service){ 0 };
	s->notify = getenv("NOTIFY_SOCKET") != NULL;
	/* > 0 only when $WATCHDOG_USEC is set (and $WATCHDOG_PID, if set, is us) */
	if (s->notify && sd_watchdog_enabled(0, &usec) > 0)
		s->watchdog_ns = usec * 1000;
}

int ct_service_max_sleep_ms(const struct ct_service *s, int want_ms)
{
	uint64_t half_ms = s->watchdog_ns / 2 / 1000000;

	if (!s->watchdog_ns)
		return want_ms;
	if (half_ms < 1)
		half_ms = 1;
	return half_ms < (uint64_t)want_ms ? (int)half_ms : want_ms;
}

void ct_service_ready(struct ct_service *s, const char *status)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=%s", status);
	send_state(s, msg);
	s->last_ping_ns = ct_now_mono_ns();
}

void ct_service_reloading(struct ct_service *s)
{
	char msg[96];

	/* the manager matches RELOADING=1 to this reload by the timestamp */
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)(ct_now_mono_ns() / 1000));
	send_state(s, msg);
}

void ct_service_stopping(struct ct_service *s)
{
	send_state(s, "STOPPING=1");
}

void ct_service_tick(struct ct_service *s, uint64_t now_mono_ns)
{
	if (!s->watchdog_ns || now_mono_ns - s->last_ping_ns < s->watchdog_ns / 2)
		return;
	send_state(s, "WATCHDOG=1");
	s->pings++;
	s->last_ping_ns = now_mono_ns;
}
