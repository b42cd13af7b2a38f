// The fleet's ledger in Redis: one Lua script, run atomically by Redis for every renewal.
//
// Keys (one hash tag per provider key, so a cluster keeps them on one shard):
//   {slotgate:NAME}:leases   sorted set: member id -> lease expiry, ms of Redis TIME
//   {slotgate:NAME}:claims   hash: member id -> slots it may be using (its share, or more while
//                            sessions it started under a larger share are still out)
//   {slotgate:NAME}:wants    hash: member id -> slots it asks for (its demand)
//   {slotgate:NAME}:meta     hash: epoch (when this ledger began, Redis TIME), repairs; foreign
//                            and foreign_at (other clients' sessions held back, and when a
//                            reading last showed that many)
//   {slotgate:NAME}:uses     hash: member id -> its permits out at its last renewal
//
// ARGV: member id, want, in use (held + cooling), ttl ms, cap, floor, leave (1: drop the lease,
// allowed only with nothing in use), the member's latest usage reading (the upstream's whole
// count; -1: none), that reading's age in ms, hold ms (see 4 below), its permits out now.
//
// What one run does, all in Redis time (no member's clock is ever compared with another's):
//   1. A ledger without an epoch is new, or Redis lost its data: it *settles* for one TTL,
//      granting nobody more than they report in use (or the floor). A member that lost its
//      lease may still have sessions out, and renews within a TTL if it is alive.
//   2. Expired leases go, with their claims and wants.
//   3. Repairs, each counted in meta.repairs: a claim, want or use without a lease is dropped;
//      a live lease whose claim is missing or not a whole number in 0..cap is set to the cap
//      (the safe side: nobody grows past it until its member renews and says what it uses).
//   4. Other clients on the key: a reading no older than `hold` shows the upstream's whole
//      count; what it shows beyond the members' permits out (this member's now, the others'
//      at their last renewals; a member that reported none counts 0) is foreign usage. An
//      estimate: a session a member ended just before the reading, which the upstream still
//      counted, shows as foreign; and the others' counts are not from the reading's instant, so
//      it can be off either way. The ledger holds back the most a reading showed: it rises at
//      once, and falls to what readings show once `hold` has passed since one last showed as
//      many; with no reading from any member it steps down by one per `hold`.
//   5. Targets: the cap less foreign usage split max-min fairly over the live members' wants
//      (water-filling), each member reserved at least the floor; leftover units go in
//      member-id order.
//   6. This member's limit is its target, but no more than the cap less foreign usage and
//      what the others claim (a claim is never revoked: a member shrinks by itself as its
//      slots free); its recorded claim is the larger of that limit and what it has in use.
//
// Returns {limit, claim, peers, repairs, settling (0/1), others' claims, target, foreign}: a
// limit below the target means others still hold what is this member's by the split.
#pragma once

namespace slotgate::fleet {

inline constexpr const char* kLedgerScript = R"LUA(
local leases, claims, wants, meta, uses = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local id = ARGV[1]
local want, in_use = tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl, cap, floor = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local leave = ARGV[7] == '1'
local reading, age, hold = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local held = math.max(0, tonumber(ARGV[11]) or 0)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local epoch = tonumber(redis.call('HGET', meta, 'epoch'))
if epoch == nil then
  epoch = now
  redis.call('HSET', meta, 'epoch', now)
end
local settling = now - epoch < ttl
local repairs = 0

local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now)
for _, m in ipairs(expired) do
  redis.call('HDEL', claims, m)
  redis.call('HDEL', wants, m)
  redis.call('HDEL', uses, m)
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', leases, '-inf', now) end

local function whole(v)
  local n = tonumber(v)
  if n == nil or n < 0 or n > cap or n ~= math.floor(n) then return nil end
  return n
end

-- Claims, wants and uses of members without a lease.
for _, h in ipairs({claims, wants, uses}) do
  local fields = redis.call('HKEYS', h)
  for _, m in ipairs(fields) do
    if m ~= id and not redis.call('ZSCORE', leases, m) then
      redis.call('HDEL', h, m)
      repairs = repairs + 1
    end
  end
end

if leave then
  if in_use == 0 then
    redis.call('ZREM', leases, id)
    redis.call('HDEL', claims, id)
    redis.call('HDEL', wants, id)
    redis.call('HDEL', uses, id)
    if repairs > 0 then redis.call('HINCRBY', meta, 'repairs', repairs) end
    return {0, 0, 0, tonumber(redis.call('HGET', meta, 'repairs') or 0), settling and 1 or 0, 0, 0,
            tonumber(redis.call('HGET', meta, 'foreign') or 0)}
  end
  want = in_use
end

-- The live members: their claims (repaired) and wants.
local members = redis.call('ZRANGE', leases, 0, -1)
local claim_of, want_of, ids = {}, {}, {}
for _, m in ipairs(members) do
  if m ~= id then
    local c = whole(redis.call('HGET', claims, m))
    if c == nil then
      c = cap
      redis.call('HSET', claims, m, cap)
      repairs = repairs + 1
    end
    local w = whole(redis.call('HGET', wants, m))
    if w == nil then w = c end
    claim_of[m], want_of[m] = c, w
    ids[#ids + 1] = m
  end
end
ids[#ids + 1] = id
want_of[id] = math.max(0, math.min(cap, want))
table.sort(ids)

-- Other clients' sessions: what a fresh reading shows beyond the members' own.
local foreign = whole(redis.call('HGET', meta, 'foreign')) or 0
local foreign_at = tonumber(redis.call('HGET', meta, 'foreign_at')) or now
if reading ~= nil and reading >= 0 and age ~= nil and age >= 0 and age <= hold then
  local members_use = held
  for _, m in ipairs(ids) do
    if m ~= id then members_use = members_use + (whole(redis.call('HGET', uses, m)) or 0) end
  end
  local seen = math.max(0, math.min(cap, math.floor(reading) - members_use))
  if seen >= foreign or now - foreign_at >= hold then
    foreign, foreign_at = seen, now
  end
elseif foreign > 0 and now - foreign_at >= hold then
  foreign, foreign_at = foreign - 1, now
end
redis.call('HSET', meta, 'foreign', foreign, 'foreign_at', foreign_at)

-- Water-filling: every member reserved the floor, then the rest (less foreign usage) split by
-- wants, max-min fair.
local target, left, open = {}, cap - foreign, {}
for _, m in ipairs(ids) do
  target[m] = math.min(floor, cap)
  left = left - target[m]
  if want_of[m] > target[m] then open[#open + 1] = m end
end
while left > 0 and #open > 0 do
  local each = math.floor(left / #open)
  local still = {}
  if each == 0 then
    for _, m in ipairs(open) do
      if left == 0 then break end
      target[m] = target[m] + 1
      left = left - 1
    end
    break
  end
  for _, m in ipairs(open) do
    local give = math.min(each, want_of[m] - target[m])
    target[m] = target[m] + give
    left = left - give
    if want_of[m] > target[m] then still[#still + 1] = m end
  end
  open = still
end

local others = 0
for m, c in pairs(claim_of) do others = others + math.max(c, floor) end
local room = math.max(0, cap - foreign - others)
local limit = math.min(target[id], room)
if settling then limit = math.min(limit, math.max(in_use, floor)) end
local claim = math.max(limit, in_use)

redis.call('ZADD', leases, now + ttl, id)
redis.call('HSET', claims, id, claim)
redis.call('HSET', wants, id, want_of[id])
redis.call('HSET', uses, id, held)
if repairs > 0 then redis.call('HINCRBY', meta, 'repairs', repairs) end
return {limit, claim, #ids - 1, tonumber(redis.call('HGET', meta, 'repairs') or 0),
        settling and 1 or 0, others, target[id], foreign}
)LUA";

}  // namespace slotgate::fleet
