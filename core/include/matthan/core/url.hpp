// URL helpers: the one place that hides credentials before a URL is printed, logged or published.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace matthan {

struct ParsedUrl {
  std::string scheme;    // "rtsp", "rtsps", "http", "file", "test"
  std::string userinfo;  // "user:pass" or empty
  std::string host;
  int port = 0;      // 0 when absent
  std::string path;  // including query, starting with '/' (or the pattern name for test:)
};

// The user name and password of a URL's userinfo ("user:pass", "user", or empty), for a client that takes them
// apart from the location (souphttpsrc's user-id / user-pw).
struct UrlCredentials {
  std::string user;
  std::string password;
};
UrlCredentials credentials_of(const ParsedUrl& url);

// The kinds of camera URL, in one place for the pipeline, the probe and the config check.
// rtsp:// or rtsps://: the one kind with a transport (TCP/UDP) to choose.
bool is_rtsp_url(const ParsedUrl& url);
// http:// or https://: an MJPEG camera (multipart/x-mixed-replace).
bool is_http_url(const ParsedUrl& url);
// The URL's port, or its scheme's well-known one (rtsp 554, rtsps 322, http 80, https 443); 0 for a scheme with
// no network port (file, test).
int port_or_default(const ParsedUrl& url);
// The host without the brackets of an IPv6 literal ("[::1]" -> "::1"), for a socket call.
std::string bare_host(const ParsedUrl& url);

// Where the userinfo of a URL ends. `rest` is the text after "scheme://" up to the URL's end; the answer is the
// position in it of the '@' that ends "user:password", or std::string_view::npos when there is none.
// Cameras' passwords hold '/', '@', ':' and '#', and users paste them unescaped, so when a ':' comes before the
// first '/' (a user:password, or a host:port) the userinfo runs to the LAST '@' that a host and a path follow
// ("admin:p@ss/w:rd#1@10.0.0.5:554/stream1"), or else, with no path at all, to the last '@'
// ("admin:1234/5678@host"). A user name holds no '/', so with no ':' before the first '/' the userinfo can only
// sit before it (an '@' in "10.0.0.1/cam@night" is the path's). parse_url, the redaction below and
// ingest's redact_credentials all read a URL through this one rule.
std::size_t find_userinfo_end(std::string_view rest);

// Parses the URL forms Matthan accepts; nullopt with a reason in `why` when malformed.
std::optional<ParsedUrl> parse_url(const std::string& url, std::string* why = nullptr);

// Replaces any user:password part with "***": rtsp://user:pass@host/x -> rtsp://***@host/x.
std::string redact_url(const std::string& url);
// Hides only the password, keeping the user name (for a config an operator completes):
// rtsp://user:pass@host/x -> rtsp://user:***@host/x; a URL with no password is returned as it is.
std::string mask_password(const std::string& url);
// The URL without its user:password part, for a client that takes the credentials separately:
// http://user:pass@host:8080/x -> http://host:8080/x; a URL with no userinfo is returned as it is.
std::string strip_userinfo(const std::string& url);

}  // namespace matthan
