// URL parsing and credential redaction.
#include "matthan/core/url.hpp"

#include <cctype>
#include <charconv>

namespace matthan {
namespace {

bool valid_scheme(const std::string& s) {
  return s == "rtsp" || s == "rtsps" || s == "http" || s == "https" || s == "file" || s == "test";
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

// Whether `s` holds, from `pos`, a host (a name, an IPv4 address or a bracketed IPv6 literal), an optional
// ":port", and then a path.
bool host_then_path(std::string_view s, std::size_t pos) {
  if (pos < s.size() && s[pos] == '[') {
    const auto close = s.find(']', pos);
    if (close == std::string_view::npos) return false;
    pos = close + 1;
  } else {
    while (pos < s.size() && is_host_char(s[pos])) ++pos;
  }
  if (pos < s.size() && s[pos] == ':') {
    const auto digits = ++pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
    if (pos == digits) return false;
  }
  return pos < s.size() && s[pos] == '/';
}

}  // namespace

std::size_t find_userinfo_end(std::string_view rest) {
  constexpr auto npos = std::string_view::npos;
  const auto slash = rest.find('/');
  const auto colon = rest.find(':');
  // No ':' before the first '/': a user name alone, which holds no '/', so the authority ends there (RFC 3986).
  if (colon == npos || (slash != npos && colon > slash)) return rest.rfind('@', slash);
  std::size_t last = npos, last_before_path = npos;
  for (auto at = rest.find('@'); at != npos; at = rest.find('@', at + 1)) {
    last = at;
    if (host_then_path(rest, at + 1)) last_before_path = at;
  }
  return last_before_path != npos ? last_before_path : last;
}

std::optional<ParsedUrl> parse_url(const std::string& url, std::string* why) {
  auto fail = [&](const char* reason) -> std::optional<ParsedUrl> {
    if (why) *why = reason;
    return std::nullopt;
  };
  for (char c : url) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)))
      return fail("contains whitespace or control characters");
  }
  const auto colon = url.find(':');
  if (colon == std::string::npos || colon == 0) return fail("has no scheme (expected e.g. rtsp://host/path)");
  ParsedUrl out;
  for (std::size_t i = 0; i < colon; ++i)
    out.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(url[i])));
  if (!valid_scheme(out.scheme)) return fail("has an unsupported scheme (use rtsp, rtsps, http, https, file or test)");
  if (out.scheme == "test") {
    out.path = url.substr(colon + 1);
    if (out.path.empty()) return fail("names no test pattern (e.g. test:ball)");
    return out;
  }
  if (url.compare(colon, 3, "://") != 0) return fail("must have '//' after the scheme");
  std::string rest = url.substr(colon + 3);
  if (out.scheme != "file") {
    if (const auto at = find_userinfo_end(rest); at != std::string::npos) {
      out.userinfo = rest.substr(0, at);
      rest.erase(0, at + 1);
    }
  }
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  if (out.scheme == "file") {
    if (!authority.empty()) return fail("file URLs must look like file:///absolute/path");
    return out;
  }
  if (authority.empty()) return fail("has no host");
  std::string host = authority;
  std::string port;
  if (authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return fail("has an unterminated IPv6 address");
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return fail("has junk after the IPv6 address");
      port = authority.substr(close + 2);
    }
  } else if (const auto pc = authority.rfind(':'); pc != std::string::npos) {
    host = authority.substr(0, pc);
    port = authority.substr(pc + 1);
  }
  if (host.empty()) return fail("has no host");
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' || c == '[' || c == ']' ||
          c == ':'))
      return fail("has an invalid character in the host name");
  }
  out.host = host;
  if (!port.empty()) {
    int p = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535)
      return fail("has an invalid port (must be 1..65535)");
    out.port = p;
  }
  return out;
}

bool is_rtsp_url(const ParsedUrl& url) {
  return url.scheme == "rtsp" || url.scheme == "rtsps";
}
bool is_http_url(const ParsedUrl& url) {
  return url.scheme == "http" || url.scheme == "https";
}

int port_or_default(const ParsedUrl& url) {
  if (url.port != 0) return url.port;
  if (url.scheme == "rtsp") return 554;
  if (url.scheme == "rtsps") return 322;
  if (url.scheme == "http") return 80;
  if (url.scheme == "https") return 443;
  return 0;
}

std::string bare_host(const ParsedUrl& url) {
  const std::string& h = url.host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') return h.substr(1, h.size() - 2);
  return h;
}

UrlCredentials credentials_of(const ParsedUrl& url) {
  const auto colon = url.userinfo.find(':');
  if (colon == std::string::npos) return {url.userinfo, {}};
  return {url.userinfo.substr(0, colon), url.userinfo.substr(colon + 1)};
}

namespace {

// Where the userinfo of scheme://userinfo@host/... sits: [start, at), or nothing.
struct Userinfo {
  std::size_t start = 0, at = std::string::npos;
};
Userinfo find_userinfo(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {};
  const auto start = scheme_end + 3;
  const auto at = find_userinfo_end(std::string_view(url).substr(start));
  if (at == std::string::npos) return {};
  return {start, start + at};
}

}  // namespace

std::string redact_url(const std::string& url) {
  const Userinfo u = find_userinfo(url);
  if (u.at == std::string::npos) return url;
  return url.substr(0, u.start) + "***" + url.substr(u.at);
}

std::string strip_userinfo(const std::string& url) {
  const Userinfo u = find_userinfo(url);
  if (u.at == std::string::npos) return url;
  return url.substr(0, u.start) + url.substr(u.at + 1);
}

std::string mask_password(const std::string& url) {
  const Userinfo u = find_userinfo(url);
  if (u.at == std::string::npos) return url;
  const auto colon = url.find(':', u.start);
  if (colon == std::string::npos || colon > u.at) return url;  // a user name alone is not a secret
  return url.substr(0, colon + 1) + "***" + url.substr(u.at);
}

}  // namespace matthan
