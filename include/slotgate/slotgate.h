/*
 * slotgate's C API (C99): the limiter for C firmware and C gateways.
 *
 * The configuration is fixed when the library is built: SLOTGATE_C_MAX_SLOTS permits and
 * SLOTGATE_C_MAX_WAITERS tickets (defaults 8 and 32), SLOTGATE_C_LANES priority lanes (default
 * 1), ticks of SLOTGATE_C_TICK_BITS bits (32 on 32-bit targets, 64 elsewhere). Define them the same
 * way for the library and its users (the CMake package and the pkg-config file carry them).
 *
 * The limiter lives in storage you provide (static, usually): a buffer of
 * SLOTGATE_LIMITER_STORAGE bytes of any alignment (C99 has no way to ask for more); the
 * limiter is placed at its first SLOTGATE_LIMITER_ALIGN-aligned address. Nothing allocates,
 * nothing blocks, nothing is global.
 * The platform is a slotgate_port: a clock, an optional usage source, a wake-up function.
 *
 * Every function is lock-free and may run in an interrupt handler, except where its comment
 * says otherwise; the semantics are those of the C++ slotgate::Limiter (see README.md).
 */
#ifndef SLOTGATE_H
#define SLOTGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slotgate/version.h"

#ifndef SLOTGATE_C_MAX_SLOTS
#define SLOTGATE_C_MAX_SLOTS 8
#endif
#ifndef SLOTGATE_C_MAX_WAITERS
#define SLOTGATE_C_MAX_WAITERS 32
#endif
#ifndef SLOTGATE_C_LANES
#define SLOTGATE_C_LANES 1
#endif
#ifndef SLOTGATE_C_TICK_BITS
#if UINTPTR_MAX == 0xFFFFFFFFu
#define SLOTGATE_C_TICK_BITS 32
#else
#define SLOTGATE_C_TICK_BITS 64
#endif
#endif

#if SLOTGATE_C_TICK_BITS == 32
typedef uint32_t slotgate_tick;
#else
typedef uint64_t slotgate_tick;
#endif

/* Storage for one limiter. SIZE is an upper bound the library checks at build time; STORAGE
 * adds room to align it. */
#define SLOTGATE_LIMITER_ALIGN 64
/* Each lane past the first: a ring that can hold every waiter, and its figures; each ticket
 * record, its lane and queue time. */
#define SLOTGATE_LIMITER_SIZE                                        \
  (2048 + 128 * SLOTGATE_C_MAX_SLOTS + 96 * SLOTGATE_C_MAX_WAITERS + \
   (SLOTGATE_C_LANES - 1) * (256 + 64 * SLOTGATE_C_MAX_WAITERS) +    \
   (SLOTGATE_C_LANES > 1 ? 16 * SLOTGATE_C_MAX_WAITERS : 0))
#define SLOTGATE_LIMITER_STORAGE (SLOTGATE_LIMITER_SIZE + SLOTGATE_LIMITER_ALIGN - 1)

#ifdef __cplusplus
extern "C" {
#endif

typedef enum slotgate_status {
  SLOTGATE_OK = 0,
  SLOTGATE_NO_SLOT,             /* every slot within the effective limit is held or cooling */
  SLOTGATE_WAITERS_AHEAD,       /* queued waiters come first (no barging) */
  SLOTGATE_PAUSED,              /* grants are paused */
  SLOTGATE_GATED,               /* the usage gate holds */
  SLOTGATE_CLOSED,              /* the limiter is closed */
  SLOTGATE_QUEUE_FULL,          /* every ticket record is in use */
  SLOTGATE_PENDING,             /* the ticket still waits */
  SLOTGATE_TIMED_OUT,           /* the ticket's deadline passed */
  SLOTGATE_GRANT_RETURNED,      /* cancel lost to a grant; the slot was given back */
  SLOTGATE_INVALID_ARGUMENT,    /* a limit or duration out of range, or a NULL argument */
  SLOTGATE_INVALID_PERMIT,      /* a permit never issued */
  SLOTGATE_STALE_PERMIT,        /* a permit already released, or an earlier holder's */
  SLOTGATE_RECLAIMED,           /* the permit outlived max_hold */
  SLOTGATE_INVALID_TICKET,      /* a ticket never issued */
  SLOTGATE_STALE_TICKET,        /* a ticket already claimed or cancelled */
  SLOTGATE_CLOCK_WENT_BACKWARDS /* poll saw time go back; it still did its work */
} slotgate_status;

typedef enum slotgate_ticket_state {
  SLOTGATE_TICKET_WAITING,
  SLOTGATE_TICKET_GRANTED,
  SLOTGATE_TICKET_TIMED_OUT,
  SLOTGATE_TICKET_CLOSED,
  SLOTGATE_TICKET_INVALID
} slotgate_ticket_state;

/* Why headroom H is above 0 (slotgate::HeadroomReason). */
typedef enum slotgate_headroom_reason {
  SLOTGATE_HEADROOM_NONE,     /* H = 0 */
  SLOTGATE_HEADROOM_REJECTED, /* the upstream refused sessions (429s) */
  SLOTGATE_HEADROOM_FOREIGN   /* readings showed sessions beyond this limiter's own */
} slotgate_headroom_reason;

typedef struct slotgate_permit {
  uint32_t slot;
  uint32_t generation; /* 0: no permit */
} slotgate_permit;

typedef struct slotgate_ticket {
  uint32_t index;
  uint32_t generation; /* 0: no ticket */
} slotgate_ticket;

/* The platform. `context` is passed back to every function. `now` is required; the others
 * may be NULL (no usage source: readings come only from slotgate_report_usage, or none; no
 * wake-up: waiters poll on their own schedule). notify() asks for a waiter to poll again (a
 * deadline may have moved); notify_waiter() says the ticket with this index was granted,
 * timed out or closed, so its owner alone can be woken (NULL: notify() is called instead).
 * Both may be called from an interrupt, and from several threads at once. */
typedef struct slotgate_port {
  void* context;
  slotgate_tick (*now)(void* context);
  bool (*read_usage)(void* context, uint32_t* sessions, slotgate_tick* sampled_at);
  void (*request_usage_refresh)(void* context);
  void (*notify)(void* context);
  void (*notify_waiter)(void* context, uint32_t ticket_index);
} slotgate_port;

/* Every field as in slotgate::Config (limiter_config.hpp); durations in your clock's ticks. */
typedef struct slotgate_config {
  uint32_t limit;              /* 1..SLOTGATE_C_MAX_SLOTS */
  slotgate_tick cooldown;      /* a released slot counts this long more (a floor: learned) */
  slotgate_tick max_hold;      /* reclaim a permit held longer (0: never) */
  slotgate_tick default_pause; /* a rejection episode's first pause (0: none) */
  slotgate_tick max_pause;     /* consecutive episodes double it up to this (0: no doubling) */
  /* usage gate */
  slotgate_tick gate_max_age;        /* a reading is usable this long (0: gate off) */
  slotgate_tick gate_visibility_lag; /* a floor: learned */
  slotgate_tick gate_tail;
  slotgate_tick gate_staleness; /* the usage endpoint may serve a value this old */
  slotgate_tick gate_repoll_interval;
  uint32_t gate_max_plausible_sessions;
  /* adaptive headroom */
  slotgate_tick headroom_recover_after; /* 0: never by itself */
  slotgate_tick headroom_foreign_confirm;
  slotgate_tick headroom_foreign_hold;
  bool headroom_sticky;
  bool headroom_track_foreign;
  /* learned lag */
  slotgate_tick learn_max_lag; /* 0: learning off */
  slotgate_tick learn_memory;  /* 0: never forget */
} slotgate_config;

/* Every counter of slotgate::Counters (snapshot.hpp), in its order and with its meaning. */
typedef struct slotgate_counters {
  uint64_t granted, fast_path, from_queue, released, cancelled, grants_returned, timed_out,
      closed_waiters, reclaimed, rejected_by_upstream, queue_full, bad_releases, no_slot,
      held_back_cooldown, held_back_gate, held_back_headroom, held_back_pause, held_back_probe,
      waiters_ahead, clock_regressions, wakeups, poll_wakeups, claim_rescans, readings,
      bad_readings, refresh_requests, headroom_steps_up, headroom_steps_down, episodes, probes,
      release_lag_samples, visibility_lag_samples, release_lag_from_rejections;
} slotgate_counters;

typedef struct slotgate_snapshot {
  uint32_t limit, effective_limit, headroom, headroom_rejected, headroom_foreign;
  uint32_t held, cooling, queued, tickets_outstanding;
  bool closed, paused, has_reading, gate_open, half_open, probe_out;
  slotgate_tick paused_until, reading_sampled_at, backoff, headroom_recovery;
  slotgate_tick effective_cooldown, effective_visibility_lag, learned_release_lag,
      learned_visibility_lag;
  uint32_t reading_sessions, gate_budget, gate_room, consecutive_episodes, foreign_seen;
  /* The rest of slotgate::Snapshot, each with its meaning there (snapshot.hpp). */
  slotgate_headroom_reason headroom_reason;
  slotgate_tick headroom_since;   /* when H last changed (meaningful when headroom > 0) */
  uint32_t limit_before_headroom; /* L when H last rose from 0 */
  slotgate_tick foreign_hold;     /* with readings stale, how long foreign headroom holds a step */
  uint32_t foreign_peak;          /* the most foreign sessions seen while the latest usage lasted */
  slotgate_tick foreign_away_for; /* how long foreign usage stayed away before it returned */
  slotgate_tick cooldown, max_hold; /* as configured */
  slotgate_tick episode_started_at; /* when the latest rejection episode started */
  uint32_t reading_missing;         /* our live sessions the reading was seen not to count yet */
  slotgate_counters counters;
} slotgate_snapshot;

/* Defaults: limit 1, everything else off. */
void slotgate_config_init(slotgate_config* config);
/* The recommended settings (slotgate::Config::recommended) for `limit`, on a clock of
 * `ticks_per_second` (1000 for milliseconds). */
void slotgate_config_recommended(slotgate_config* config, uint32_t limit,
                                 uint64_t ticks_per_second);

/* Build a limiter in `storage` (SLOTGATE_LIMITER_STORAGE bytes are always enough) with limit
 * SLOTGATE_C_MAX_SLOTS and nothing else configured. NULL if the storage is too small or the
 * port has no clock. Call it once, before sharing the limiter. The port is copied. */
typedef struct slotgate_limiter slotgate_limiter;
slotgate_limiter* slotgate_init(void* storage, size_t size, const slotgate_port* port);
/* The bytes the limiter itself takes (without alignment room). */
size_t slotgate_limiter_size(void);

slotgate_status slotgate_configure(slotgate_limiter* l, const slotgate_config* config);
/* 0..max slots; 0 admits nobody until raised. Clears headroom (an operator's change). */
slotgate_status slotgate_set_limit(slotgate_limiter* l, uint32_t limit);
/* The same, keeping what headroom learned: for a share handed down by a fleet. */
slotgate_status slotgate_set_share(slotgate_limiter* l, uint32_t limit);
slotgate_status slotgate_set_cooldown(slotgate_limiter* l, slotgate_tick cooldown);
slotgate_status slotgate_set_max_hold(slotgate_limiter* l, slotgate_tick max_hold);

slotgate_status slotgate_try_acquire(slotgate_limiter* l, slotgate_permit* out);
/* Whether slotgate_try_acquire would find a slot now: nobody queued, no pause, probe or gate
 * budget holding grants, and a slot free (or its cooldown over). A hint for a caller choosing
 * between spinning and queuing (another caller may take the slot first); changes and counts
 * nothing. false for NULL. Wait-free. */
bool slotgate_would_admit(const slotgate_limiter* l);
/* deadline: an absolute tick, used when has_deadline. */
slotgate_status slotgate_enqueue(slotgate_limiter* l, slotgate_ticket* out, bool has_deadline,
                                 slotgate_tick deadline);
/* try_acquire, else enqueue, in one call, as the blocking acquires do before they wait:
 * SLOTGATE_OK with *permit (granted at once, or as its ticket was taken); SLOTGATE_PENDING with
 * *ticket: the caller is queued instead of granted ("you are queued": tell its client now,
 * then claim the ticket once notify_waiter names it, or cancel it); else the refusal
 * (SLOTGATE_CLOSED, SLOTGATE_QUEUE_FULL, SLOTGATE_TIMED_OUT for a deadline already passed, ...)
 * with neither. The one that is not filled is zeroed. Lock-free. */
slotgate_status slotgate_acquire_or_enqueue(slotgate_limiter* l, slotgate_permit* permit,
                                            slotgate_ticket* ticket, bool has_deadline,
                                            slotgate_tick deadline);
/* The same, queued in `lane` (0 .. SLOTGATE_C_LANES - 1; the highest is served first, see
 * README "Priority lanes"); SLOTGATE_INVALID_ARGUMENT for a lane past them. */
slotgate_status slotgate_enqueue_in_lane(slotgate_limiter* l, slotgate_ticket* out,
                                         bool has_deadline, slotgate_tick deadline, uint32_t lane);
slotgate_status slotgate_acquire_or_enqueue_in_lane(slotgate_limiter* l, slotgate_permit* permit,
                                                    slotgate_ticket* ticket, bool has_deadline,
                                                    slotgate_tick deadline, uint32_t lane);
/* Lanes' aging and minimum shares (SLOTGATE_INVALID_ARGUMENT with one lane, for an age over
 * half the tick range, or shares adding up to more than the window). */
typedef struct slotgate_lane_config {
  slotgate_tick age;     /* a waiter queued this long ranks one lane higher (0: no aging) */
  uint32_t share_window; /* minimum shares count grants in windows of this many (0: none) */
  uint32_t min_share[SLOTGATE_C_LANES]; /* of each window, at least this many to lane i */
} slotgate_lane_config;
slotgate_status slotgate_configure_lanes(slotgate_limiter* l, const slotgate_lane_config* config);
/* One lane's figures; SLOTGATE_INVALID_ARGUMENT with one lane (the snapshot has them) or for a
 * lane past SLOTGATE_C_LANES - 1. Wait-free. */
typedef struct slotgate_lane_snapshot {
  uint32_t waiting;           /* entries in the lane's queue not yet taken off */
  uint64_t queued;            /* tickets queued in the lane */
  uint64_t granted;           /* ... granted from the queue */
  uint64_t timed_out;         /* ... whose deadline passed while they waited */
  slotgate_tick longest_wait; /* how long the lane's oldest waiter has waited */
} slotgate_lane_snapshot;
slotgate_status slotgate_lane_snapshot_of(const slotgate_limiter* l, uint32_t lane,
                                          slotgate_lane_snapshot* out);
slotgate_ticket_state slotgate_ticket_state_of(const slotgate_limiter* l, slotgate_ticket t);
slotgate_status slotgate_claim(slotgate_limiter* l, slotgate_ticket t, slotgate_permit* out);
slotgate_status slotgate_cancel(slotgate_limiter* l, slotgate_ticket t);

slotgate_status slotgate_release(slotgate_limiter* l, slotgate_permit p);
/* The upstream refused the session (a 429): pause (retry_after if has_retry_after, else the
 * default pause) and step the headroom. */
slotgate_status slotgate_release_rejected(slotgate_limiter* l, slotgate_permit p,
                                          bool has_retry_after, slotgate_tick retry_after);

/* The progress function. *has_deadline / *next_deadline (either may be NULL) say when to call
 * it again if nothing else happens. With 32-bit ticks it must run at least that often even
 * with nobody waiting (the deadline is then at most 2^28 ticks away, the heartbeat): a limiter
 * left unpolled for half the tick range comes back with its stored times reading as the
 * future. */
slotgate_status slotgate_poll(slotgate_limiter* l, bool* has_deadline,
                              slotgate_tick* next_deadline);

/* A usage reading pushed by the caller (for ports without read_usage). Wait-free; one writer. */
void slotgate_report_usage(slotgate_limiter* l, uint32_t sessions, slotgate_tick sampled_at);

slotgate_status slotgate_pause_for(slotgate_limiter* l, slotgate_tick duration);
slotgate_status slotgate_pause_until(slotgate_limiter* l, slotgate_tick until);
void slotgate_resume(slotgate_limiter* l);
void slotgate_close(slotgate_limiter* l);

void slotgate_get_snapshot(const slotgate_limiter* l, slotgate_snapshot* out);
const char* slotgate_status_string(slotgate_status s);

#ifdef __cplusplus
}
#endif

#endif /* SLOTGATE_H */
