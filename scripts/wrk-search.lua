-- wrk script: /search?q= under a mix shaped like real search traffic. It makes DISTINCT different
-- queries (default 10000) from the words of the synthetic catalogue and of the real one: runs of
-- one to four words, with and without diacritics, some with a place or an audience, some with the
-- last word cut short as when typing, some with a typo. Each request picks one with Zipf's law
-- (exponent S, default 1): a few queries are asked very often, most rarely, as in search logs.
--
--   wrk -t2 -c32 -d20s -s scripts/wrk-search.lua http://127.0.0.1:8080 -- DISTINCT S [PATH]
--
-- PATH is /search (the default) or /search/suggest; for the suggestions each query is cut short
-- at a random character after the second, as the type-ahead asks while one types.
--
-- The list is the same in every wrk thread (fixed seed); only the picks differ.

local subjects = {
  { "quản lý hồ sơ sức khỏe điện tử", "quan ly ho so suc khoe dien tu" },
  { "đặt lịch khám chữa bệnh", "dat lich kham chua benh" },
  { "tư vấn khám bệnh từ xa", "tu van kham benh tu xa" },
  { "học trực tuyến cho học sinh phổ thông", "hoc truc tuyen cho hoc sinh pho thong" },
  { "đào tạo kỹ năng số", "dao tao ky nang so" },
  { "thanh toán hóa đơn điện nước", "thanh toan hoa don dien nuoc" },
  { "ví điện tử và chuyển tiền", "vi dien tu va chuyen tien" },
  { "đặt vé xe khách liên tỉnh", "dat ve xe khach lien tinh" },
  { "gọi xe và giao hàng", "goi xe va giao hang" },
  { "thương mại điện tử nông sản", "thuong mai dien tu nong san" },
  { "du lịch thông minh", "du lich thong minh" },
  { "tra cứu thông tin thời tiết nông vụ", "tra cuu thong tin thoi tiet nong vu" },
  { "định danh và xác thực điện tử", "dinh danh va xac thuc dien tu" },
  { "chữ ký số từ xa", "chu ky so tu xa" },
  { "hóa đơn điện tử", "hoa don dien tu" },
  { "bản đồ số và địa chỉ số", "ban do so va dia chi so" },
  { "họp trực tuyến", "hop truc tuyen" },
  { "lưu trữ đám mây", "luu tru dam may" },
  { "giám sát an toàn thông tin mạng", "giam sat an toan thong tin mang" },
  { "phản ánh kiến nghị của người dân", "phan anh kien nghi cua nguoi dan" },
  { "quản lý văn bản và điều hành", "quan ly van ban va dieu hanh" },
  { "dữ liệu mở", "du lieu mo" },
  { "tuyển dụng và việc làm", "tuyen dung va viec lam" },
  { "bảo hiểm xã hội điện tử", "bao hiem xa hoi dien tu" },
  { "tin tức và báo chí điện tử", "tin tuc va bao chi dien tu" },
  { "thư viện số", "thu vien so" },
  { "quản lý đất đai", "quan ly dat dai" },
  { "giao thông thông minh", "giao thong thong minh" },
  { "dịch vụ công trực tuyến", "dich vu cong truc tuyen" },
  { "nền tảng số quốc gia", "nen tang so quoc gia" },
}
local extras = {
  "Hà Nội", "ha noi", "Đà Nẵng", "da nang", "Cần Thơ", "can tho", "Huế", "hue", "Nghệ An", "nghe an",
  "Lâm Đồng", "lam dong", "Khánh Hòa", "khanh hoa", "Lào Cai", "lao cai", "Thanh Hóa", "thanh hoa",
  "cho người dân", "cho nguoi dan", "cho doanh nghiệp", "cho doanh nghiep", "cho nông dân", "cho nong dan",
  "cho giáo viên", "cho giao vien", "cho người cao tuổi", "cho nguoi cao tuoi",
}
local names = { "vneid", "ndxp", "mooc", "vssid", "zalo", "tatu", "ehealth", "sổ sức khỏe điện tử", "so suc khoe dien tu" }

local function words(text)
  local out = {}
  for w in text:gmatch("%S+") do out[#out + 1] = w end
  return out
end

local function typo(word)
  -- Two neighbouring letters swapped, in a word of five letters or more (plain ASCII only).
  if #word < 5 or word:find("[\128-\255]") then return word end
  local i = math.random(1, #word - 1)
  return word:sub(1, i - 1) .. word:sub(i + 1, i + 1) .. word:sub(i, i) .. word:sub(i + 2)
end

local function make_query()
  local r = math.random()
  if r < 0.05 then return names[math.random(#names)] end
  local subject = subjects[math.random(#subjects)]
  local form = math.random() < 0.55 and 2 or 1 -- more often typed without diacritics
  local w = words(subject[form])
  local len = math.random(1, math.min(4, #w))
  local start = math.random(1, #w - len + 1)
  local picked = {}
  for i = start, start + len - 1 do picked[#picked + 1] = w[i] end
  if math.random() < 0.25 then picked[#picked + 1] = extras[math.random(#extras)] end
  local last = picked[#picked]
  if form == 2 and math.random() < 0.15 and #last > 3 then
    picked[#picked] = last:sub(1, math.random(2, #last - 1)) -- still typing
  elseif math.random() < 0.08 then
    local i = math.random(#picked)
    picked[i] = typo(picked[i])
  end
  return table.concat(picked, " ")
end

local function encode(text)
  return (text:gsub("[^%w ]", function(c) return string.format("%%%02X", c:byte()) end):gsub(" ", "+"))
end

local paths = {}
local cumulative = {}
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end

-- The query as typed so far: cut after a random character (never inside one), at least two bytes.
local function typed(q)
  local cuts = {}
  for i = 2, #q do
    local after = q:byte(i + 1)
    if after == nil or after < 128 or after >= 192 then cuts[#cuts + 1] = i end
  end
  if #cuts == 0 then return q end
  return q:sub(1, cuts[math.random(#cuts)])
end

function init(args)
  local distinct = tonumber(args[1]) or 10000
  local s = tonumber(args[2]) or 1.0
  local path = args[3] or "/search"
  local suggest = path == "/search/suggest"
  math.randomseed(20261201)
  local seen = {}
  local attempts = 0
  while #paths < distinct and attempts < distinct * 50 do
    attempts = attempts + 1
    local q = make_query()
    if suggest then q = typed(q) end
    if not seen[q] then
      seen[q] = true
      paths[#paths + 1] = path .. "?q=" .. encode(q)
    end
  end
  if wrk.thread:get("id") == 1 then
    io.write(string.format("  %d distinct queries, Zipf exponent %.2f\n", #paths, s))
  end
  local total = 0
  for rank = 1, #paths do
    total = total + 1 / rank ^ s
    cumulative[rank] = total
  end
  for rank = 1, #paths do cumulative[rank] = cumulative[rank] / total end
  math.randomseed(os.time() * 100 + (wrk.thread:get("id") or 0))
end

local function pick()
  local u = math.random()
  local lo, hi = 1, #cumulative
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < u then lo = mid + 1 else hi = mid end
  end
  return lo
end

request = function()
  return wrk.format("GET", paths[pick()])
end
