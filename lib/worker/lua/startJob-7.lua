--[[
  One delivery's start — idempotency claim, eligibility and an exact sliding-log rate reservation, atomically.

  Takes 7 fixed keys, then one rate-limit log per limit (variadic: the header's `KEYS[8..]`).
  Rate limits are sliding logs: a zset of send instants per limit. The job gets the earliest instant at or after
  the script's time (plus the caller's lead) that every log allows (reserveSlot: no window of `window + guard` then
  holds more than `limit` entries, and none lies within `(window + guard) / limit` of it), and is written to all of
  them at that instant, so no window of that length ever holds more than `limit` sends, and a burst is paced at the
  limit's rate. The claim's lease covers the wait. When that instant is further than the caller's wait budget, the job is refused and nothing is consumed
  from any limit; it gets the next free deferral slot of the limit that pushed it out: slots are
  `(window + guard) / limit` apart, so a burst of deferred jobs comes back at the rate the limit allows.

  Input:
    KEYS[1]  job hash
    KEYS[2]  user hash (enabled: 1 | 0)
    KEYS[3]  user's tasks hash (taskId -> params JSON)
    KEYS[4]  paused task types set
    KEYS[5]  metrics hash
    KEYS[6]  deferral horizons hash (limit name -> next free deferral slot, epoch ms)
    KEYS[7]  period stats hash of (task, period): outcomes and start-time buckets (lib/metrics)
    KEYS[8..] rate-limit logs (zset member job#attempt, or job#r<replays>.attempt -> send instant), one per limit triple in ARGV

    ARGV[1]  now (epoch ms): job times; also the floor of the script's time (see below)
    ARGV[2]  job id
    ARGV[3]  task id
    ARGV[4]  user id
    ARGV[5]  period key
    ARGV[6]  planned notBefore (epoch ms)
    ARGV[7]  origin
    ARGV[8]  lease (ms): how long a claim stays exclusive once its wait is over
    ARGV[9]  skip reason from the catalog ('' = none)
    ARGV[10] job hash retention (ms)
    ARGV[11] rate-limit guard (ms) added to every window
    ARGV[12] Upstash-Retried of this delivery
    ARGV[13] start-time bucket width (ms) of the period stats; 0 = keep no period stats (manual runs)
    ARGV[14] period stats retention (ms)
    ARGV[15] wait budget (ms): the longest wait for a reservation the caller accepts; later is refused
    ARGV[16] lead (ms): reserve no earlier than this after the script's time (the reply's way back); <= budget
    ARGV[17..] name, limit, window ms: one triple per KEYS[8..]

  Metrics (no extra round trip): counters <task>:duplicate|busy|skipped|deferred|started and
  limit:<name>:denied; on a job's first start ever (field firstStartedAt) the lateness histogram
  <task>:lat:<le>|sum, lateness being its reserved send instant minus the job's first planned notBefore.

  Output: JSON
    {r='duplicate', state}           succeeded, dead or skipped already: nothing done
    {r='busy', leaseUntil}           another delivery holds an unexpired claim: nothing done
    {r='skipped', reason}            recorded as skipped (no such user or task, paused, disabled)
    {r='denied', retryAt, limit, deferrals, replays}  no instant within the budget; nothing claimed or consumed;
                                     retryAt = this job's deferral slot
    {r='claimed', attempt, params, admittedAt, waitMs, serverAt}  claimed: state running, attempts + 1, every
                                     limit holds the send instant admittedAt (text, exact); waitMs = admittedAt
                                     minus the script's time, so a caller's clock skew does not move the send;
                                     serverAt = the server clock (ms) the script read, for the caller to place
                                     serverAt + waitMs on its own clock
]]
--- @include "startOne"
local logKeys = {}
for i = 8, #KEYS do logKeys[#logKeys + 1] = KEYS[i] end
local s = startPolicy({ paused = KEYS[4], metrics = KEYS[5], horizons = KEYS[6], stats = KEYS[7],
  now = tonumber(ARGV[1]), nowText = ARGV[1], taskId = ARGV[3], periodKey = ARGV[5], origin = ARGV[7] }, ARGV, 8)
s.logs = startLogs(logKeys, ARGV, 17, s.guard)
return cjson.encode(startOne(s, { job = KEYS[1], user = KEYS[2], tasks = KEYS[3], jobId = ARGV[2], userId = ARGV[4],
  notBefore = ARGV[6] }))
