-- wrk script: POST /api/v1/submissions/birth (JSON) with the API key of a medical organisation.
--
-- POPREG_BENCH_MODE selects what is sent:
--   valid      births that the register accepts: a living mother from the list, a birth date among
--              POPREG_BENCH_DATES (the last few days), a random Armenian first name and surname, so that the
--              duplicate check (same mother, same date, near-identical name -> 202 held) rarely triggers;
--   reject     well-formed births that the decision refuses inside the store's transaction: the child is
--              born (1975-06-15) before the mother (born 1980 or later) -> 422, written to the rejection log
--              and the outbox in the same durable transaction as an acceptance would be;
--   malformed  bodies refused before the decision (syntax, missing fields, bad values, bad PSN check
--              digit) -> 400/422, also written to the rejection log and the outbox.
-- POPREG_BENCH_KEY is the API key, POPREG_BENCH_MOTHERS a file of mothers' PSNs, one a line.
-- done() prints requests/s, latency percentiles and the count of every HTTP status over all threads.

local key = os.getenv("POPREG_BENCH_KEY") or ""
local mode = os.getenv("POPREG_BENCH_MODE") or "valid"
local file = os.getenv("POPREG_BENCH_MOTHERS") or "mothers.txt"
local dates = {}
for d in string.gmatch(os.getenv("POPREG_BENCH_DATES") or "", "[^,]+") do dates[#dates + 1] = d end

local boys = { "Արամ", "Դավիթ", "Տիգրան", "Արմեն", "Նարեկ", "Հայկ", "Գոռ", "Արթուր", "Էրիկ", "Մհեր",
  "Սամվել", "Վահե", "Գագիկ", "Ռուբեն", "Սարգիս", "Հովհաննես", "Գրիգոր", "Լևոն", "Արսեն", "Կարեն",
  "Աշոտ", "Վարդան", "Ռաֆայել", "Միքայել", "Էդգար", "Արման", "Սուրեն", "Հրանտ", "Վազգեն", "Մովսես" }
local girls = { "Անի", "Մարիամ", "Նարե", "Լիլիթ", "Անահիտ", "Սոնա", "Արփի", "Գայանե", "Հասմիկ", "Նունե",
  "Տաթևիկ", "Մանե", "Էլեն", "Սյուզաննա", "Լուսինե", "Աստղիկ", "Զարուհի", "Քնարիկ", "Շողիկ", "Ռուզաննա",
  "Մելինե", "Արմինե", "Գոհար", "Սիրանուշ", "Վարսենիկ", "Նաիրա", "Լիանա", "Հռիփսիմե", "Շուշան", "Ալինա" }
local surnames = { "Պետրոսյան", "Հովհաննիսյան", "Սարգսյան", "Գրիգորյան", "Հարությունյան", "Խաչատրյան",
  "Կարապետյան", "Մկրտչյան", "Վարդանյան", "Ավետիսյան", "Գևորգյան", "Մարտիրոսյան", "Աբրահամյան",
  "Ղազարյան", "Մանուկյան", "Պողոսյան", "Առաքելյան", "Դավթյան", "Ասատրյան", "Ղուկասյան", "Բաղդասարյան",
  "Մելքոնյան", "Համբարձումյան", "Ստեփանյան", "Եղիազարյան", "Զաքարյան", "Թորոսյան", "Մինասյան",
  "Ներսիսյան", "Սիմոնյան" }
local place = '{"country":"AM","marz":"AM-ER"}'

local mothers = {}
counts = {} -- global: done() reads it from every thread with thread:get
local threads = {}
local path = "/api/v1/submissions/birth"
local headers = { ["X-API-Key"] = key, ["Content-Type"] = "application/json" }

function setup(thread)
  thread:set("id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  for line in io.lines(file) do
    if line ~= "" then mothers[#mothers + 1] = line end
  end
  math.randomseed(os.time() * 1000 + (id or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function pick(t) return t[math.random(#t)] end

local function birth(first, surname, sex, date, mother)
  return '{"first_name":"' .. first .. '","surname":"' .. surname .. '","sex":"' .. sex ..
      '","birth_date":"' .. date .. '","birth_place":' .. place .. ',"mother":{"psn":"' .. mother .. '"}}'
end

local function valid()
  local sex = math.random(2) == 1 and "F" or "M"
  local first = pick(sex == "F" and girls or boys)
  return birth(first, pick(surnames), sex, pick(dates), pick(mothers))
end

-- The decision refuses it: the child would be born before the mother (PSR period order).
local function rejected()
  return birth(pick(boys), pick(surnames), "M", "1975-06-15", pick(mothers))
end

-- Refused before the decision: the structure check of the data-element registry, or the JSON reader.
local malformed_kinds = {
  function() -- not JSON at all (truncated document)
    return '{"first_name":"' .. pick(boys) .. '","surname":"' .. pick(surnames) .. '","sex":"M",'
  end,
  function() -- surname missing, sex not F/M
    return '{"first_name":"' .. pick(girls) .. '","sex":"X","birth_date":"' .. pick(dates) ..
        '","birth_place":' .. place .. ',"mother":{"psn":"' .. pick(mothers) .. '"}}'
  end,
  function() -- not a calendar date, Latin first name
    return birth("Aram", pick(surnames), "M", "2026-02-30", pick(mothers))
  end,
  function() -- a mother's PSN with a wrong check digit
    local m = pick(mothers)
    local last = (tonumber(string.sub(m, 10, 10)) + 1) % 10
    return birth(pick(boys), pick(surnames), "M", pick(dates), string.sub(m, 1, 9) .. last)
  end,
}

function request()
  local body
  if mode == "reject" then
    body = rejected()
  elseif mode == "malformed" then
    body = malformed_kinds[math.random(#malformed_kinds)]()
  else
    body = valid()
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("mode: %s\n", mode))
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({ 50, 90, 99, 99.9 }) do
    io.write(string.format("p%s: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("max: %.2f ms\n", latency.max / 1000))
  local total = {}
  for _, t in ipairs(threads) do
    for s, n in pairs(t:get("counts")) do total[s] = (total[s] or 0) + n end
  end
  local codes = {}
  for s, _ in pairs(total) do codes[#codes + 1] = s end
  table.sort(codes)
  local parts = {}
  for _, s in ipairs(codes) do parts[#parts + 1] = string.format("%d=%d", s, total[s]) end
  io.write("statuses: " .. table.concat(parts, " ") .. "\n")
  io.write(string.format("errors: connect %d, read %d, write %d, status %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status, summary.errors.timeout))
end
