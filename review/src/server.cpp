// The review server: routes, authentication and authorisation, file serving by index lookup, SSE.
// Rules that hold for every route: credentials first (401), then role (403), then CSRF for cookie
// POSTs (403); request values are validated (400) and never used as file paths.
#include "matthan/review/server.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api_json.hpp"
#include "http_util.hpp"
#include "listen_thread.hpp"
#include "matthan/core/time.hpp"
#include "matthan/review/auth.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/index.hpp"
#include "metrics_http.hpp"
#include "tar_bundle.hpp"
#include "web_assets.hpp"

namespace matthan {

using nlohmann::json;
using namespace review_detail;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSessionCookie = "matthan_session";
constexpr std::size_t kMaxBody = 64 * 1024;
constexpr int kMaxSseClients = 8;
constexpr int kThreads = 16;
constexpr auto kSseKeepalive = std::chrono::seconds(10);
constexpr std::size_t kFileChunk = 256 * 1024;

// A bad request, a missing thing or a refusal, raised inside a handler and turned into a JSON reply.
struct HttpError {
  int status;
  std::string message;
};

void send_json(httplib::Response& res, const json& j, int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(j.dump(), "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(error_body(message), "application/json; charset=utf-8");
}

// An open file served by byte ranges; the descriptor closes when httplib releases the provider.
using OpenFile = StoredFile;

// Null when the file is missing or is not a plain file (a symlink or FIFO swapped into the storage root is
// refused at the open, never followed or waited on); the caller answers 404 either way.
std::shared_ptr<OpenFile> open_regular(const fs::path& p) {
  auto f = StoredFile::open(p);
  if (!f.ok()) {
    if (f.error().code != ErrorCode::kNotFound) spdlog::warn("review: not served: {}", f.error().message);
    return nullptr;
  }
  return std::make_shared<OpenFile>(std::move(f).value());
}

// cpp-httplib 0.11 applies the request's Range to whatever body goes out (error bodies included) and
// does not check it against the file size. The request object is the server's own non-const local, so
// we clear or clamp its ranges here: errors go out whole, and a bad range gets a proper 416.
httplib::Request& mutable_request(const httplib::Request& req) {
  return const_cast<httplib::Request&>(req);
}

// Clamps ranges to the file; false (ranges cleared) when one cannot be satisfied.
bool fit_ranges(const httplib::Request& req, std::uint64_t size) {
  auto& ranges = mutable_request(req).ranges;
  for (auto& [first, last] : ranges) {
    const auto n = static_cast<ssize_t>(size);
    if (first < 0) {  // suffix: the last `last` bytes
      if (last <= 0 || n == 0) return ranges.clear(), false;
      if (last > n) last = n;
      continue;
    }
    if (first >= n || (last >= 0 && last < first)) return ranges.clear(), false;
    if (last < 0 || last >= n) last = n - 1;
  }
  return true;
}

void serve_file(httplib::Response& res, std::shared_ptr<OpenFile> f, const char* type) {
  res.set_header("Accept-Ranges", "bytes");
  res.set_header("Cache-Control", "private, no-cache");
  res.set_content_provider(f->size(), type, [f](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
    std::string buf(std::min(length, kFileChunk), '\0');
    const ssize_t got = ::pread(f->fd(), buf.data(), buf.size(), static_cast<off_t>(offset));
    if (got <= 0) return false;
    return sink.write(buf.data(), static_cast<std::size_t>(got));
  });
}

}  // namespace

struct ReviewServer::Impl {
  ReviewSettings settings;
  ReviewDeps deps;
  TokenSet tokens;
  SessionStore sessions;
  LoginLimiter limiter;
  std::map<std::string, ReviewUser> users;
  std::string dummy_hash;  // verified against for unknown users, so timing does not reveal names
  std::mutex verify_mu_;   // guards nothing but argon2id's memory: one password check at a time
  std::unique_ptr<httplib::Server> server;
  review_detail::ListenThread loop;  // after `server`: destroyed (joined) before it
  int port = 0;
  std::string host;
  std::atomic<int> sse_clients{0};
  std::atomic<bool> stopping{false};

  Impl(const ReviewSettings& s, ReviewDeps d, TokenSet t)
      : settings(s),
        deps(std::move(d)),
        tokens(std::move(t)),
        sessions(std::chrono::seconds(s.session_ttl_s)),
        limiter(s.login_max_failures, std::chrono::seconds(s.login_lockout_s)) {
    for (const auto& u : s.users) users[u.name] = u;
  }

  bool secure() const { return settings.secure_cookie || settings.tls.enabled(); }

  // ---- authentication ----
  struct Caller {
    Principal who;
    std::string session_id;  // empty for a bearer token
    std::string csrf;
  };

  Caller authenticate(const httplib::Request& req, Role need, bool mutating) {
    Caller c;
    const std::string auth = req.get_header_value("Authorization");
    if (!auth.empty()) {
      if (auth.rfind("Bearer ", 0) != 0) throw HttpError{401, "Authorization must be 'Bearer <token>'"};
      auto p = tokens.find(auth.substr(7));
      if (!p) throw HttpError{401, "unknown API token"};
      c.who = *p;
    } else {
      auto sid = cookie_value(req.get_header_value("Cookie"), kSessionCookie);
      if (!sid) throw HttpError{401, "log in first"};
      auto s = sessions.find(*sid, std::chrono::steady_clock::now());
      if (!s) throw HttpError{401, "session expired or unknown: log in again"};
      c.who = Principal{s->user, s->role, false};
      c.session_id = *sid;
      c.csrf = s->csrf;
    }
    if (static_cast<int>(c.who.role) < static_cast<int>(need))
      throw HttpError{403,
                      fmt::format("role '{}' may not do this (needs '{}')", to_string(c.who.role), to_string(need))};
    if (mutating && !c.who.via_token && !constant_time_equal(req.get_header_value("X-CSRF-Token"), c.csrf))
      throw HttpError{403, "CSRF token missing or wrong (send the X-CSRF-Token header from /api/session)"};
    return c;
  }

  // Wraps a handler: authentication, role, CSRF, and HttpError/exception to a JSON reply.
  httplib::Server::Handler guarded(Role need, bool mutating,
                                   std::function<void(const httplib::Request&, httplib::Response&, const Caller&)> fn) {
    return [this, need, mutating, fn = std::move(fn)](const httplib::Request& req, httplib::Response& res) {
      try {
        const Caller c = authenticate(req, need, mutating);
        fn(req, res, c);
      } catch (const HttpError& e) {
        mutable_request(req).ranges.clear();
        if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"matthan\"");
        send_error(res, e.status, e.message);
      }
    };
  }

  static json parse_body(const httplib::Request& req) {
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("application/json", 0) != 0)
      throw HttpError{400, "the body must be JSON (Content-Type: application/json)"};
    json j = json::parse(req.body, nullptr, false);
    if (j.is_discarded()) throw HttpError{400, "the body is not valid JSON"};
    if (!j.is_object()) throw HttpError{400, "the body must be a JSON object"};
    return j;
  }

  static std::string string_field(const json& j, const char* key, std::size_t max_len, bool required) {
    if (!j.contains(key) || j[key].is_null()) {
      if (required) throw HttpError{400, fmt::format("'{}' is required", key)};
      return {};
    }
    if (!j[key].is_string()) throw HttpError{400, fmt::format("'{}' must be a string", key)};
    std::string s = j[key].get<std::string>();
    if (s.size() > max_len) throw HttpError{400, fmt::format("'{}' is longer than {} bytes", key, max_len)};
    return s;
  }

  static std::string incident_id_of(const httplib::Request& req) {
    const std::string id = req.matches[1];
    switch (check_incident_id(id)) {
      case IdCheck::kOk:
        return id;
      case IdCheck::kTraversal:
        throw HttpError{404, "not found"};
      case IdCheck::kMalformed:
        break;
    }
    throw HttpError{400, "malformed incident id (expected [A-Za-z0-9_-], at most 128)"};
  }

  IncidentView load_incident(const std::string& id) {
    auto v = deps.index->incident(id);
    if (!v.ok()) throw HttpError{500, "index: " + v.error().message};
    if (!v.value()) throw HttpError{404, "no incident " + id};
    return std::move(*v.value());
  }

  CameraNames camera_names() const {
    CameraNames names;
    if (deps.live)
      for (const auto& c : deps.live->cameras()) names[c.id] = c.name;
    return names;
  }

  // ---- session routes ----
  void login(const httplib::Request& req, httplib::Response& res) {
    try {
      const auto now = std::chrono::steady_clock::now();
      if (int wait = limiter.blocked_for(req.remote_addr, now); wait > 0) {
        res.set_header("Retry-After", std::to_string(wait));
        throw HttpError{429, fmt::format("too many failed logins from this address; try again in {} s", wait)};
      }
      const json body = parse_body(req);
      const std::string name = string_field(body, "user", 64, true);
      const std::string password = string_field(body, "password", 1024, true);
      auto it = users.find(name);
      bool ok;
      {
        std::lock_guard lock(verify_mu_);
        ok = verify_password(it == users.end() ? dummy_hash : it->second.password_hash, password) && it != users.end();
      }
      if (!ok) {
        limiter.failed(req.remote_addr, std::chrono::steady_clock::now());
        spdlog::warn("review: failed login for '{}' from {}", log_safe(name.substr(0, 64)), req.remote_addr);
        throw HttpError{401, "wrong user name or password"};
      }
      limiter.succeeded(req.remote_addr);
      const std::string sid = sessions.create(name, it->second.role, now);
      res.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", kSessionCookie,
                                               sid, settings.session_ttl_s, secure() ? "; Secure" : ""));
      spdlog::info("review: '{}' logged in from {}", log_safe(name), req.remote_addr);
      send_json(res, session_json(name, it->second.role, sessions.find(sid, now)->csrf));
    } catch (const HttpError& e) {
      send_error(res, e.status, e.message);
    }
  }

  json session_json(const std::string& user, Role role, const std::string& csrf) const {
    return json{{"user", user},
                {"role", to_string(role)},
                {"csrf", csrf},
                {"node", deps.node},
                {"time_zone", settings.time_zone}};
  }

  void register_session_routes(httplib::Server& s) {
    s.Post("/api/login", [this](const httplib::Request& req, httplib::Response& res) { login(req, res); });
    s.Post("/api/logout", guarded(Role::kViewer, true, [this](const auto&, auto& res, const Caller& c) {
             if (!c.session_id.empty()) sessions.remove(c.session_id);
             res.set_header("Set-Cookie", fmt::format("{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
                                                      kSessionCookie, secure() ? "; Secure" : ""));
             send_json(res, json{{"ok", true}});
           }));
    s.Get("/api/session", guarded(Role::kViewer, false, [this](const auto&, auto& res, const Caller& c) {
            send_json(res, session_json(c.who.name, c.who.role, c.csrf));
          }));
  }

  // ---- incidents ----
  IncidentQuery query_of(const httplib::Request& req) {
    static const std::set<std::string> kKnown{"camera", "kind",     "label", "from",  "to",
                                              "state",  "evidence", "limit", "cursor"};
    for (const auto& [k, v] : req.params)
      if (!kKnown.count(k)) throw HttpError{400, fmt::format("unknown parameter '{}'", k.substr(0, 40))};
    IncidentQuery q;
    const auto param = [&](const char* k) -> std::optional<std::string> {
      if (!req.has_param(k)) return std::nullopt;
      return req.get_param_value(k);
    };
    if (auto v = param("camera")) {
      if (!valid_camera_id(*v)) throw HttpError{400, "camera: expected a camera id ([a-z0-9_-], at most 64)"};
      q.camera = *v;
    }
    for (auto [key, field] : {std::pair{"kind", &q.kind}, std::pair{"label", &q.label}}) {
      if (auto v = param(key)) {
        if (!valid_word(*v))
          throw HttpError{400, fmt::format("{}: expected letters, digits, '_', '-' (at most 64)", key)};
        *field = *v;
      }
    }
    for (auto [key, field] : {std::pair{"from", &q.from}, std::pair{"to", &q.to}}) {
      if (auto v = param(key)) {
        auto t = parse_iso_time(*v);
        if (!t.ok()) throw HttpError{400, fmt::format("{}: {}", key, t.error().message)};
        *field = t.value();
      }
    }
    if (auto v = param("state")) {
      if (*v != "new" && *v != "reviewed" && *v != "false_alarm")
        throw HttpError{400, "state: expected new, reviewed or false_alarm"};
      q.review_state = *v;
    }
    if (auto v = param("evidence")) {
      if (*v != "true" && *v != "false") throw HttpError{400, "evidence: expected true or false"};
      q.evidence = *v == "true";
    }
    if (auto v = param("limit")) {
      auto n = parse_int(*v, 1, 200);
      if (!n.ok()) throw HttpError{400, "limit: " + n.error().message};
      q.limit = static_cast<int>(n.value());
    }
    if (auto v = param("cursor")) {
      IncidentCursor c;
      if (!decode_cursor(*v, c.started_at, c.id)) throw HttpError{400, "cursor: not a cursor this server gave out"};
      q.before = c;
    }
    return q;
  }

  void list_incidents(const httplib::Request& req, httplib::Response& res) {
    const IncidentQuery q = query_of(req);
    auto page = deps.index->incidents(q);
    if (!page.ok()) throw HttpError{500, "index: " + page.error().message};
    const CameraNames names = camera_names();
    json items = json::array();
    for (const auto& v : page->items) items.push_back(incident_json(v, names));
    json next = nullptr;
    if (page->next) next = encode_cursor(page->next->started_at, page->next->id);
    send_json(res, json{{"items", std::move(items)}, {"next_cursor", next}});
  }

  // The clip file of an incident, or the reason there is none (409 while still being written).
  std::pair<fs::path, ClipRecord> clip_file(const IncidentView& v) {
    if (!v.clip) {
      if (!v.incident.ended_at)
        throw HttpError{409,
                        "the incident is still going on: its clip is served once it has ended and the clip is final"};
      throw HttpError{404, "this incident has no clip"};
    }
    const ClipRecord& c = *v.clip;
    if (c.state == ClipState::kWriting)
      throw HttpError{409,
                      "the clip is still being written: it is served once it is final (try again in a few seconds)"};
    if (c.state == ClipState::kDeleted)
      throw HttpError{404, "the clip was deleted (" +
                               (c.deleted_reason.empty() ? std::string("retention") : c.deleted_reason) + ")"};
    auto path = resolve_under(deps.storage_root, c.path);
    if (!path) throw HttpError{404, "the clip's stored path is not under the storage root"};
    return {*path, c};
  }

  std::optional<fs::path> snapshot_file(const IncidentView& v) {
    std::string rel = v.incident.snapshot;
    if (v.snapshot) {
      if (v.snapshot->state != "present") return std::nullopt;
      rel = v.snapshot->path;
    }
    return resolve_under(deps.storage_root, rel);
  }

  void send_clip(const httplib::Request& req, httplib::Response& res) {
    const IncidentView v = load_incident(incident_id_of(req));
    auto [path, clip] = clip_file(v);
    auto f = open_regular(path);
    if (!f) throw HttpError{404, "the clip file is missing from disk"};
    if (!fit_ranges(req, f->size())) {
      res.set_header("Content-Range", fmt::format("bytes */{}", f->size()));
      throw HttpError{416, "the requested range is outside the clip"};
    }
    serve_file(res, std::move(f), "video/mp4");
  }

  void send_snapshot(const httplib::Request& req, httplib::Response& res) {
    const IncidentView v = load_incident(incident_id_of(req));
    auto path = snapshot_file(v);
    std::shared_ptr<OpenFile> f = path ? open_regular(*path) : nullptr;
    if (!f) throw HttpError{404, "this incident has no snapshot"};
    if (!fit_ranges(req, f->size())) throw HttpError{416, "the requested range is outside the snapshot"};
    serve_file(res, std::move(f), "image/jpeg");
  }

  void post_review(const httplib::Request& req, httplib::Response& res, const Caller& c) {
    const std::string id = incident_id_of(req);
    const json body = parse_body(req);
    const std::string state = string_field(body, "state", 32, true);
    if (state != "new" && state != "reviewed" && state != "false_alarm")
      throw HttpError{400, "state: expected new, reviewed or false_alarm"};
    const std::string note = string_field(body, "note", 4000, false);
    load_incident(id);  // 404 before any write
    if (auto st = deps.index->set_review(id, state, note, c.who.name, std::chrono::system_clock::now()); !st.ok())
      throw HttpError{500, "index: " + st.error().message};
    spdlog::info("review: '{}' marked incident {} {}", log_safe(c.who.name), id, state);
    send_json(res, incident_json(load_incident(id), camera_names()));
  }

  void post_evidence(const httplib::Request& req, httplib::Response& res, const Caller& c) {
    const std::string id = incident_id_of(req);
    const json body = parse_body(req);
    if (!body.contains("hold") || !body["hold"].is_boolean()) throw HttpError{400, "'hold' must be true or false"};
    const bool hold = body["hold"].get<bool>();
    const std::string note = string_field(body, "note", 4000, false);
    load_incident(id);
    if (auto st = deps.index->set_evidence(id, hold, note, c.who.name, std::chrono::system_clock::now()); !st.ok())
      throw HttpError{500, "index: " + st.error().message};
    spdlog::info("review: '{}' {} evidence hold on incident {}", log_safe(c.who.name), hold ? "placed" : "released",
                 id);
    send_json(res, incident_json(load_incident(id), camera_names()));
  }

  void send_export(const httplib::Request& req, httplib::Response& res, const Caller& c) {
    const IncidentView v = load_incident(incident_id_of(req));
    auto bundle = std::make_shared<TarBundle>();
    json files = json::array();
    const std::string dir = v.incident.id + "/";
    // Each file is opened once and read once, while it streams; its hash in the manifest is the hash of
    // those very bytes (the manifest is made when the stream reaches it, after every file).
    const auto add_file = [&](const std::string& name, const fs::path& path) {
      auto f = open_regular(path);
      if (!f) return;
      files.push_back(json{{"name", name}, {"bytes", f->size()}, {"sha256", std::string(64, '0')}});
      bundle->add_file(dir + name, std::move(f));
    };
    if (v.clip) add_file("clip.mp4", clip_file(v).first);
    if (auto snap = snapshot_file(v)) add_file("snapshot.jpg", *snap);
    const std::string incident = incident_json(v, camera_names()).dump(2);
    files.push_back(json{{"name", "incident.json"}, {"bytes", incident.size()}, {"sha256", sha256_hex(incident)}});
    bundle->add_text(dir + "incident.json", incident);
    json manifest{{"incident", v.incident.id},
                  {"node", deps.node},
                  {"exported_at", format_iso8601(std::chrono::system_clock::now())},
                  {"exported_by", c.who.name},
                  {"files", files}};
    // The hashes are fixed-width hex, so the manifest's size is known before they are.
    bundle->add_generated(dir + "manifest.json", manifest.dump(2).size(),
                          [manifest, dir](const TarBundle::Hashes& sent) mutable {
                            for (auto& f : manifest["files"])
                              if (auto it = sent.find(dir + f["name"].get<std::string>()); it != sent.end())
                                f["sha256"] = it->second;
                            return manifest.dump(2);
                          });
    spdlog::info("review: '{}' exported incident {}", log_safe(c.who.name), v.incident.id);
    res.set_header("Content-Disposition", fmt::format("attachment; filename=\"{}.tar\"", v.incident.id));
    res.set_header("Cache-Control", "no-store");
    res.set_content_provider(bundle->size(), "application/x-tar",
                             [bundle](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               std::string chunk;
                               if (!bundle->read(offset, std::min(length, kFileChunk), chunk) || chunk.empty())
                                 return false;
                               return sink.write(chunk.data(), chunk.size());
                             });
  }

  void register_incident_routes(httplib::Server& s) {
    const auto viewer = [this](auto fn) {
      return guarded(Role::kViewer, false,
                     [this, fn](const auto& req, auto& res, const Caller&) { (this->*fn)(req, res); });
    };
    s.Get("/api/incidents", viewer(&Impl::list_incidents));
    s.Get(R"(/api/incidents/([^/]+))", guarded(Role::kViewer, false, [this](const auto& req, auto& res, const Caller&) {
            send_json(res, incident_json(load_incident(incident_id_of(req)), camera_names()));
          }));
    s.Get(R"(/api/incidents/([^/]+)/clip\.mp4)", viewer(&Impl::send_clip));
    s.Get(R"(/api/incidents/([^/]+)/snapshot\.jpg)", viewer(&Impl::send_snapshot));
    s.Get(R"(/api/incidents/([^/]+)/export)",
          guarded(Role::kOfficer, false,
                  [this](const auto& req, auto& res, const Caller& c) { send_export(req, res, c); }));
    s.Post(R"(/api/incidents/([^/]+)/review)",
           guarded(Role::kOfficer, true,
                   [this](const auto& req, auto& res, const Caller& c) { post_review(req, res, c); }));
    s.Post(R"(/api/incidents/([^/]+)/evidence)",
           guarded(Role::kOfficer, true,
                   [this](const auto& req, auto& res, const Caller& c) { post_evidence(req, res, c); }));
  }

  // ---- events ----
  void replay(const httplib::Request& req, httplib::Response& res, const Caller& c) {
    for (const auto& [k, v] : req.params)
      if (k != "since" && k != "limit") throw HttpError{400, fmt::format("unknown parameter '{}'", k.substr(0, 40))};
    std::uint64_t since = 0;
    int limit = 100;
    if (req.has_param("since")) {
      auto n = parse_int(req.get_param_value("since"), 0, std::numeric_limits<long long>::max());
      if (!n.ok()) throw HttpError{400, "since: " + n.error().message};
      since = static_cast<std::uint64_t>(n.value());
    }
    if (req.has_param("limit")) {
      auto n = parse_int(req.get_param_value("limit"), 1, 1000);
      if (!n.ok()) throw HttpError{400, "limit: " + n.error().message};
      limit = static_cast<int>(n.value());
    }
    auto events = deps.index->events_after(since, limit);
    if (!events.ok()) throw HttpError{500, "index: " + events.error().message};
    auto last = deps.index->last_event_seq();
    json arr = json::array();
    const bool details = c.who.role == Role::kAdmin;
    for (const auto& e : *events) arr.push_back(event_json(e, details));
    send_json(res, json{{"events", std::move(arr)}, {"last_seq", last.ok() ? last.value() : 0}});
  }

  static std::string sse_message(std::uint64_t seq, const std::string& topic, const std::string& payload,
                                 bool details) {
    // Payloads are single-line JSON; a stray newline would end the SSE field, so it is escaped away.
    std::string data = visible_payload(topic, payload, details);
    std::replace(data.begin(), data.end(), '\n', ' ');
    return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", seq,
                       topic.rfind("incident.", 0) == 0 ? "incident" : "message", data);
  }

  // Writes events after `last` to the sink; from the index when the live buffer has lost some. `details`:
  // the caller is an admin (see visible_payload).
  bool sse_step(std::uint64_t& last, httplib::DataSink& sink, bool details) {
    bool gap = false;
    auto events = deps.feed->wait_after(last, kSseKeepalive, &gap);
    if (stopping || deps.feed->closed()) return false;
    if (gap) {
      auto stored = deps.index->events_after(last, 200);
      if (stored.ok() && !stored->empty()) {
        for (const auto& e : *stored) {
          const std::string m = sse_message(e.seq, e.topic, e.payload, details);
          if (!sink.write(m.data(), m.size())) return false;
          last = e.seq;
        }
        return true;
      }
    }
    if (events.empty()) {
      static const std::string kPing = ": keepalive\n\n";
      return sink.write(kPing.data(), kPing.size());
    }
    for (const auto& e : events) {
      const std::string m = sse_message(e.seq, e.topic, e.payload, details);
      if (!sink.write(m.data(), m.size())) return false;
      last = e.seq;
    }
    return true;
  }

  void stream(const httplib::Request& req, httplib::Response& res, const Caller& c) {
    if (!deps.feed) throw HttpError{503, "no live feed in this process"};
    std::uint64_t start = deps.feed->last_seq();
    const std::string resume =
        req.has_param("since") ? req.get_param_value("since") : req.get_header_value("Last-Event-ID");
    if (!resume.empty()) {
      auto n = parse_int(resume, 0, std::numeric_limits<long long>::max());
      if (!n.ok()) throw HttpError{400, "since / Last-Event-ID: " + n.error().message};
      start = static_cast<std::uint64_t>(n.value());
    }
    if (sse_clients.fetch_add(1) >= kMaxSseClients) {
      sse_clients.fetch_sub(1);
      throw HttpError{503, "too many live streams open; close another tab"};
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto last = std::make_shared<std::uint64_t>(start);
    const bool details = c.who.role == Role::kAdmin;
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, last, details](std::size_t offset, httplib::DataSink& sink) {
          if (offset == 0) {
            static const std::string kHello = "retry: 3000\n: matthan live events\n\n";
            if (!sink.write(kHello.data(), kHello.size())) return false;
          }
          if (!sse_step(*last, sink, details)) {
            sink.done();
            return true;
          }
          return true;
        },
        [this](bool) { sse_clients.fetch_sub(1); });
  }

  void register_event_routes(httplib::Server& s) {
    s.Get("/api/events",
          guarded(Role::kViewer, false, [this](const auto& req, auto& res, const Caller& c) { replay(req, res, c); }));
    s.Get("/api/events/stream",
          guarded(Role::kViewer, false, [this](const auto& req, auto& res, const Caller& c) { stream(req, res, c); }));
  }

  // ---- cameras, health, admin ----
  std::optional<IncidentView> latest_with_snapshot(const std::string& camera) {
    IncidentQuery q;
    q.camera = camera;
    q.limit = 5;
    auto page = deps.index->incidents(q);
    if (!page.ok()) return std::nullopt;
    for (auto& v : page->items)
      if (snapshot_file(v)) return std::move(v);
    return std::nullopt;
  }

  void register_camera_routes(httplib::Server& s) {
    s.Get("/api/cameras", guarded(Role::kViewer, false, [this](const auto&, auto& res, const Caller& c) {
            json arr = json::array();
            if (deps.live)
              for (const auto& cam : deps.live->cameras())
                arr.push_back(camera_json(cam, latest_with_snapshot(cam.id).has_value(), c.who.role == Role::kAdmin));
            send_json(res, json{{"cameras", std::move(arr)}, {"node", deps.node}});
          }));
    s.Get(R"(/api/cameras/([^/]+)/snapshot\.jpg)",
          guarded(Role::kViewer, false, [this](const auto& req, auto& res, const Caller&) {
            const std::string id = req.matches[1];
            if (!valid_camera_id(id)) throw HttpError{404, "not found"};
            auto v = latest_with_snapshot(id);
            std::shared_ptr<OpenFile> f = v ? open_regular(*snapshot_file(*v)) : nullptr;
            if (!f) throw HttpError{404, "no snapshot for this camera yet"};
            if (!fit_ranges(req, f->size())) throw HttpError{416, "the requested range is outside the snapshot"};
            serve_file(res, std::move(f), "image/jpeg");
          }));
    s.Get("/api/admin/config", guarded(Role::kAdmin, false, [this](const auto&, auto& res, const Caller&) {
            json j = deps.admin_config_json ? json::parse(deps.admin_config_json(), nullptr, false) : json::object();
            send_json(res, j.is_discarded() ? json::object() : j);
          }));
    register_metrics_route(s);
    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-store");
      res.set_content("ok\n", "text/plain; charset=utf-8");
    });
  }

  // ---- Prometheus ----
  // Any authenticated caller (a viewer API token is what a scraper should use), or anyone with
  // review.metrics_public: the figures name cameras and their states, but no incident or person.
  void register_metrics_route(httplib::Server& s) {
    if (!deps.metrics) return;
    const MetricsSource* source = deps.metrics;
    if (settings.metrics_public) {
      s.Get("/metrics", [source](const httplib::Request&, httplib::Response& res) { send_metrics(res, *source); });
      return;
    }
    s.Get("/metrics", guarded(Role::kViewer, false,
                              [source](const auto&, auto& res, const Caller&) { send_metrics(res, *source); }));
  }

  // ---- static page ----
  void register_static_routes(httplib::Server& s) {
    s.Get(R"(/.*)", [](const httplib::Request& req, httplib::Response& res) {
      const std::string path = req.path == "/" ? "/index.html" : req.path;
      const WebAsset* a = find_web_asset(path);
      if (!a) {
        send_error(res, 404, "not found");
        return;
      }
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(reinterpret_cast<const char*>(a->data), a->size), a->content_type);
    });
  }

  void security_headers(httplib::Response& res) const {
    // Under TLS a browser must never fall back to plain HTTP for this host (a year, as the usual preload lists ask).
    if (settings.tls.enabled()) res.set_header("Strict-Transport-Security", "max-age=31536000");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; "
                   "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  }

  void configure(httplib::Server& s) {
    s.new_task_queue = [] { return new httplib::ThreadPool(kThreads); };
    s.set_payload_max_length(kMaxBody);
    s.set_read_timeout(10, 0);
    s.set_write_timeout(30, 0);
    s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      security_headers(res);
      const bool media = req.path.ends_with("/clip.mp4") || req.path.ends_with("/snapshot.jpg");
      if (!media || req.method != "GET") mutable_request(req).ranges.clear();
      // A request line the router would misread (e.g. a full URL or a '\' path) is refused outright.
      if (req.path.empty() || req.path[0] != '/' || req.path.find('\\') != std::string::npos ||
          req.path.find('\0') != std::string::npos) {
        send_error(res, 404, "not found");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    s.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      mutable_request(req).ranges.clear();
      if (res.status == 413) {
        // The issue's rule: bad input, an oversized body included, is a 400 with a clear message.
        send_error(res, 400, fmt::format("the request body is larger than {} KiB", kMaxBody / 1024));
      } else if (res.body.empty()) {
        send_error(res, res.status, res.status == 404 ? "not found" : fmt::format("HTTP {}", res.status));
      }
      security_headers(res);
    });
    s.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
      std::string what = "unknown";
      try {
        std::rethrow_exception(ep);
      } catch (const HttpError& e) {
        mutable_request(req).ranges.clear();
        send_error(res, e.status, e.message);
        return;
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      mutable_request(req).ranges.clear();
      spdlog::error("review: {} {} failed: {}", log_safe(req.method), log_safe(req.path), log_safe(what));
      send_error(res, 500, "internal error");
    });
    register_session_routes(s);
    register_incident_routes(s);
    register_event_routes(s);
    register_camera_routes(s);
    register_static_routes(s);
  }
};

namespace {

Result<std::pair<std::string, int>> split_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return make_error("review.listen must be HOST:PORT");
  auto port = parse_int(listen.substr(colon + 1), 0, 65535);
  if (!port.ok()) return make_error("review.listen port " + port.error().message);
  return std::pair{listen.substr(0, colon), static_cast<int>(port.value())};
}

}  // namespace

Result<std::unique_ptr<ReviewServer>> ReviewServer::start(const ReviewSettings& settings, ReviewDeps deps) {
  if (!deps.index) return make_error("review server needs the index");
  if (!crypto_ready()) return make_error("libsodium could not be initialised");
  auto tokens = TokenSet::from(settings.api_tokens);
  if (!tokens.ok()) return tokens.error();
  auto addr = split_listen(settings.listen);
  if (!addr.ok()) return addr.error();
  auto impl = std::make_unique<Impl>(settings, std::move(deps), std::move(tokens.value()));
  auto dummy = hash_password(random_hex(16));
  if (!dummy.ok()) return dummy.error();
  impl->dummy_hash = dummy.value();
  if (settings.tls.enabled()) {
    auto ssl = std::make_unique<httplib::SSLServer>(settings.tls.cert.c_str(), settings.tls.key.c_str());
    if (!ssl->is_valid()) return make_error("review.tls: cannot load the certificate or key");
    impl->server = std::move(ssl);
  } else {
    impl->server = std::make_unique<httplib::Server>();
  }
  impl->configure(*impl->server);
  impl->host = addr->first;
  if (addr->second == 0) {
    impl->port = impl->server->bind_to_any_port(addr->first);
  } else {
    impl->port = impl->server->bind_to_port(addr->first, addr->second) ? addr->second : -1;
  }
  if (impl->port <= 0) return make_error(fmt::format("review: cannot listen on {}", settings.listen));
  impl->loop.start(*impl->server);
  auto server = std::unique_ptr<ReviewServer>(new ReviewServer(std::move(impl)));
  spdlog::info("review: web page and API on {}", server->url());
  return server;
}

ReviewServer::ReviewServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ReviewServer::~ReviewServer() {
  stop();
}

void ReviewServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  if (impl_->deps.feed) impl_->deps.feed->close();
  impl_->loop.stop(*impl_->server);
}

int ReviewServer::port() const {
  return impl_->port;
}

std::string ReviewServer::url() const {
  const std::string host = impl_->host == "0.0.0.0" ? "127.0.0.1" : impl_->host;
  return fmt::format("{}://{}:{}/", impl_->settings.tls.enabled() ? "https" : "http", host, impl_->port);
}

}  // namespace matthan
