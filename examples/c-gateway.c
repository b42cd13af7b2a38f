/* A C gateway admitting requests to an upstream that allows 4 concurrent sessions and keeps
 * counting each for ~350 ms after it ends. Build: any C99 compiler, link slotgate. */
/* clock_gettime is POSIX, not C99. */
#define _POSIX_C_SOURCE 200112L

#include <slotgate/slotgate.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static slotgate_tick now_ms(void* context) {
  struct timespec ts;
  (void)context;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (slotgate_tick)ts.tv_sec * 1000u + (slotgate_tick)(ts.tv_nsec / 1000000);
}

/* The limiter lives in static storage: no heap anywhere. */
static unsigned char limiter_storage[SLOTGATE_LIMITER_STORAGE];

int main(void) {
  slotgate_port port;
  slotgate_config cfg;
  slotgate_limiter* limiter;
  slotgate_permit permits[6];
  slotgate_ticket tickets[6];
  slotgate_snapshot s;
  int i, granted = 0, queued = 0;

  memset(&port, 0, sizeof port);
  port.now = now_ms;
  limiter = slotgate_init(limiter_storage, sizeof limiter_storage, &port);
  if (limiter == NULL) return 1;
  slotgate_config_init(&cfg);
  cfg.limit = 4;
  cfg.cooldown = 350;       /* ms: the upstream's counter lags releases */
  cfg.max_hold = 60000;     /* reclaim a slot whose holder got stuck */
  cfg.default_pause = 5000; /* after a 429 without Retry-After */
  if (slotgate_configure(limiter, &cfg) != SLOTGATE_OK) return 1;

  /* Six requests, each willing to wait 1 s: four are admitted at once; the other two queue,
   * and a gateway tells their clients so now (e.g. an interim status), then claims each ticket
   * when the port's notify_waiter names it, or cancels it when its client leaves. */
  for (i = 0; i < 6; ++i) {
    const slotgate_status st =
        slotgate_acquire_or_enqueue(limiter, &permits[i], &tickets[i], true, now_ms(NULL) + 1000);
    if (st == SLOTGATE_OK) {
      ++granted;
      printf("request %d: admitted\n", i);
    } else if (st == SLOTGATE_PENDING) {
      ++queued;
      printf("request %d: queued (ticket %u): tell the client it is queued\n", i,
             (unsigned)tickets[i].index);
    } else {
      printf("request %d: %s\n", i, slotgate_status_string(st));
    }
  }
  /* Their clients gave up: withdraw both tickets (a grant that won the race goes back). */
  for (i = 4; i < 6; ++i) slotgate_cancel(limiter, tickets[i]);
  /* The first request ends normally, the second got a 429 with Retry-After: 2 s. */
  slotgate_release(limiter, permits[0]);
  slotgate_release_rejected(limiter, permits[1], true, 2000);
  slotgate_get_snapshot(limiter, &s);
  printf("held %u, cooling %u, paused %s, headroom %u, effective limit %u\n", s.held, s.cooling,
         s.paused ? "yes" : "no", s.headroom, s.effective_limit);
  return granted == 4 && queued == 2 ? 0 : 1;
}
