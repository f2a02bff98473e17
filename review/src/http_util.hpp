// Small request helpers for the review server: strict parsing of ids, times, numbers and cursors,
// cookies, and resolving a stored relative path safely under the storage root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan::review_detail {

enum class IdCheck { kOk, kMalformed, kTraversal };
// Incident ids are [A-Za-z0-9_-]{1,128}. Anything with '.', '/' or '\' reads as a traversal attempt.
IdCheck check_incident_id(const std::string& id);
bool valid_camera_id(const std::string& id);
bool valid_word(const std::string& s);  // kind / label filters: [A-Za-z0-9_ -]{1,64}

// ISO-8601 with a Z or +HH:MM offset, e.g. 2026-11-28T19:30:00+07:00 (seconds and .fff optional).
Result<WallTime> parse_iso_time(const std::string& s);
Result<long long> parse_int(const std::string& s, long long lo, long long hi);

std::int64_t to_ms(WallTime t);
WallTime from_ms(std::int64_t ms);

// "<started_ms>_<id>": opaque to clients, strict here.
std::string encode_cursor(WallTime started, const std::string& id);
bool decode_cursor(const std::string& s, WallTime& started, std::string& id);

std::optional<std::string> cookie_value(const std::string& header, const std::string& name);
bool constant_time_equal(const std::string& a, const std::string& b);

// Request text (a login name, a path, a note) made safe for one log line: control characters and '\' are
// escaped (\n, \r, \t, \\, \xNN), so a value cannot end the line and forge the next one.
std::string log_safe(std::string_view text);

// root/rel when rel is relative, has no "..", and stays inside root after resolving links.
std::optional<std::filesystem::path> resolve_under(const std::filesystem::path& root, const std::string& rel);

}  // namespace matthan::review_detail
