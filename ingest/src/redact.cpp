// Credential scrubbing for free text that may quote a camera URL.
#include "matthan/ingest/redact.hpp"

#include "matthan/core/url.hpp"

namespace matthan {
namespace {

void replace_all(std::string& text, std::string_view what, std::string_view with) {
  if (what.empty()) return;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + with.size()))
    text.replace(pos, what.size(), with);
}

bool ends_url(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'';
}

// Every "://user:pass@" becomes "://***@", its userinfo found by the URL parser's own rule (a password may hold
// '/' and '@'); an '@' in a path is left alone.
void redact_embedded_urls(std::string& text) {
  for (auto pos = text.find("://"); pos != std::string::npos; pos = text.find("://", pos + 3)) {
    const auto start = pos + 3;
    auto end = start;
    while (end < text.size() && !ends_url(text[end])) ++end;
    const auto at = find_userinfo_end(std::string_view(text).substr(start, end - start));
    if (at == std::string::npos) continue;
    text.replace(start, at, "***");
  }
}

}  // namespace

std::string redact_credentials(std::string_view text, std::string_view url) {
  std::string out(text);
  if (!url.empty()) {
    replace_all(out, url, redact_url(std::string(url)));
    if (auto parsed = parse_url(std::string(url)); parsed && !parsed->userinfo.empty()) {
      const auto& userinfo = parsed->userinfo;
      replace_all(out, userinfo, "***");
      const auto colon = userinfo.find(':');
      // A password on its own (e.g. quoted by an auth error); a bare user name is not a secret. Passwords
      // shorter than 3 characters would turn every such letter of the message into stars, so they are left.
      if (colon != std::string::npos && userinfo.size() - colon - 1 >= 3)
        replace_all(out, userinfo.substr(colon + 1), "***");
    }
  }
  redact_embedded_urls(out);
  return out;
}

}  // namespace matthan
