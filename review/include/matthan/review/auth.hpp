// Authentication for the review server: argon2id passwords, API tokens, sessions with CSRF tokens, and
// a per-address login limiter. Plain classes with the clock passed in, so unit tests drive them directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "matthan/core/result.hpp"
#include "matthan/review/settings.hpp"

namespace matthan {

using SteadyTime = std::chrono::steady_clock::time_point;

// Initialises libsodium once; false when it cannot (then nothing here is safe to use).
bool crypto_ready();

// argon2id string (libsodium crypto_pwhash_str, interactive limits) for `matthan passwd`.
Result<std::string> hash_password(const std::string& password);
// Constant-time check of a password against a hash made by hash_password.
bool verify_password(const std::string& hash, const std::string& password);
// True when `hash` looks like an argon2id string we can verify (config validation).
bool looks_like_password_hash(const std::string& hash);

std::string sha256_hex(const std::string& data);
// n random bytes as lowercase hex.
std::string random_hex(std::size_t bytes);

// Who made a request.
struct Principal {
  std::string name;
  Role role = Role::kViewer;
  bool via_token = false;  // bearer token: no cookie, so no CSRF check
};

// API tokens from the config, kept only as SHA-256 digests and compared in constant time.
class TokenSet {
 public:
  // Fails on a malformed "sha256:" entry.
  static Result<TokenSet> from(const std::vector<ApiToken>& tokens);
  std::optional<Principal> find(const std::string& presented) const;
  bool empty() const { return entries_.empty(); }

 private:
  struct Entry {
    std::string name;
    Role role;
    std::string digest;  // 32 raw bytes
  };
  std::vector<Entry> entries_;
};

struct Session {
  std::string user;
  Role role = Role::kViewer;
  std::string csrf;
  SteadyTime expires{};
};

// Sessions by their cookie value. Bounded: the oldest session goes when the store is full.
class SessionStore {
 public:
  SessionStore(std::chrono::seconds ttl, std::size_t max_sessions = 4096) : ttl_(ttl), max_(max_sessions) {}
  // Returns the new session id (the cookie value).
  std::string create(const std::string& user, Role role, SteadyTime now);
  std::optional<Session> find(const std::string& id, SteadyTime now);
  void remove(const std::string& id);
  std::size_t size() const;

 private:
  void drop_expired(SteadyTime now);  // caller holds mu_
  std::chrono::seconds ttl_;
  std::size_t max_;
  mutable std::mutex mu_;
  std::map<std::string, Session> sessions_;  // guarded by mu_
};

// Failed logins per client address: after max_failures within the lockout window, the address is
// refused until the window passes. A successful login clears its count.
class LoginLimiter {
 public:
  LoginLimiter(int max_failures, std::chrono::seconds lockout) : max_(max_failures), lockout_(lockout) {}
  // Seconds the address must still wait (0 = may try now).
  int blocked_for(const std::string& address, SteadyTime now);
  void failed(const std::string& address, SteadyTime now);
  void succeeded(const std::string& address);

 private:
  struct Record {
    int failures = 0;
    SteadyTime first{};
    SteadyTime blocked_until{};
  };
  int max_;
  std::chrono::seconds lockout_;
  std::mutex mu_;
  std::map<std::string, Record> by_address_;  // guarded by mu_
};

}  // namespace matthan
