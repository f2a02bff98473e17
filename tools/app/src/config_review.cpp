// `review:` (the officers' web page and API, docs/config.md): its field table and readers. Present = enabled;
// the defaults listen on loopback only.
#include <regex>
#include <set>

#include "config_tables.hpp"
#include "matthan/review/auth.hpp"

namespace matthan::config {
namespace {

const Table<ReviewUser>& user_table() {
  static const Table<ReviewUser> t{
      custom<ReviewUser>("name", {"", "string", "required", "`[A-Za-z0-9_.@-]{1,64}`, unique", "login name"}),
      custom<ReviewUser>("role", {"", "string", "`viewer`", "viewer, officer, admin",
                                  "viewer: list, view, play; officer: also review, evidence, export; admin: also "
                                  "`/api/admin/config` and camera health details"}),
      custom<ReviewUser>("password_hash",
                         {"", "string", "required", "`$argon2id$...`",
                          "from `matthan passwd` (reads the password without echo, or one line from a pipe)"}),
  };
  return t;
}

const Table<ApiToken>& token_table() {
  static const Table<ApiToken> t{
      custom<ApiToken>("name", {"", "string", "`token-N`", "at most 64", "shown in logs and as the reviewer's name"}),
      custom<ApiToken>("role", {"", "string", "`viewer`", "viewer, officer, admin", "as for users"}),
      custom<ApiToken>("token",
                       {"", "string", "required", "≥ 16 characters, or `sha256:` + 64 hex digits",
                        "the token, or its SHA-256 (so the file need not hold the secret); compared in constant time"}),
  };
  return t;
}

const Table<ReviewTls>& tls_table() {
  static const Table<ReviewTls> t{
      custom<ReviewTls>(
          "cert", {"", "path", "none", "both or neither",
                   "serve HTTPS directly (PEM files; relative to the config file); the cookie then gets `Secure`"}),
      custom<ReviewTls>("key", {"", "path", "none", "both or neither",
                                "the private key of `review.tls.cert` (PEM file; relative to the config file)"}),
  };
  return t;
}

void read_users(ConfigReader& r, const YAML::Node& review, const std::string&, ReviewSettings& out) {
  const YAML::Node n = review["users"];
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) {
    r.issue(n, "review.users", "must be a list of {name, role, password_hash}");
    return;
  }
  static const std::regex kName("[A-Za-z0-9_.@-]{1,64}");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = fmt::format("review.users[{}]", i);
    if (!r.expect_map(n[i], path)) continue;
    r.check_keys(n[i], path, keys_of(user_table()));
    ReviewUser u;
    std::string role = "viewer";
    if (!r.string(n[i], "name", path, u.name, 64) || !std::regex_match(u.name, kName))
      r.issue(n[i], ConfigReader::join(path, "name"), "is required and must match [A-Za-z0-9_.@-]+ (at most 64)");
    else if (!seen.insert(u.name).second)
      r.issue(n[i]["name"], ConfigReader::join(path, "name"), fmt::format("duplicate user '{}'", u.name));
    if (r.string(n[i], "role", path, role, 16) && !parse_role(role, u.role))
      r.issue(n[i]["role"], ConfigReader::join(path, "role"), "must be viewer, officer or admin");
    if (!r.string(n[i], "password_hash", path, u.password_hash, 256) || !looks_like_password_hash(u.password_hash))
      r.issue(n[i], ConfigReader::join(path, "password_hash"),
              "is required: an argon2id hash made by `matthan passwd`");
    out.users.push_back(std::move(u));
  }
}

void read_tokens(ConfigReader& r, const YAML::Node& review, const std::string&, ReviewSettings& out) {
  const YAML::Node n = review["api_tokens"];
  if (!n.IsDefined()) return;
  if (!n.IsSequence()) {
    r.issue(n, "review.api_tokens", "must be a list of {name, role, token}");
    return;
  }
  static const std::regex kSha("sha256:[0-9a-fA-F]{64}");
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string path = fmt::format("review.api_tokens[{}]", i);
    if (!r.expect_map(n[i], path)) continue;
    r.check_keys(n[i], path, keys_of(token_table()));
    ApiToken t;
    t.name = fmt::format("token-{}", i);
    std::string role = "viewer";
    r.string(n[i], "name", path, t.name, 64);
    if (r.string(n[i], "role", path, role, 16) && !parse_role(role, t.role))
      r.issue(n[i]["role"], ConfigReader::join(path, "role"), "must be viewer, officer or admin");
    if (!r.string(n[i], "token", path, t.token, 512)) {
      r.issue(n[i], ConfigReader::join(path, "token"), "is required: the token, or sha256:<64 hex> of it");
    } else if (t.token.rfind("sha256:", 0) == 0 ? !std::regex_match(t.token, kSha) : t.token.size() < 16) {
      r.issue(n[i]["token"], ConfigReader::join(path, "token"),
              "must be at least 16 characters, or sha256: followed by 64 hex digits");
    }
    out.api_tokens.push_back(std::move(t));
  }
}

void read_tls(ConfigReader& r, const YAML::Node& review, const std::string&, ReviewSettings& out) {
  const YAML::Node t = review["tls"];
  if (!t.IsDefined() || !r.expect_map(t, "review.tls")) return;
  r.check_keys(t, "review.tls", keys_of(tls_table()));
  std::string cert, key;
  r.string(t, "cert", "review.tls", cert);
  r.string(t, "key", "review.tls", key);
  if (cert.empty() || key.empty()) r.issue(t, "review.tls", "needs both cert and key (PEM files)");
  out.tls.cert = cert.empty() ? std::filesystem::path() : (r.base_dir / cert).lexically_normal();
  out.tls.key = key.empty() ? std::filesystem::path() : (r.base_dir / key).lexically_normal();
}

}  // namespace

const Table<ReviewSettings>& review_table() {
  using S = ReviewSettings;
  static const Table<S> t{
      text<S>(
          "listen", &S::listen, 128,
          [](const std::string& listen) {
            return valid_listen_address(listen) ? std::string() : std::string("must be HOST:PORT, e.g. 127.0.0.1:8080");
          },
          "`HOST:PORT`", "where the page and API listen"),
      items<S, ReviewUser>("users", &user_table, read_users),
      items<S, ApiToken>("api_tokens", &token_table, read_tokens),
      number("session_ttl", &S::session_ttl_s, 60, 30 * 24 * 3600,
             "seconds a login lasts (sessions are in memory: a restart logs everybody out)"),
      number("login_max_failures", &S::login_max_failures, 1, 100,
             "failed logins from one address before it is locked out"),
      number("login_lockout", &S::login_lockout_s, 1, 24 * 3600,
             "seconds the address is then refused (429 with `Retry-After`)"),
      text<S>(
          "time_zone", &S::time_zone, 64,
          [](const std::string& zone) {
            static const std::regex kZone("[A-Za-z_]+(/[A-Za-z0-9_+-]+){0,2}");
            return std::regex_match(zone, kZone) ? std::string()
                                                 : std::string("must be an IANA zone such as Asia/Ho_Chi_Minh");
          },
          "IANA zone name", "how the page shows times (`dd/MM/yyyy HH:mm:ss`)"),
      block<S, ReviewTls>("tls", &tls_table, read_tls),
      boolean("secure_cookie", &S::secure_cookie,
              "set `Secure` on the cookie without `tls` (when a TLS proxy is in front)"),
      boolean("metrics_public", &S::metrics_public,
              "serve `/metrics` without credentials. By default it needs a login or an API token of any role (give "
              "Prometheus a `viewer` token)"),
  };
  return t;
}

void read_review(ConfigReader& r, const YAML::Node& n, ReviewSettings& out) {
  if (!r.expect_map(n, "review")) return;
  r.check_keys(n, "review", keys_of(review_table()));
  out.enabled = true;
  // tls last, as it always was
  read_fields(r, n, "review", review_table(),
              {"listen", "users", "api_tokens", "session_ttl", "login_max_failures", "login_lockout", "time_zone",
               "secure_cookie", "metrics_public"},
              out);
  if (out.users.empty() && out.api_tokens.empty())
    r.issue(n, "review", "lists no users and no api_tokens: nobody could log in (make a hash with `matthan passwd`)");
}

}  // namespace matthan::config
