-- wrk script: rotates through a fixed mix of site-wide searches (same mix as benches/search.rs).
local queries = {
  "suc+khoe", "%C4%91%E1%BA%B7t+l%E1%BB%8Bch+kh%C3%A1m+b%E1%BB%87nh", "thanh+toan+hoa+don+dien+nuoc",
  "hoc+truc+tuyen+cho+hoc+sinh", "ve+xe+khach", "ban+do+so", "dinh+danh+xac+thuc",
  "ch%E1%BB%AF+k%C3%BD+s%E1%BB%91+t%E1%BB%AB+xa", "du+lich+thong+minh", "thuong+mai+dien+tu+nong+san",
  "giao+thong", "thu+vien", "bao+hiem+xa+hoi", "tuyen+dung+viec+lam", "quan+ly+dat+dai",
  "phan+anh+kien+nghi", "giam+sat+an+toan+thong+tin", "luu+tru+dam+may", "hop+truc+tuyne", "dao+tao+ky+nang+s",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", "/search?q=" .. queries[(i % #queries) + 1])
end
