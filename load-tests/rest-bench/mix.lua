-- wrk script of the REST benchmark: every request carries the bearer token, and each
-- thread cycles through the URL paths of the mix, starting at its own offset.
--
-- Environment:
--   REST_BENCH_TOKEN   bearer token sent in the Authorization header
--   REST_BENCH_PATHS   file with one URL path (and query) per line
--   REST_BENCH_RESULT  file that done() writes the run's figures to, as JSON

local threads = {}
local next_thread_id = 0

function setup(thread)
   thread:set("thread_id", next_thread_id)
   next_thread_id = next_thread_id + 1
   table.insert(threads, thread)
end

local function read_paths(file_name)
   local paths = {}
   local file = assert(io.open(file_name, "r"), "cannot open REST_BENCH_PATHS file " .. tostring(file_name))
   for line in file:lines() do
      if line ~= "" then
         table.insert(paths, line)
      end
   end
   file:close()
   assert(#paths > 0, "REST_BENCH_PATHS file " .. file_name .. " has no paths")
   return paths
end

local paths
local position

function init(args)
   paths = read_paths(os.getenv("REST_BENCH_PATHS"))
   local token = assert(os.getenv("REST_BENCH_TOKEN"), "REST_BENCH_TOKEN is not set")
   wrk.headers["Authorization"] = "Bearer " .. token
   -- Threads start at different points of the mix so they do not send the same path in step.
   position = (thread_id * 7) % #paths
end

function request()
   position = position % #paths + 1
   return wrk.format("GET", paths[position])
end

function done(summary, latency, requests)
   local file = assert(io.open(os.getenv("REST_BENCH_RESULT"), "w"))
   file:write(string.format(
      '{"requests": %d, "duration_us": %d, "bytes": %d, '
         .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
         .. '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d}}\n',
      summary.requests, summary.duration, summary.bytes,
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.status, summary.errors.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max))
   file:close()
end
