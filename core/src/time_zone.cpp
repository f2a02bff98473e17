// TimeZone: a minimal TZif (RFC 8536) reader for UTC offsets, plus a fixed-offset fallback table.
#include "matthan/core/time_zone.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iterator>
#include <regex>

namespace matthan {
namespace {

struct FixedZone {
  const char* name;
  int minutes;
};

// Zones without daylight saving, usable when tzdata is missing. Vietnam and its neighbours first.
constexpr FixedZone kFixed[] = {
    {"UTC", 0},
    {"Etc/UTC", 0},
    {"Etc/GMT", 0},
    {"GMT", 0},
    {"Asia/Ho_Chi_Minh", 420},
    {"Asia/Saigon", 420},
    {"Asia/Bangkok", 420},
    {"Asia/Phnom_Penh", 420},
    {"Asia/Vientiane", 420},
    {"Asia/Jakarta", 420},
    {"Asia/Singapore", 480},
    {"Asia/Kuala_Lumpur", 480},
    {"Asia/Manila", 480},
    {"Asia/Shanghai", 480},
    {"Asia/Hong_Kong", 480},
    {"Asia/Tokyo", 540},
    {"Asia/Seoul", 540},
    {"Asia/Kolkata", 330},
};

std::int64_t be(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

struct Header {
  std::int64_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

bool read_header(const std::string& d, std::size_t at, Header& h, char& version) {
  if (d.size() < at + 44 || d.compare(at, 4, "TZif") != 0) return false;
  version = d[at + 4];
  const auto* p = reinterpret_cast<const unsigned char*>(d.data() + at + 20);
  h = Header{be(p, 4), be(p + 4, 4), be(p + 8, 4), be(p + 12, 4), be(p + 16, 4), be(p + 20, 4)};
  return h.isutcnt >= 0 && h.isstdcnt >= 0 && h.leapcnt >= 0 && h.timecnt >= 0 && h.typecnt > 0 && h.charcnt >= 0 &&
         h.timecnt < 100000 && h.typecnt < 256;
}

std::size_t block_size(const Header& h, int time_bytes) {
  return static_cast<std::size_t>(h.timecnt * time_bytes + h.timecnt + h.typecnt * 6 + h.charcnt +
                                  h.leapcnt * (time_bytes + 4) + h.isstdcnt + h.isutcnt);
}

}  // namespace

TimeZone TimeZone::fixed(std::string name, int utc_offset_minutes) {
  TimeZone z;
  z.name_ = std::move(name);
  z.initial_offset_s_ = utc_offset_minutes * 60;
  return z;
}

Result<TimeZone> TimeZone::load(const std::string& name, const std::filesystem::path& dir) {
  static const std::regex kName("[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,3}");
  if (!std::regex_match(name, kName) || name.find("..") != std::string::npos)
    return make_error(fmt::format("'{}' is not a time zone name such as Asia/Ho_Chi_Minh", name));

  std::ifstream in(dir / name, std::ios::binary);
  if (!in) {
    for (const auto& f : kFixed)
      if (name == f.name) return fixed(name, f.minutes);
    return make_error(
        fmt::format("unknown time zone '{}' (not in {}, nor a built-in fixed-offset zone)", name, dir.string()));
  }
  const std::string d((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Header h{};
  char version = 0;
  if (!read_header(d, 0, h, version)) return make_error(fmt::format("{} is not a TZif file", (dir / name).string()));
  std::size_t at = 44;
  int time_bytes = 4;
  if (version >= '2') {  // skip the 32-bit block; the 64-bit one follows with its own header
    at += block_size(h, 4);
    if (!read_header(d, at, h, version))
      return make_error(fmt::format("{}: bad TZif v2 header", (dir / name).string()));
    at += 44;
    time_bytes = 8;
  }
  if (d.size() < at + block_size(h, time_bytes)) return make_error(fmt::format("{}: truncated", (dir / name).string()));
  const auto* p = reinterpret_cast<const unsigned char*>(d.data() + at);
  const unsigned char* idx = p + h.timecnt * time_bytes;
  const unsigned char* types = idx + h.timecnt;

  TimeZone z;
  z.name_ = name;
  auto type_offset = [&](std::int64_t i) { return static_cast<int>(be(types + 6 * i, 4)); };
  z.initial_offset_s_ = type_offset(0);
  for (std::int64_t i = 0; i < h.timecnt; ++i) {
    const std::int64_t type = idx[i];
    if (type >= h.typecnt) return make_error(fmt::format("{}: bad transition type", (dir / name).string()));
    z.transitions_.push_back(be(p + i * time_bytes, time_bytes));
    z.offsets_.push_back(type_offset(type));
  }
  if (!std::is_sorted(z.transitions_.begin(), z.transitions_.end()))
    return make_error(fmt::format("{}: transitions out of order", (dir / name).string()));
  return z;
}

int TimeZone::offset_minutes(WallTime t) const {
  const std::int64_t s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  const auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  if (it == transitions_.begin()) return initial_offset_s_ / 60;
  return offsets_[static_cast<std::size_t>(it - transitions_.begin() - 1)] / 60;
}

int TimeZone::minute_of_day(WallTime t) const {
  const auto minutes = std::chrono::floor<std::chrono::minutes>(t.time_since_epoch()).count() + offset_minutes(t);
  return static_cast<int>(((minutes % 1440) + 1440) % 1440);
}

}  // namespace matthan
