-- The hand-written comparison arm of benches/envoy/load.sh: B3 (single `b3` or multi `X-B3-*`) to a
-- W3C `traceparent`, the way an operator would do it in envoy.filters.http.lua. Checks what a careful
-- script would (hex, lengths, all-zero ids, sampling), and leaves an existing traceparent alone.
-- Much less than tracebridge does (no tracestate, no other formats, no conflicts), which favours Lua.

local ZERO16 = string.rep("0", 16)

local function hex(s, n)
  return s ~= nil and #s == n and s:find("^[0-9a-f]+$") ~= nil
end

local function flags_of(sampled, debug)
  if debug == "1" or sampled == "1" or sampled == "d" or sampled == "true" then return "01" end
  return "00"
end

function envoy_on_request(handle)
  local h = handle:headers()
  if h:get("traceparent") ~= nil then return end
  local trace, span, flags
  local single = h:get("b3")
  if single ~= nil then
    local t, s, rest = single:match("^(%x+)%-(%x+)(.*)$")
    if t == nil then return end
    trace, span = t, s
    flags = flags_of(rest:match("^%-([01d])"), nil)
  else
    trace, span = h:get("x-b3-traceid"), h:get("x-b3-spanid")
    if trace == nil or span == nil then return end
    flags = flags_of(h:get("x-b3-sampled"), h:get("x-b3-flags"))
  end
  if hex(trace, 16) then trace = ZERO16 .. trace end
  if not hex(trace, 32) or not hex(span, 16) then return end
  if trace == ZERO16 .. ZERO16 or span == ZERO16 then return end
  h:replace("traceparent", "00-" .. trace .. "-" .. span .. "-" .. flags)
end
