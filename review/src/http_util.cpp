// Strict parsing helpers for the review server (every request value is checked before use).
#include "http_util.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdio>
#include <ctime>

namespace matthan::review_detail {

namespace fs = std::filesystem;

IdCheck check_incident_id(const std::string& id) {
  if (id.find_first_of("./\\") != std::string::npos) return IdCheck::kTraversal;
  if (id.empty() || id.size() > 128) return IdCheck::kMalformed;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return IdCheck::kMalformed;
  return IdCheck::kOk;
}

bool valid_camera_id(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

bool valid_word(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == ' ')) return false;
  return true;
}

Result<WallTime> parse_iso_time(const std::string& s) {
  const auto bad = [&] {
    return make_error("expected an ISO-8601 time with an offset, e.g. 2026-11-28T19:30:00+07:00");
  };
  if (s.size() < 17 || s.size() > 40) return bad();
  int Y = 0, M = 0, D = 0, h = 0, m = 0, sec = 0, n = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d%n", &Y, &M, &D, &h, &m, &n) != 5 || n != 16) return bad();
  std::size_t pos = 16;
  int ms = 0;
  if (pos < s.size() && s[pos] == ':') {
    if (pos + 3 > s.size() || !std::isdigit(static_cast<unsigned char>(s[pos + 1])) ||
        !std::isdigit(static_cast<unsigned char>(s[pos + 2])))
      return bad();
    sec = (s[pos + 1] - '0') * 10 + (s[pos + 2] - '0');
    pos += 3;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      int digits = 0;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
        if (digits < 3) ms = ms * 10 + (s[pos] - '0');
        ++digits;
        ++pos;
      }
      if (digits == 0) return bad();
      for (int i = digits; i < 3; ++i) ms *= 10;
    }
  }
  int offset_s = 0;
  if (pos < s.size() && s[pos] == 'Z') {
    ++pos;
  } else if (pos + 6 == s.size() && (s[pos] == '+' || s[pos] == '-') && s[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2 || oh > 14 || om > 59) return bad();
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad();
  }
  if (pos != s.size()) return bad();
  if (Y < 1970 || Y > 2200 ||  // nanosecond time points end in 2262
      M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
    return bad();
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  const long long epoch = static_cast<long long>(timegm(&tm)) - offset_s;
  return from_ms(epoch * 1000 + ms);
}

Result<long long> parse_int(const std::string& s, long long lo, long long hi) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return make_error("must be an integer");
  if (v < lo || v > hi) return make_error("must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  return v;
}

std::int64_t to_ms(WallTime t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

WallTime from_ms(std::int64_t ms) {
  return WallTime(std::chrono::milliseconds(ms));
}

std::string encode_cursor(WallTime started, const std::string& id) {
  return std::to_string(to_ms(started)) + "_" + id;
}

bool decode_cursor(const std::string& s, WallTime& started, std::string& id) {
  const auto us = s.find('_');
  if (us == std::string::npos) return false;
  auto ms = parse_int(s.substr(0, us), 0, 100'000'000'000'000LL);
  if (!ms.ok()) return false;
  id = s.substr(us + 1);
  if (check_incident_id(id) != IdCheck::kOk) return false;
  started = from_ms(ms.value());
  return true;
}

std::optional<std::string> cookie_value(const std::string& header, const std::string& name) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    const auto end = header.find(';', pos);
    std::string part = header.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    const auto first = part.find_first_not_of(' ');
    if (first != std::string::npos) part.erase(0, first);
    const auto eq = part.find('=');
    if (eq != std::string::npos && part.compare(0, eq, name) == 0 && eq == name.size()) return part.substr(eq + 1);
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return std::nullopt;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string log_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char hex[5];
          std::snprintf(hex, sizeof hex, "\\x%02x", c);
          out += hex;
        } else {
          out += ch;
        }
    }
  }
  return out;
}

std::optional<fs::path> resolve_under(const fs::path& root, const std::string& rel) {
  if (rel.empty() || rel.size() > 4096) return std::nullopt;
  const fs::path p(rel);
  if (p.is_absolute() || p.has_root_name() || p.has_root_directory()) return std::nullopt;
  for (const auto& part : p)
    if (part == "..") return std::nullopt;
  std::error_code ec;
  fs::path croot = fs::weakly_canonical(root, ec);
  if (ec) return std::nullopt;
  if (croot.filename().empty()) croot = croot.parent_path();  // a trailing '/' leaves an empty last part
  const fs::path full = fs::weakly_canonical(croot / p, ec);
  if (ec) return std::nullopt;
  // Component-wise prefix check: /var/clips-evil is not under /var/clips.
  auto r = croot.begin();
  auto f = full.begin();
  for (; r != croot.end(); ++r, ++f)
    if (f == full.end() || *r != *f) return std::nullopt;
  if (f == full.end()) return std::nullopt;  // the root itself
  return full;
}

}  // namespace matthan::review_detail
