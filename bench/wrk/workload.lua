-- One wrk script for the four requests of bench/README.md.
-- Usage: wrk ... -s workload.lua URL -- MODE TOKEN IDS_FILE
--   MODE: list | get | create | update; TOKEN: the bearer token;
--   IDS_FILE: one record id per line (rows this user can see), for get and update;
--   for update each line is "id priority" (the row's stored priority, bench/runner/load.py).
-- done() prints one line "WRK_JSON {...}" with requests, duration and latency (us).

local mode, ids, next_id, counter, with_amount = "list", {}, 1, 0, false
local priorities = {}  -- update: id -> the priority last written (from IDS_FILE at start)
local list_path = "/api/v1/data/app_task?status=open&sort=-priority&top=50"
local base = "/api/v1/data/app_task"
local statuses = { "open", "in_progress", "done" }

function init(args)
  mode = args[1]
  wrk.headers["Authorization"] = "Bearer " .. args[2]
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  if args[3] then
    for line in io.lines(args[3]) do
      local id, priority = line:match("^(%S+)%s*(%d*)$")
      if id then
        ids[#ids + 1] = id
        if priority ~= "" then priorities[id] = tonumber(priority) end
      end
    end
  end
  with_amount = args[4] == "amount"
end

local function next_record()
  local id = ids[next_id]
  next_id = next_id % #ids + 1
  return id
end

function request()
  counter = counter + 1
  if mode == "list" then
    return wrk.format("GET", list_path)
  elseif mode == "get" then
    return wrk.format("GET", base .. "/" .. next_record())
  elseif mode == "update" then
    -- a priority the row does not hold: every PATCH changes the row
    local id = next_record()
    local priority = (priorities[id] or counter) % 5 + 1
    priorities[id] = priority
    return wrk.format("PATCH", base .. "/" .. id, nil, string.format('{"priority": %d}', priority))
  end
  local body = string.format(
    '{"title": "wrk task %d", "status": "%s", "priority": %d, "due_date": "2025-%02d-%02d"%s}',
    counter, statuses[counter % 3 + 1], counter % 5 + 1, counter % 12 + 1, counter % 28 + 1,
    with_amount and string.format(', "amount": %d.%02d', counter % 5000, counter % 100) or "")
  return wrk.format("POST", base, nil, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
