/* The core's rules through the C API, in C99, on a virtual clock. */
#include <stdio.h>
#include <string.h>

#include "slotgate/slotgate.h"

static int g_failed, g_passed;
#define CHECK(cond)                                                      \
  do {                                                                   \
    if (cond) {                                                          \
      ++g_passed;                                                        \
    } else {                                                             \
      ++g_failed;                                                        \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                    \
  } while (0)

static slotgate_tick g_now = 1000;
static unsigned g_notified;
static slotgate_tick clock_now(void* context) {
  (void)context;
  return g_now;
}
static void on_notify(void* context) {
  (void)context;
  ++g_notified;
}

static unsigned char g_storage[SLOTGATE_LIMITER_STORAGE];

static slotgate_limiter* fresh(uint32_t limit, slotgate_tick cooldown) {
  slotgate_port port;
  memset(&port, 0, sizeof port);
  port.now = clock_now;
  port.notify = on_notify;
  slotgate_limiter* l = slotgate_init(g_storage, sizeof g_storage, &port);
  slotgate_config cfg;
  slotgate_config_init(&cfg);
  cfg.limit = limit;
  cfg.cooldown = cooldown;
  cfg.default_pause = 100;
  cfg.gate_max_age = 1000;
  cfg.headroom_track_foreign = false;
  if (l != NULL && slotgate_configure(l, &cfg) != SLOTGATE_OK) return NULL;
  return l;
}

static void test_storage(void) {
  slotgate_port port;
  memset(&port, 0, sizeof port);
  port.now = clock_now;
  CHECK(slotgate_limiter_size() <= SLOTGATE_LIMITER_SIZE);
  CHECK(slotgate_init(g_storage, slotgate_limiter_size() - 1, &port) == NULL);
  /* Any alignment is fine as long as there is room to align. */
  CHECK(slotgate_init(g_storage + 1, sizeof g_storage - 1, &port) != NULL);
  CHECK(((size_t)slotgate_init(g_storage + 3, sizeof g_storage - 3, &port)) %
            SLOTGATE_LIMITER_ALIGN ==
        0);
  port.now = NULL;
  CHECK(slotgate_init(g_storage, sizeof g_storage, &port) == NULL);
  CHECK(slotgate_init(g_storage, sizeof g_storage, NULL) == NULL);
}

static void test_fast_path_and_release(void) {
  slotgate_limiter* l = fresh(2, 0);
  slotgate_permit a, b, c;
  CHECK(l != NULL);
  CHECK(slotgate_would_admit(l));
  CHECK(slotgate_try_acquire(l, &a) == SLOTGATE_OK);
  CHECK(slotgate_try_acquire(l, &b) == SLOTGATE_OK);
  CHECK(!slotgate_would_admit(l));
  CHECK(!slotgate_would_admit(NULL));
  CHECK(slotgate_try_acquire(l, &c) == SLOTGATE_NO_SLOT);
  CHECK(c.generation == 0);
  CHECK(slotgate_release(l, a) == SLOTGATE_OK);
  CHECK(slotgate_would_admit(l));
  CHECK(slotgate_release(l, a) == SLOTGATE_STALE_PERMIT);
  c.slot = 999;
  c.generation = 1;
  CHECK(slotgate_release(l, c) == SLOTGATE_INVALID_PERMIT);
  CHECK(slotgate_try_acquire(l, &c) == SLOTGATE_OK);
  slotgate_snapshot s;
  slotgate_get_snapshot(l, &s);
  CHECK(s.held == 2);
  CHECK(s.counters.granted == 3);
  CHECK(s.counters.bad_releases == 2);
  CHECK(slotgate_set_limit(l, SLOTGATE_C_MAX_SLOTS + 1) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_set_share(l, SLOTGATE_C_MAX_SLOTS + 1) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_set_share(NULL, 1) == SLOTGATE_INVALID_ARGUMENT);
  /* 0 admits nobody until raised. */
  CHECK(slotgate_set_limit(l, 0) == SLOTGATE_OK);
  CHECK(slotgate_try_acquire(l, &c) == SLOTGATE_NO_SLOT);
  CHECK(slotgate_set_share(l, 4) == SLOTGATE_OK);
  slotgate_get_snapshot(l, &s);
  CHECK(s.limit == 4);
  CHECK(strcmp(slotgate_status_string(SLOTGATE_GATED), "gated") == 0);
}

static void test_fifo_cooldown_and_cancel(void) {
  slotgate_limiter* l = fresh(1, 50);
  slotgate_permit p, q;
  slotgate_ticket t1, t2, t3;
  bool has = false;
  slotgate_tick next = 0;
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t1, false, 0) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t2, false, 0) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t3, true, g_now + 10) == SLOTGATE_OK);
  CHECK(slotgate_claim(l, t1, &q) == SLOTGATE_PENDING);
  CHECK(slotgate_release(l, p) == SLOTGATE_OK); /* cooling until +50 */
  CHECK(slotgate_try_acquire(l, &q) == SLOTGATE_WAITERS_AHEAD);
  CHECK(slotgate_poll(l, &has, &next) == SLOTGATE_OK);
  CHECK(has && next == g_now + 10); /* t3's deadline comes first */
  g_now += 10;
  slotgate_poll(l, NULL, NULL);
  CHECK(slotgate_ticket_state_of(l, t3) == SLOTGATE_TICKET_TIMED_OUT);
  CHECK(slotgate_cancel(l, t3) == SLOTGATE_TIMED_OUT);
  g_now += 40;
  slotgate_poll(l, NULL, NULL);
  CHECK(slotgate_ticket_state_of(l, t1) == SLOTGATE_TICKET_GRANTED);
  CHECK(slotgate_ticket_state_of(l, t2) == SLOTGATE_TICKET_WAITING);
  CHECK(slotgate_claim(l, t1, &q) == SLOTGATE_OK);
  CHECK(slotgate_cancel(l, t2) == SLOTGATE_OK);
  CHECK(slotgate_cancel(l, t2) == SLOTGATE_STALE_TICKET);
  CHECK(slotgate_release(l, q) == SLOTGATE_OK);
  CHECK(g_notified > 0);
}

static unsigned g_waiter_wakes;
static uint32_t g_last_waiter = 0xFFFFFFFFu;
static void on_notify_waiter(void* context, uint32_t ticket_index) {
  (void)context;
  ++g_waiter_wakes;
  g_last_waiter = ticket_index;
}

/* With notify_waiter, a grant wakes the ticket it is for, by index; without it, notify(). */
static void test_wake_up_per_waiter(void) {
  slotgate_port port;
  slotgate_permit p, q;
  slotgate_ticket t1, t2;
  slotgate_limiter* l;
  unsigned notified;
  memset(&port, 0, sizeof port);
  port.now = clock_now;
  port.notify = on_notify;
  port.notify_waiter = on_notify_waiter;
  l = slotgate_init(g_storage, sizeof g_storage, &port);
  CHECK(l != NULL && slotgate_set_limit(l, 1) == SLOTGATE_OK);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t1, false, 0) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t2, false, 0) == SLOTGATE_OK);
  g_waiter_wakes = 0;
  notified = g_notified;
  CHECK(slotgate_release(l, p) == SLOTGATE_OK);
  CHECK(g_waiter_wakes == 1 && g_last_waiter == t1.index);
  CHECK(g_notified == notified); /* no deadline moved: nobody else is woken */
  CHECK(slotgate_claim(l, t1, &q) == SLOTGATE_OK);
  slotgate_close(l);
  CHECK(g_waiter_wakes == 2 && g_last_waiter == t2.index);
  {
    slotgate_snapshot s;
    slotgate_get_snapshot(l, &s);
    CHECK(s.counters.wakeups == 2);
  }

  port.notify_waiter = NULL;
  l = slotgate_init(g_storage, sizeof g_storage, &port);
  CHECK(l != NULL && slotgate_set_limit(l, 1) == SLOTGATE_OK);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_OK);
  CHECK(slotgate_enqueue(l, &t1, false, 0) == SLOTGATE_OK);
  notified = g_notified;
  CHECK(slotgate_release(l, p) == SLOTGATE_OK);
  CHECK(g_notified == notified + 1);
}

static void test_gate_pause_and_close(void) {
  slotgate_limiter* l = fresh(4, 0);
  slotgate_permit p;
  slotgate_ticket t;
  slotgate_snapshot s;
  slotgate_report_usage(l, 4, g_now); /* the upstream is full */
  slotgate_poll(l, NULL, NULL);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_GATED);
  g_now += 5;
  slotgate_report_usage(l, 3, g_now);
  slotgate_poll(l, NULL, NULL);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_OK);
  CHECK(slotgate_release_rejected(l, p, true, 30) == SLOTGATE_OK);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_PAUSED);
  slotgate_get_snapshot(l, &s);
  CHECK(s.paused && s.counters.rejected_by_upstream == 1 && s.headroom == 1);
  CHECK(s.half_open && s.counters.episodes == 1 &&
        s.backoff == 100); /* the default pause is longer */
  CHECK(s.headroom_reason == SLOTGATE_HEADROOM_REJECTED && s.limit_before_headroom == 4 &&
        s.headroom_since == g_now && s.episode_started_at == g_now);
  CHECK(s.cooldown == 0 && s.max_hold == 0 && s.reading_missing == 0);
  /* The first reading showed 4 sessions, none ours; the last one 3. */
  CHECK(s.foreign_peak == 4 && s.foreign_seen == 3);
  slotgate_resume(l);
  CHECK(slotgate_enqueue(l, &t, false, 0) == SLOTGATE_OK);
  slotgate_close(l);
  CHECK(slotgate_try_acquire(l, &p) == SLOTGATE_CLOSED);
  CHECK(slotgate_enqueue(l, &t, false, 0) == SLOTGATE_CLOSED);
  CHECK(slotgate_configure(l, NULL) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_try_acquire(NULL, &p) == SLOTGATE_INVALID_ARGUMENT);
}

static void test_recommended_config(void) {
  slotgate_config cfg;
  slotgate_config_recommended(&cfg, 4, 1000); /* a millisecond clock */
  CHECK(cfg.limit == 4 && cfg.cooldown == 350 && cfg.default_pause == 1000);
  CHECK(cfg.max_pause == 300000 && cfg.gate_max_age == 30000 && cfg.learn_max_lag == 30000);
  CHECK(cfg.headroom_track_foreign && cfg.headroom_foreign_confirm == 3000);
  slotgate_config_init(&cfg);
  CHECK(cfg.limit == 1 && cfg.cooldown == 0 && cfg.learn_max_lag == 0);
}

/* acquire_or_enqueue: granted at once (no ticket), queued (a ticket: "you are queued"), or
 * refused (neither). */
static void test_acquire_or_enqueue(void) {
  slotgate_limiter* l = fresh(1, 0);
  slotgate_permit p, q;
  slotgate_ticket t, u;
  CHECK(l != NULL);
  CHECK(slotgate_acquire_or_enqueue(l, &p, &t, false, 0) == SLOTGATE_OK);
  CHECK(p.generation != 0 && t.generation == 0);
  CHECK(slotgate_acquire_or_enqueue(l, &q, &t, false, 0) == SLOTGATE_PENDING);
  CHECK(q.generation == 0 && t.generation != 0);
  CHECK(slotgate_ticket_state_of(l, t) == SLOTGATE_TICKET_WAITING);
  /* A deadline already passed: refused at once, never queued. */
  CHECK(slotgate_acquire_or_enqueue(l, &q, &u, true, g_now) == SLOTGATE_TIMED_OUT);
  CHECK(q.generation == 0 && u.generation == 0);
  CHECK(slotgate_release(l, p) == SLOTGATE_OK);
  CHECK(slotgate_claim(l, t, &q) == SLOTGATE_OK);
  CHECK(slotgate_release(l, q) == SLOTGATE_OK);
  slotgate_close(l);
  CHECK(slotgate_acquire_or_enqueue(l, &q, &u, false, 0) == SLOTGATE_CLOSED);
  CHECK(q.generation == 0 && u.generation == 0);
  CHECK(slotgate_acquire_or_enqueue(NULL, &q, &u, false, 0) == SLOTGATE_INVALID_ARGUMENT);
}

/* Lanes: with SLOTGATE_C_LANES > 1 (this file is also built against a two-lane library), the
 * higher lane is served first; with one, any other lane and the lane calls are refused. */
static void test_lanes(void) {
  slotgate_limiter* l = fresh(1, 0);
  slotgate_permit held, p;
  slotgate_ticket low, t;
  slotgate_lane_config lc;
  slotgate_lane_snapshot ls;
  CHECK(l != NULL);
  memset(&lc, 0, sizeof lc);
  CHECK(slotgate_try_acquire(l, &held) == SLOTGATE_OK);
#if SLOTGATE_C_LANES > 1
  slotgate_ticket high;
  lc.age = 100;
  lc.share_window = 2;
  lc.min_share[0] = 3; /* more than the window */
  CHECK(slotgate_configure_lanes(l, &lc) == SLOTGATE_INVALID_ARGUMENT);
  lc.min_share[0] = 0;
  CHECK(slotgate_configure_lanes(l, &lc) == SLOTGATE_OK);
  CHECK(slotgate_enqueue_in_lane(l, &low, false, 0, 0) == SLOTGATE_OK);
  CHECK(slotgate_acquire_or_enqueue_in_lane(l, &p, &high, false, 0, 1) == SLOTGATE_PENDING);
  g_now += 10;
  CHECK(slotgate_lane_snapshot_of(l, 0, &ls) == SLOTGATE_OK);
  CHECK(ls.waiting == 1 && ls.queued == 1 && ls.longest_wait == 10);
  CHECK(slotgate_release(l, held) == SLOTGATE_OK);
  CHECK(slotgate_ticket_state_of(l, high) == SLOTGATE_TICKET_GRANTED); /* queued second */
  CHECK(slotgate_ticket_state_of(l, low) == SLOTGATE_TICKET_WAITING);
  CHECK(slotgate_claim(l, high, &held) == SLOTGATE_OK);
  CHECK(slotgate_release(l, held) == SLOTGATE_OK);
  CHECK(slotgate_claim(l, low, &held) == SLOTGATE_OK);
  CHECK(slotgate_lane_snapshot_of(l, 1, &ls) == SLOTGATE_OK);
  CHECK(ls.queued == 1 && ls.granted == 1 && ls.waiting == 0);
  CHECK(slotgate_lane_snapshot_of(l, SLOTGATE_C_LANES, &ls) == SLOTGATE_INVALID_ARGUMENT);
#else
  CHECK(slotgate_configure_lanes(l, &lc) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_lane_snapshot_of(l, 0, &ls) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_enqueue_in_lane(l, &low, false, 0, 0) == SLOTGATE_OK);
  CHECK(slotgate_cancel(l, low) == SLOTGATE_OK);
#endif
  CHECK(slotgate_enqueue_in_lane(l, &t, false, 0, SLOTGATE_C_LANES) == SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_acquire_or_enqueue_in_lane(l, &p, &t, false, 0, SLOTGATE_C_LANES) ==
        SLOTGATE_INVALID_ARGUMENT);
  CHECK(slotgate_release(l, held) == SLOTGATE_OK);
}

int main(void) {
  test_storage();
  test_recommended_config();
  test_fast_path_and_release();
  test_fifo_cooldown_and_cancel();
  test_gate_pause_and_close();
  test_wake_up_per_waiter();
  test_acquire_or_enqueue();
  test_lanes();
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
