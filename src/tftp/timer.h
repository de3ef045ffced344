/*
 * The one timer of a TFTP transfer (download or upload), set from the
 * deadline its state machine returns.
 */
#ifndef PXED_TFTP_TIMER_H
#define PXED_TFTP_TIMER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/time.h>

/*
 * Arms timer for deadline_us (monotonic microseconds; now_us is the time
 * now); *armed_us remembers what it is set for (0: not set). With
 * keep_earlier, a timer already set for earlier stays: the state machine
 * ignores early wake-ups and hands back the real deadline then, so a
 * deadline that moves later with every ACK costs one timer update per
 * timeout period instead of one per packet.
 */
static inline void tftp_timer_set(struct event *timer, uint64_t *armed_us, uint64_t deadline_us,
				  uint64_t now_us, bool keep_earlier)
{
	uint64_t in = deadline_us > now_us ? deadline_us - now_us : 0;
	struct timeval tv = {.tv_sec = (time_t)(in / 1000000),
			     .tv_usec = (suseconds_t)(in % 1000000)};

	if (deadline_us == *armed_us || (keep_earlier && *armed_us != 0 && deadline_us > *armed_us))
		return;
	evtimer_add(timer, &tv);
	*armed_us = deadline_us;
}

#endif
