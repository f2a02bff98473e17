// The review server's settings (config block `review:`), shared by the config reader and the server.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace matthan {

// Ordered: each role may do everything the roles before it may.
enum class Role { kViewer = 0, kOfficer = 1, kAdmin = 2 };
const char* to_string(Role role);
bool parse_role(const std::string& text, Role& out);

struct ReviewUser {
  std::string name;
  Role role = Role::kViewer;
  std::string password_hash;  // argon2id, from `matthan passwd` ($argon2id$...)
  bool operator==(const ReviewUser&) const = default;
};

struct ApiToken {
  std::string name;
  Role role = Role::kViewer;
  std::string token;  // the token itself, or "sha256:<64 hex>" of it
  bool operator==(const ApiToken&) const = default;
};

struct ReviewTls {
  std::filesystem::path cert, key;  // PEM files; both empty = plain HTTP
  bool enabled() const { return !cert.empty(); }
  bool operator==(const ReviewTls&) const = default;
};

struct ReviewSettings {
  bool enabled = false;  // true when the config has a `review:` block
  std::string listen = "127.0.0.1:8080";
  std::vector<ReviewUser> users;
  std::vector<ApiToken> api_tokens;
  int session_ttl_s = 8 * 3600;
  int login_max_failures = 5;                  // failed logins per address before a lockout
  int login_lockout_s = 300;                   // how long that address is then refused
  std::string time_zone = "Asia/Ho_Chi_Minh";  // how the page shows times
  ReviewTls tls;
  bool secure_cookie = false;   // set the cookie's Secure flag (implied by tls; for a TLS proxy in front)
  bool metrics_public = false;  // /metrics without credentials (default: any user or API token may read it)
  bool operator==(const ReviewSettings&) const = default;
};

}  // namespace matthan
