-- wrk script: GET /api/v1/persons/{psn} for PSNs drawn at random from psns.txt, with the API key.
local psns = {}
local key = os.getenv("POPREG_BENCH_KEY") or ""
local file = os.getenv("POPREG_BENCH_PSNS") or "psns.txt"

function init(args)
  for line in io.lines(file) do psns[#psns + 1] = line end
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  local p = psns[math.random(#psns)]
  return wrk.format("GET", "/api/v1/persons/" .. p, { ["X-API-Key"] = key })
end

function done(summary, latency, requests)
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
