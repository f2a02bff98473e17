// Passwords (argon2id), tokens (SHA-256, constant-time), sessions and the login limiter.
#include "matthan/review/auth.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

namespace matthan {
namespace {

constexpr std::size_t kDigestBytes = crypto_hash_sha256_BYTES;

std::string raw_sha256(const std::string& data) {
  std::string out(kDigestBytes, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

std::string to_hex(const unsigned char* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::kViewer:
      return "viewer";
    case Role::kOfficer:
      return "officer";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

bool parse_role(const std::string& text, Role& out) {
  if (text == "viewer")
    out = Role::kViewer;
  else if (text == "officer")
    out = Role::kOfficer;
  else if (text == "admin")
    out = Role::kAdmin;
  else
    return false;
  return true;
}

bool crypto_ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

Result<std::string> hash_password(const std::string& password) {
  if (!crypto_ready()) return make_error("libsodium could not be initialised");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    return make_error("out of memory while hashing the password");
  return std::string(out);
}

bool verify_password(const std::string& hash, const std::string& password) {
  if (!crypto_ready() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool looks_like_password_hash(const std::string& hash) {
  return hash.rfind("$argon2id$", 0) == 0 && hash.size() < crypto_pwhash_STRBYTES;
}

std::string sha256_hex(const std::string& data) {
  const std::string d = raw_sha256(data);
  return to_hex(reinterpret_cast<const unsigned char*>(d.data()), d.size());
}

std::string random_hex(std::size_t bytes) {
  crypto_ready();
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return to_hex(buf.data(), buf.size());
}

Result<TokenSet> TokenSet::from(const std::vector<ApiToken>& tokens) {
  if (!crypto_ready()) return make_error("libsodium could not be initialised");
  TokenSet set;
  for (const auto& t : tokens) {
    Entry e{t.name, t.role, {}};
    if (t.token.rfind("sha256:", 0) == 0) {
      const std::string hex = t.token.substr(7);
      std::string bin(kDigestBytes, '\0');
      std::size_t len = 0;
      if (hex.size() != kDigestBytes * 2 ||
          sodium_hex2bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), hex.data(), hex.size(), nullptr,
                         &len, nullptr) != 0 ||
          len != kDigestBytes)
        return make_error("api token '" + t.name + "': sha256: must be followed by 64 hex digits");
      e.digest = bin;
    } else {
      e.digest = raw_sha256(t.token);
    }
    set.entries_.push_back(std::move(e));
  }
  return set;
}

std::optional<Principal> TokenSet::find(const std::string& presented) const {
  if (presented.empty()) return std::nullopt;
  const std::string d = raw_sha256(presented);
  std::optional<Principal> found;
  // Every entry is compared, so the time taken does not say which one matched.
  for (const auto& e : entries_) {
    if (sodium_memcmp(d.data(), e.digest.data(), kDigestBytes) == 0 && !found) found = Principal{e.name, e.role, true};
  }
  return found;
}

std::string SessionStore::create(const std::string& user, Role role, SteadyTime now) {
  std::lock_guard lock(mu_);
  drop_expired(now);
  while (sessions_.size() >= max_) {
    auto oldest = std::min_element(sessions_.begin(), sessions_.end(),
                                   [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    sessions_.erase(oldest);
  }
  std::string id = random_hex(32);
  sessions_[id] = Session{user, role, random_hex(32), now + ttl_};
  return id;
}

std::optional<Session> SessionStore::find(const std::string& id, SteadyTime now) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::remove(const std::string& id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionStore::drop_expired(SteadyTime now) {
  std::erase_if(sessions_, [now](const auto& kv) { return kv.second.expires <= now; });
}

int LoginLimiter::blocked_for(const std::string& address, SteadyTime now) {
  std::lock_guard lock(mu_);
  auto it = by_address_.find(address);
  if (it == by_address_.end() || it->second.blocked_until <= now) return 0;
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(it->second.blocked_until - now).count();
  return static_cast<int>(std::max<long long>(1, left + 1));
}

void LoginLimiter::failed(const std::string& address, SteadyTime now) {
  std::lock_guard lock(mu_);
  if (by_address_.size() > 10000)
    std::erase_if(by_address_, [now](const auto& kv) { return kv.second.blocked_until <= now; });
  Record& r = by_address_[address];
  if (r.failures == 0 || now - r.first > lockout_) {
    r.failures = 0;
    r.first = now;
  }
  if (++r.failures >= max_) {
    r.blocked_until = now + lockout_;
    r.failures = 0;
  }
}

void LoginLimiter::succeeded(const std::string& address) {
  std::lock_guard lock(mu_);
  by_address_.erase(address);
}

}  // namespace matthan
