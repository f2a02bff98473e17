// The review API against a running daemon: `matthan sim` serves a cut of vtest.avi, `matthan run` records
// incidents and serves the API; a real HTTP client (httplib::Client) checks listing, Range, review and
// evidence persistence across a restart, replay, SSE, and the security rules (401/403/CSRF/rate limit,
// traversal, oversized and garbage bodies).
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "matthan/review/auth.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kViewerPw = "viewer-password";
constexpr const char* kOfficerPw = "officer-password";
constexpr const char* kAdminPw = "admin-password";
constexpr const char* kOfficerToken = "officer-token-0123456789abcdef";
constexpr const char* kViewerToken = "viewer-token-0123456789abcdef";

class ReviewApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-review-it"));
    const fs::path cut = cut_vtest(*dir_, 30);
    ASSERT_FALSE(cut.empty()) << "could not cut vtest.avi with ffmpeg";
    sim_ = new SimCamera("vtest", cut, *dir_);
    ASSERT_TRUE(sim_->ok()) << "matthan sim did not print its URL:\n" << sim_->log();
    port_ = free_tcp_port();
    write_config();
    start_daemon();
    wait_for_finished_incidents(2);
  }

  static void TearDownTestSuite() {
    stop_daemon();
    delete sim_;
    sim_ = nullptr;
    if (dir_ && !::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(daemon_ && daemon_->running()) << "daemon not running";
  }

  static std::string hash(const char* pw) {
    auto h = hash_password(pw);
    return h.ok() ? h.value() : std::string();
  }

  static void write_config() {
    std::ofstream(*dir_ / "review.yaml") << "node: review-it\n"
                                         << "storage: {root: \"" << (*dir_ / "data").string() << "\"}\n"
                                         << "events: {bind: \"tcp://127.0.0.1:" << free_tcp_port() << "\"}\n"
                                         << "defaults:\n"
                                         << "  detect: {width: 640, height: 360, fps: 5}\n"
                                         << "  motion: {min_area: 0.002, start_frames: 3, end_seconds: 2}\n"
                                         << "  clip: {pre_roll: 2, post_roll: 1, max_length: 10}\n"
                                         << "cameras:\n"
                                         << "  - {id: vtest, name: \"Cổng trường\", url: \"" << sim_->url() << "\"}\n"
                                         << "review:\n"
                                         << "  listen: 127.0.0.1:" << port_ << "\n"
                                         << "  login_max_failures: 3\n"
                                         << "  login_lockout: 15\n"
                                         << "  users:\n"
                                         << "    - {name: viewer, role: viewer, password_hash: \"" << hash(kViewerPw)
                                         << "\"}\n"
                                         << "    - {name: officer, role: officer, password_hash: \"" << hash(kOfficerPw)
                                         << "\"}\n"
                                         << "    - {name: admin, role: admin, password_hash: \"" << hash(kAdminPw)
                                         << "\"}\n"
                                         << "  api_tokens:\n"
                                         << "    - {name: robot, role: officer, token: \"" << kOfficerToken << "\"}\n"
                                         << "    - {name: wall, role: viewer, token: \"sha256:"
                                         << sha256_hex(kViewerToken) << "\"}\n";
  }

  static void start_daemon() {
    daemon_ = new Process({matthan_binary().string(), "run", "--config", (*dir_ / "review.yaml").string()},
                          (*dir_ / "daemon.log").string());
    // The URL line comes before streaming starts; wait for /healthz rather than trusting it.
    for (int i = 0; i < 100; ++i) {
      httplib::Client c("127.0.0.1", port_);
      if (auto r = c.Get("/healthz"); r && r->status == 200) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FAIL() << "review server did not answer /healthz; log:\n" << read_file(*dir_ / "daemon.log");
  }

  static void stop_daemon() {
    if (!daemon_) return;
    daemon_->signal(SIGTERM);
    daemon_->wait(std::chrono::seconds(60));
    delete daemon_;
    daemon_ = nullptr;
  }

  static httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_url_encode(false);
    c.set_read_timeout(30, 0);
    return c;
  }

  static httplib::Headers bearer(const char* token) { return {{"Authorization", std::string("Bearer ") + token}}; }

  static json get_json(const std::string& path, const char* token = kOfficerToken) {
    auto r = client().Get(path.c_str(), bearer(token));
    if (!r || r->status != 200) return json();
    return json::parse(r->body, nullptr, false);
  }

  // Incidents whose clip is final; the daemon records vtest's walkers, max_length 10 s ends them.
  static void wait_for_finished_incidents(std::size_t n) {
    for (int i = 0; i < 240; ++i) {
      const json page = get_json("/api/incidents?limit=50");
      std::size_t done = 0;
      if (page.is_object())
        for (const auto& it : page["items"])
          if (ended_with_final_clip(it)) ++done;
      if (done >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    FAIL() << "fewer than " << n << " incidents with a final clip after 120 s; log:\n"
           << read_file(*dir_ / "daemon.log");
  }

  static json finished_incident() {
    const json page = get_json("/api/incidents?limit=50");
    if (!page.is_object()) return json();
    for (const auto& it : page["items"])
      if (ended_with_final_clip(it)) return it;
    return json();
  }

  // An incident that has ended and whose clip is final. A clip can be complete while its incident still
  // goes on (a long incident is split and continues in the next file): such an incident has no `end` yet.
  static bool ended_with_final_clip(const json& it) {
    return it["clip"].is_object() && it["clip"]["state"] == "complete" && it.contains("ended_at") &&
           !it["ended_at"].is_null();
  }

  struct Login {
    std::string cookie;  // "matthan_session=..."
    std::string set_cookie;
    std::string csrf;
  };

  static Login login(const char* user, const char* pw) {
    auto r = client().Post("/api/login", json{{"user", user}, {"password", pw}}.dump(), "application/json");
    Login l;
    if (!r || r->status != 200) return l;
    l.set_cookie = r->get_header_value("Set-Cookie");
    l.cookie = l.set_cookie.substr(0, l.set_cookie.find(';'));
    l.csrf = json::parse(r->body)["csrf"];
    return l;
  }

  static fs::path* dir_;
  static SimCamera* sim_;
  static Process* daemon_;
  static int port_;
};

fs::path* ReviewApi::dir_ = nullptr;
SimCamera* ReviewApi::sim_ = nullptr;
Process* ReviewApi::daemon_ = nullptr;
int ReviewApi::port_ = 0;

TEST_F(ReviewApi, PublicRoutesAndUnauthenticatedRefusals) {
  auto c = client();
  auto health = c.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto page = c.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("/app.js"), std::string::npos);
  EXPECT_NE(page->get_header_value("Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  for (const char* path :
       {"/api/incidents", "/api/cameras", "/api/events?since=0", "/api/session", "/api/admin/config", "/metrics"}) {
    auto r = c.Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
  }
  const std::string id = finished_incident()["id"];
  auto clip = c.Get(("/api/incidents/" + id + "/clip.mp4").c_str());
  ASSERT_TRUE(clip);
  EXPECT_EQ(clip->status, 401);
  auto wrong_token = c.Get("/api/incidents", bearer("not-a-token"));
  ASSERT_TRUE(wrong_token);
  EXPECT_EQ(wrong_token->status, 401);
  auto sha_token = c.Get("/api/incidents", bearer(kViewerToken));  // configured as sha256:<hex>
  ASSERT_TRUE(sha_token);
  EXPECT_EQ(sha_token->status, 200);
}

TEST_F(ReviewApi, LoginSetsAStrictHttpOnlyCookieAndLogoutEndsTheSession) {
  const Login l = login("viewer", kViewerPw);
  ASSERT_FALSE(l.cookie.empty());
  EXPECT_NE(l.set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(l.set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(l.set_cookie.find("Secure"), std::string::npos) << "no TLS here, so no Secure flag";
  auto c = client();
  auto s = c.Get("/api/session", {{"Cookie", l.cookie}});
  ASSERT_TRUE(s);
  ASSERT_EQ(s->status, 200);
  EXPECT_EQ(json::parse(s->body)["role"], "viewer");
  EXPECT_EQ(json::parse(s->body)["time_zone"], "Asia/Ho_Chi_Minh");
  auto no_csrf = c.Post("/api/logout", {{"Cookie", l.cookie}}, "{}", "application/json");
  ASSERT_TRUE(no_csrf);
  EXPECT_EQ(no_csrf->status, 403);
  auto out = c.Post("/api/logout", {{"Cookie", l.cookie}, {"X-CSRF-Token", l.csrf}}, "{}", "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  auto after = c.Get("/api/session", {{"Cookie", l.cookie}});
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 401);
}

TEST_F(ReviewApi, ListsNewestFirstWithCursorPagingAndFilters) {
  const json all = get_json("/api/incidents?limit=50");
  ASSERT_GE(all["items"].size(), 2u);
  for (std::size_t i = 1; i < all["items"].size(); ++i)
    EXPECT_GE(all["items"][i - 1]["started_at_ms"].get<long long>(), all["items"][i]["started_at_ms"].get<long long>());
  const json first = get_json("/api/incidents?limit=1");
  ASSERT_EQ(first["items"].size(), 1u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  EXPECT_EQ(first["items"][0]["id"], all["items"][0]["id"]);
  EXPECT_EQ(first["items"][0]["camera_name"], "Cổng trường");
  const json second = get_json("/api/incidents?limit=1&cursor=" + first["next_cursor"].get<std::string>());
  ASSERT_EQ(second["items"].size(), 1u);
  EXPECT_EQ(second["items"][0]["id"], all["items"][1]["id"]);

  EXPECT_EQ(get_json("/api/incidents?camera=vtest&kind=motion&limit=50")["items"].size(), all["items"].size());
  EXPECT_EQ(get_json("/api/incidents?camera=other")["items"].size(), 0u);
  EXPECT_EQ(get_json("/api/incidents?from=2199-01-01T00:00:00%2B07:00")["items"].size(), 0u);
  EXPECT_GE(get_json("/api/incidents?from=2000-01-01T00:00:00Z&to=2199-01-01T00:00:00Z")["items"].size(), 2u);

  auto c = client();
  for (const char* bad : {"/api/incidents?from=yesterday", "/api/incidents?from=2999-01-01T00:00:00Z",
                          "/api/incidents?limit=0", "/api/incidents?limit=abc", "/api/incidents?state=maybe",
                          "/api/incidents?evidence=1", "/api/incidents?cursor=zz", "/api/incidents?camera=../x",
                          "/api/incidents?colour=red", "/api/events?since=-1", "/api/incidents/bad%20id"}) {
    auto r = c.Get(bad, bearer(kOfficerToken));
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400) << bad << " " << r->body;
    EXPECT_NE(r->body.find("\"error\""), std::string::npos) << bad;
  }
  auto missing = c.Get("/api/incidents/vtest-nope", bearer(kOfficerToken));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ReviewApi, ClipServesRangesWithTheRightBytes) {
  const json inc = finished_incident();
  ASSERT_TRUE(inc.is_object());
  // The clip's file, found through the replayed `end` event (the API never exposes paths).
  std::string rel;
  const json events = get_json("/api/events?since=0&limit=1000");
  for (const auto& e : events["events"])
    if (e["payload"]["id"] == inc["id"] && e["payload"]["clip"].is_object()) rel = e["payload"]["clip"]["path"];
  ASSERT_FALSE(rel.empty());
  const std::string file = read_file(*dir_ / "data" / rel);
  ASSERT_GT(file.size(), 2000u);
  const std::string url = "/api/incidents/" + inc["id"].get<std::string>() + "/clip.mp4";
  auto c = client();
  auto full = c.Get(url.c_str(), bearer(kViewerToken));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 200);
  EXPECT_EQ(full->get_header_value("Content-Type"), "video/mp4");
  EXPECT_EQ(full->body, file);
  if (!inc["clip"]["sha256"].get<std::string>().empty()) {
    EXPECT_EQ(inc["clip"]["sha256"], sha256_hex(file));
  }

  auto part =
      c.Get(url.c_str(), {{"Authorization", std::string("Bearer ") + kViewerToken}, {"Range", "bytes=1000-1999"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, file.substr(1000, 1000));
  EXPECT_EQ(part->get_header_value("Content-Range"), "bytes 1000-1999/" + std::to_string(file.size()));
  auto tail = c.Get(url.c_str(), {{"Authorization", std::string("Bearer ") + kViewerToken}, {"Range", "bytes=-100"}});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, file.substr(file.size() - 100));
  auto beyond = c.Get(url.c_str(), {{"Authorization", std::string("Bearer ") + kViewerToken},
                                    {"Range", "bytes=" + std::to_string(file.size() + 10) + "-"}});
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 416);
  EXPECT_EQ(beyond->get_header_value("Content-Range"), "bytes */" + std::to_string(file.size()));
  auto past_end =
      c.Get(url.c_str(), {{"Authorization", std::string("Bearer ") + kViewerToken}, {"Range", "bytes=10-999999999"}});
  ASSERT_TRUE(past_end);
  EXPECT_EQ(past_end->status, 206);
  EXPECT_EQ(past_end->body, file.substr(10)) << "a range past the end is cut at the end";
  auto missing = c.Get("/api/incidents/vtest-nope/clip.mp4",
                       {{"Authorization", std::string("Bearer ") + kViewerToken}, {"Range", "bytes=0-3"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(json::parse(missing->body, nullptr, false).is_object())
      << "an error body is never cut by a Range: " << missing->body;

  auto snap = c.Get(("/api/incidents/" + inc["id"].get<std::string>() + "/snapshot.jpg").c_str(), bearer(kViewerToken));
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->status, 200);
  ASSERT_GT(snap->body.size(), 3u);
  EXPECT_EQ(static_cast<unsigned char>(snap->body[0]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(snap->body[1]), 0xD8) << "a JPEG starts with FF D8";
}

TEST_F(ReviewApi, TraversalAttemptsGet404) {
  auto c = client();
  const std::string id = finished_incident()["id"];
  const std::vector<std::string> paths{"/../../../../etc/passwd",
                                       "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                                       "/api/incidents/../../etc/passwd/clip.mp4",
                                       "/api/incidents/%2e%2e/clip.mp4",
                                       "/api/incidents/..%2f..%2f..%2fetc%2fpasswd/clip.mp4",
                                       "/api/incidents/%2fetc%2fpasswd/snapshot.jpg",
                                       "/api/incidents/" + id + "/..%2f..%2fclip.mp4",
                                       "/api/incidents/" + id + "/../../index.db",
                                       "/api/cameras/..%2f..%2findex.db/snapshot.jpg",
                                       "/index.db",
                                       "/i18n/../../index.db",
                                       "/%2fetc%2fpasswd"};
  for (const std::string& path : paths) {
    auto r = c.Get(path.c_str(), bearer(kOfficerToken));
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << " -> " << r->body.substr(0, 200);
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << path;
    EXPECT_EQ(r->body.find("SQLite"), std::string::npos) << path;
  }
}

TEST_F(ReviewApi, RolesCsrfAndBadBodies) {
  const std::string id = finished_incident()["id"];
  const std::string review = "/api/incidents/" + id + "/review";
  const std::string body = json{{"state", "reviewed"}, {"note", "viewer try"}}.dump();
  auto c = client();
  const Login viewer = login("viewer", kViewerPw);
  auto v = c.Post(review.c_str(), {{"Cookie", viewer.cookie}, {"X-CSRF-Token", viewer.csrf}}, body, "application/json");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->status, 403) << "a viewer may not review";
  auto vt = c.Post(review.c_str(), bearer(kViewerToken), body, "application/json");
  ASSERT_TRUE(vt);
  EXPECT_EQ(vt->status, 403);
  auto export_viewer = c.Get(("/api/incidents/" + id + "/export").c_str(), bearer(kViewerToken));
  ASSERT_TRUE(export_viewer);
  EXPECT_EQ(export_viewer->status, 403);
  auto admin_cfg = c.Get("/api/admin/config", bearer(kOfficerToken));
  ASSERT_TRUE(admin_cfg);
  EXPECT_EQ(admin_cfg->status, 403) << "only admins see the config";

  const Login officer = login("officer", kOfficerPw);
  auto no_csrf = c.Post(review.c_str(), {{"Cookie", officer.cookie}}, body, "application/json");
  ASSERT_TRUE(no_csrf);
  EXPECT_EQ(no_csrf->status, 403);
  auto wrong_csrf =
      c.Post(review.c_str(), {{"Cookie", officer.cookie}, {"X-CSRF-Token", viewer.csrf}}, body, "application/json");
  ASSERT_TRUE(wrong_csrf);
  EXPECT_EQ(wrong_csrf->status, 403) << "another session's CSRF token must not work";

  const httplib::Headers ok{{"Cookie", officer.cookie}, {"X-CSRF-Token", officer.csrf}};
  const std::vector<std::pair<std::string, std::string>> bad{
      {"not json at all", "application/json"},
      {"[1,2,3]", "application/json"},
      {R"({"state": "maybe"})", "application/json"},
      {R"({"state": 7})", "application/json"},
      {R"({"note": "x"})", "application/json"},
      {R"({"state": "reviewed"})", "text/plain"},
      {std::string(100 * 1024, 'x'), "application/json"},
      {std::string("{\"state\":\"reviewed\",\"note\":\"") + std::string(5000, 'n') + "\"}", "application/json"},
      {std::string("\xff\xfe\x00garbage", 10), "application/json"}};
  for (const auto& [b, type] : bad) {
    auto r = c.Post(review.c_str(), ok, b, type.c_str());
    ASSERT_TRUE(r) << b.substr(0, 40);
    EXPECT_EQ(r->status, 400) << b.substr(0, 40) << " -> " << r->body;
  }
  auto ev_bad = c.Post(("/api/incidents/" + id + "/evidence").c_str(), ok, R"({"hold": "yes"})", "application/json");
  ASSERT_TRUE(ev_bad);
  EXPECT_EQ(ev_bad->status, 400);
  EXPECT_TRUE(daemon_->running()) << "bad input must never crash the daemon";

  auto admin = login("admin", kAdminPw);
  auto cfg = c.Get("/api/admin/config", {{"Cookie", admin.cookie}});
  ASSERT_TRUE(cfg);
  ASSERT_EQ(cfg->status, 200);
  EXPECT_EQ(cfg->body.find("argon2id"), std::string::npos) << "no password hashes in the admin view";
  EXPECT_EQ(cfg->body.find(kOfficerToken), std::string::npos);
}

TEST_F(ReviewApi, ReplayBySeqAndLiveStream) {
  const json first = get_json("/api/events?since=0&limit=2");
  ASSERT_EQ(first["events"].size(), 2u);
  EXPECT_EQ(first["events"][0]["seq"], 1);
  EXPECT_EQ(first["events"][1]["seq"], 2);
  EXPECT_GE(first["last_seq"].get<long long>(), 2);
  const json after = get_json("/api/events?since=1&limit=1");
  ASSERT_EQ(after["events"].size(), 1u);
  EXPECT_EQ(after["events"][0]["seq"], 2);
  EXPECT_EQ(after["events"][0]["payload"]["seq"], 2);

  // Health and heartbeat messages share seq with incidents, so seq 1 need not be an incident: find the
  // first incident (and the first other message, if one came before it) in the replay.
  const json replayed = get_json("/api/events?since=0&limit=1000");
  long long first_incident = 0, first_other = 0;
  for (const json& e : replayed["events"]) {
    const bool incident = e["topic"].get<std::string>().rfind("incident.", 0) == 0;
    if (incident && first_incident == 0) first_incident = e["seq"].get<long long>();
    if (!incident && first_other == 0) first_other = e["seq"].get<long long>();
  }
  ASSERT_GT(first_incident, 0) << "the fixture waited for finished incidents, so one is in the index";
  const long long last_wanted = std::max<long long>(2, first_incident);

  // SSE from seq 0: the buffered events arrive at once, with their ids; incidents as `event: incident`,
  // everything else (health, heartbeat) as `event: message`.
  std::string received;
  auto c = client();
  c.set_read_timeout(20, 0);
  const std::string stop_at = "id: " + std::to_string(last_wanted) + "\n";
  c.Get("/api/events/stream?since=0", bearer(kViewerToken), [&](const char* data, std::size_t n) {
    received.append(data, n);
    return received.find(stop_at) == std::string::npos;  // stop reading once that seq arrived
  });
  EXPECT_NE(received.find("id: 1\nevent: "), std::string::npos) << received.substr(0, 300);
  EXPECT_NE(received.find("id: 2\n"), std::string::npos);
  EXPECT_NE(received.find("id: " + std::to_string(first_incident) + "\nevent: incident\ndata: {"), std::string::npos)
      << received.substr(0, 300);
  if (first_other > 0 && first_other < first_incident) {
    EXPECT_NE(received.find("id: " + std::to_string(first_other) + "\nevent: message\ndata: {"), std::string::npos)
        << received.substr(0, 300);
  }
}

TEST_F(ReviewApi, CamerasReportHealth) {
  const json cams = get_json("/api/cameras", kViewerToken);
  ASSERT_EQ(cams["cameras"].size(), 1u);
  const json& cam = cams["cameras"][0];
  EXPECT_EQ(cam["id"], "vtest");
  EXPECT_EQ(cam["state"], "streaming");
  EXPECT_TRUE(cam["online"].get<bool>());
  ASSERT_TRUE(cam["global_changes"].is_number_unsigned()) << cam.dump();  // vtest has no lighting step
  EXPECT_EQ(cam["global_changes"], 0);
  EXPECT_TRUE(cam["snapshot_url"].is_string());
  EXPECT_FALSE(cam.contains("details")) << "health details are for admins";
  auto snap = client().Get(cam["snapshot_url"].get<std::string>().c_str(), bearer(kViewerToken));
  ASSERT_TRUE(snap);
  EXPECT_EQ(snap->status, 200);
}

TEST_F(ReviewApi, ExportIsOneTarWithManifestHashes) {
  const json inc = finished_incident();
  auto r = client().Get(("/api/incidents/" + inc["id"].get<std::string>() + "/export").c_str(), bearer(kOfficerToken));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size() % 512, 0u);
  const fs::path tar = *dir_ / "export.tar";
  std::ofstream(tar, std::ios::binary) << r->body;
  const fs::path out = *dir_ / "export";
  fs::create_directories(out);
  auto [rc, log] = run_command({"tar", "-xf", tar.string(), "-C", out.string()});
  ASSERT_EQ(rc, 0) << log;
  const fs::path d = out / inc["id"].get<std::string>();
  const json manifest = json::parse(read_file(d / "manifest.json"));
  std::set<std::string> names;
  for (const auto& f : manifest["files"]) {
    names.insert(f["name"]);
    const std::string data = read_file(d / f["name"].get<std::string>());
    EXPECT_EQ(f["bytes"].get<std::size_t>(), data.size()) << f["name"];
    EXPECT_EQ(f["sha256"], sha256_hex(data)) << f["name"];
  }
  EXPECT_EQ(names, (std::set<std::string>{"clip.mp4", "snapshot.jpg", "incident.json"}));
  EXPECT_EQ(manifest["exported_by"], "robot");
}

TEST_F(ReviewApi, LoginIsRateLimitedPerAddress) {
  auto c = client();
  const std::string bad = json{{"user", "officer"}, {"password", "wrong"}}.dump();
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/api/login", bad, "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401);
  }
  auto locked = c.Post("/api/login", json{{"user", "officer"}, {"password", kOfficerPw}}.dump(), "application/json");
  ASSERT_TRUE(locked);
  EXPECT_EQ(locked->status, 429) << "even the right password is refused while the address is locked out";
  EXPECT_FALSE(locked->get_header_value("Retry-After").empty());
  // login_lockout is 15 s in this config (long enough that slow argon2id checks on a loaded machine
  // cannot outlast it); the lockout must end by itself.
  bool back = false;
  for (int i = 0; i < 60 && !back; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    back = !login("officer", kOfficerPw).cookie.empty();
  }
  EXPECT_TRUE(back) << "the lockout ends";
}

// Last: it restarts the daemon.
TEST_F(ReviewApi, ZReviewAndEvidencePersistAcrossRestart) {
  const std::string id = finished_incident()["id"];
  const Login officer = login("officer", kOfficerPw);
  auto c = client();
  const httplib::Headers h{{"Cookie", officer.cookie}, {"X-CSRF-Token", officer.csrf}};
  auto r = c.Post(("/api/incidents/" + id + "/review").c_str(), h,
                  json{{"state", "reviewed"}, {"note", "người đi bộ"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["review"]["state"], "reviewed");
  // A bearer token needs no CSRF token (no ambient credentials).
  auto e = c.Post(("/api/incidents/" + id + "/evidence").c_str(), bearer(kOfficerToken),
                  json{{"hold", true}, {"note", "giữ làm chứng cứ"}}.dump(), "application/json");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->status, 200) << e->body;
  EXPECT_EQ(get_json("/api/incidents?state=reviewed&evidence=true&limit=50")["items"].size(), 1u);

  stop_daemon();
  start_daemon();
  const json after = get_json("/api/incidents/" + id);
  ASSERT_TRUE(after.is_object());
  EXPECT_EQ(after["review"]["state"], "reviewed");
  EXPECT_TRUE(after["review"]["evidence"].get<bool>());
  EXPECT_EQ(after["review"]["note"], "giữ làm chứng cứ");
  EXPECT_EQ(after["review"]["by"], "robot");
  auto old_session = client().Get("/api/session", {{"Cookie", officer.cookie}});
  ASSERT_TRUE(old_session);
  EXPECT_EQ(old_session->status, 401) << "sessions live in memory: a restart logs everybody out";
}

}  // namespace
}  // namespace matthan::test
