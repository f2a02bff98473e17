// The review server over real loopback HTTP with a real index in a temp dir, for the point fixes of
// issue 19 (D5, D9–D13, D15): each test names the item it holds.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http_util.hpp"
#include "matthan/review/live.hpp"
#include "matthan/review/server.hpp"
#include "matthan/storage/file_hash.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/test/paths.hpp"

namespace matthan {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kViewerToken = "viewer-token-0123456789abcdef";
constexpr const char* kOfficerToken = "officer-token-0123456789abcdef";
constexpr const char* kAdminToken = "admin-token-0123456789abcdef";

class FakeLive : public LiveStatus {
 public:
  std::vector<CameraStatus> cameras() const override { return cameras_; }
  std::vector<CameraStatus> cameras_;
};

WallTime ms_time(std::int64_t ms) {
  return WallTime(std::chrono::milliseconds(ms));
}

// A review server on a free loopback port over a real index; clips live under dir/data.
class ReviewServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::make_temp_dir("matthan-review-server");
    root_ = dir_ / "data";
    fs::create_directories(root_);
    auto ix = Index::open(dir_ / "index.db");
    ASSERT_TRUE(ix.ok()) << ix.error().message;
    index_ = std::move(ix).value();
  }
  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    index_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  ReviewSettings settings() const {
    ReviewSettings s;
    s.enabled = true;
    s.listen = "127.0.0.1:0";
    s.api_tokens = {ApiToken{"wall", Role::kViewer, kViewerToken}, ApiToken{"robot", Role::kOfficer, kOfficerToken},
                    ApiToken{"root", Role::kAdmin, kAdminToken}};
    return s;
  }

  void start(const ReviewSettings& s) {
    ReviewDeps deps;
    deps.index = index_.get();
    deps.storage_root = root_;
    deps.live = &live_;
    deps.feed = &feed_;
    deps.node = "unit";
    auto srv = ReviewServer::start(s, std::move(deps));
    ASSERT_TRUE(srv.ok()) << srv.error().message;
    server_ = std::move(srv).value();
  }
  void start() { start(settings()); }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(5, 0);
    return c;
  }
  static httplib::Headers bearer(const char* token) { return {{"Authorization", std::string("Bearer ") + token}}; }

  // An ended incident with a complete clip of `clip_bytes` at `clip_rel` (the file is written unless empty).
  void add_incident(const std::string& id, const std::string& camera, const std::string& clip_rel,
                    const std::string& clip_bytes) {
    if (!clip_bytes.empty()) {
      fs::create_directories((root_ / clip_rel).parent_path());
      std::ofstream(root_ / clip_rel, std::ios::binary) << clip_bytes;
    }
    ClipRecord c;
    c.path = clip_rel;
    c.camera = camera;
    c.start = ms_time(1'700'000'000'000);
    c.end = ms_time(1'700'000'010'000);
    c.bytes = clip_bytes.size();
    c.state = ClipState::kComplete;
    auto clip_id = index_->add_clip(c);
    ASSERT_TRUE(clip_id.ok()) << clip_id.error().message;
    IncidentRecord r;
    r.id = id;
    r.camera = camera;
    r.kind = "motion";
    r.started_at = ms_time(1'700'000'001'000);
    r.ended_at = ms_time(1'700'000'009'000);
    r.clip_id = clip_id.value();
    ASSERT_TRUE(index_->upsert_incident(r).ok());
  }

  fs::path dir_, root_;
  std::unique_ptr<Index> index_;
  FakeLive live_;
  EventFeed feed_;
  std::unique_ptr<ReviewServer> server_;
};

// ---- D15: a FIFO or a symlink swapped into the storage root ----

TEST_F(ReviewServerTest, AFifoAtAClipPathIsRefusedNotWaitedOn) {
  add_incident("cam-1", "cam", "clips/cam/1.mp4", "");
  fs::create_directories(root_ / "clips/cam");
  const fs::path fifo = root_ / "clips/cam/1.mp4";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  start();
  // The clip answers 404; the export goes out without the clip (as for a clip missing from disk).
  for (const char* what : {"/clip.mp4", "/export"}) {
    auto fut = std::async(std::launch::async, [&] {
      auto r = client().Get((std::string("/api/incidents/cam-1") + what).c_str(), bearer(kOfficerToken));
      if (!r) return -1;
      return r->body.find("\"name\": \"clip.mp4\"") == std::string::npos ? r->status : 299;  // in the manifest
    });
    if (fut.wait_for(std::chrono::seconds(4)) == std::future_status::timeout) {
      ADD_FAILURE() << what << ": the server blocked on the FIFO";
      const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // lets the blocked open return
      if (w >= 0) ::close(w);
    }
    EXPECT_EQ(fut.get(), std::string(what) == "/export" ? 200 : 404) << what;
  }
}

TEST_F(ReviewServerTest, ASymlinkToEtcPasswdIsNotServed) {
  add_incident("cam-1", "cam", "clips/cam/1.mp4", "");
  fs::create_directories(root_ / "clips/cam");
  fs::create_symlink("/etc/passwd", root_ / "clips/cam/1.mp4");
  start();
  for (const char* id : {"cam-1"}) {
    auto clip = client().Get((std::string("/api/incidents/") + id + "/clip.mp4").c_str(), bearer(kOfficerToken));
    ASSERT_TRUE(clip) << id;
    EXPECT_EQ(clip->status, 404) << id;
    EXPECT_EQ(clip->body.find("root:"), std::string::npos) << id;
    auto tar = client().Get((std::string("/api/incidents/") + id + "/export").c_str(), bearer(kOfficerToken));
    ASSERT_TRUE(tar) << id;
    EXPECT_EQ(tar->body.find("root:"), std::string::npos) << id;
  }
}

// ---- D5: the export of a camera with a 64-character id ----

TEST_F(ReviewServerTest, ExportOfALongCameraIdListsEveryMemberWhole) {
  const std::string camera(64, 'k');  // the longest camera id the config allows
  const std::string id = camera + "-20261208T014114Z-12300abcdef";
  add_incident(id, camera, "clips/" + camera + "/" + id + ".mp4", std::string(3000, 'v'));
  start();
  auto r = client().Get(("/api/incidents/" + id + "/export").c_str(), bearer(kOfficerToken));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::ofstream(dir_ / "export.tar", std::ios::binary) << r->body;
  const fs::path list = dir_ / "list.txt";
  ASSERT_EQ(std::system(("tar -tf " + (dir_ / "export.tar").string() + " > " + list.string()).c_str()), 0);
  std::vector<std::string> names;
  std::istringstream in(test::read_file(list));
  for (std::string line; std::getline(in, line);) names.push_back(line);
  EXPECT_EQ(names, (std::vector<std::string>{id + "/clip.mp4", id + "/incident.json", id + "/manifest.json"}));
}

// ---- D12: the manifest hashes the bytes that are sent ----

TEST_F(ReviewServerTest, ManifestHashIsTheHashOfTheClipInTheBundleEvenIfTheFileChangesMidExport) {
  // Large enough that the server is still reading the clip when the first bytes reach the client (the
  // loopback socket buffers hold a few MB at most).
  std::string clip(24 << 20, '\0');
  for (std::size_t i = 0; i < clip.size(); ++i) clip[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string rel = "clips/cam/1.mp4";
  add_incident("cam-1", "cam", rel, clip);
  start();
  std::string body;
  bool changed = false;
  auto c = client();
  auto r = c.Get("/api/incidents/cam-1/export", bearer(kOfficerToken), [&](const char* data, std::size_t n) {
    body.append(data, n);
    if (!changed) {
      // The clip is overwritten in place while the export streams (a writer, a repair, an attacker).
      std::fstream f(root_ / rel, std::ios::in | std::ios::out | std::ios::binary);
      f.write(std::string(clip.size(), 'X').data(), static_cast<std::streamsize>(clip.size()));
      changed = true;
    }
    return true;
  });
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  std::ofstream(dir_ / "export.tar", std::ios::binary) << body;
  fs::create_directories(dir_ / "out");
  ASSERT_EQ(std::system(("tar -xf " + (dir_ / "export.tar").string() + " -C " + (dir_ / "out").string()).c_str()), 0);
  const json manifest = json::parse(test::read_file(dir_ / "out/cam-1/manifest.json"));
  ASSERT_EQ(manifest["files"].size(), 2u);
  for (const auto& f : manifest["files"]) {
    const fs::path member = dir_ / "out/cam-1" / f["name"].get<std::string>();
    EXPECT_EQ(f["sha256"], sha256_file(member).value()) << f["name"];
    EXPECT_EQ(f["bytes"], fs::file_size(member)) << f["name"];
  }
}

// ---- D13: HSTS under TLS ----

// A self-signed certificate for 127.0.0.1 made with the openssl tool; false when it cannot be made.
bool make_certificate(const fs::path& dir) {
  const std::string cmd =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "
      "/CN=127.0.0.1 -keyout " +
      (dir / "key.pem").string() + " -out " + (dir / "cert.pem").string() + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

TEST_F(ReviewServerTest, EveryResponseUnderTlsCarriesHsts) {
  if (!make_certificate(dir_)) GTEST_SKIP() << "the openssl tool could not make a certificate";
  ReviewSettings s = settings();
  s.tls.cert = dir_ / "cert.pem";
  s.tls.key = dir_ / "key.pem";
  start(s);
  httplib::SSLClient c("127.0.0.1", server_->port());
  c.enable_server_certificate_verification(false);
  c.set_read_timeout(5, 0);
  // A page, a public route, an API answer, a refusal, a missing route and a bad request.
  const std::vector<std::pair<std::string, httplib::Headers>> requests{
      {"/", {}},
      {"/healthz", {}},
      {"/api/incidents", bearer(kViewerToken)},
      {"/api/incidents", {}},
      {"/api/incidents/nope", bearer(kViewerToken)},
      {"/api/incidents?limit=0", bearer(kViewerToken)}};
  for (const auto& [path, headers] : requests) {
    auto r = c.Get(path.c_str(), headers);
    ASSERT_TRUE(r) << path << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->get_header_value("Strict-Transport-Security"), "max-age=31536000") << path << " " << r->status;
  }
  auto login = c.Post("/api/login", R"({"user":"nobody","password":"x"})", "application/json");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 401);
  EXPECT_EQ(login->get_header_value("Strict-Transport-Security"), "max-age=31536000");
}

TEST_F(ReviewServerTest, PlainHttpSendsNoHsts) {
  start();
  auto r = client().Get("/healthz");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Strict-Transport-Security"));
}

// ---- D9: user-supplied text cannot forge log lines ----

// Sends the default logger's lines to a string for the scope's life; the old logger comes back after.
class LogCapture {
 public:
  LogCapture() : old_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_pattern("[%l] %v");
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(old_); }
  std::vector<std::string> lines() {
    spdlog::default_logger()->flush();
    std::vector<std::string> out;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
};

TEST_F(ReviewServerTest, ALoginNameWithANewlineLogsOneLine) {
  start();
  LogCapture log;
  const std::string forged = "x\n[info] review: 'admin' logged in from 10.0.0.1";
  auto r = client().Post("/api/login", json{{"user", forged}, {"password", "guess"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  const auto lines = log.lines();
  ASSERT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
  EXPECT_NE(lines[0].find("failed login for 'x\\n[info] review: 'admin' logged in"), std::string::npos) << lines[0];
}

TEST(ReviewLogSafe, ControlCharactersAreEscapedAndTextStaysReadable) {
  using review_detail::log_safe;
  EXPECT_EQ(log_safe("officer.an"), "officer.an");
  EXPECT_EQ(log_safe("Nguyễn Văn An"), "Nguyễn Văn An");  // UTF-8 names stay as they are
  EXPECT_EQ(log_safe("x\n[info] forged\r\t"), "x\\n[info] forged\\r\\t");
  EXPECT_EQ(log_safe(std::string("a\0b\x1b[31m\x7f", 9)), "a\\x00b\\x1b[31m\\x7f");
  EXPECT_EQ(log_safe("C:\\n"), "C:\\\\n");  // a literal backslash cannot pass for an escape
}

// ---- D11: camera failure reasons are for admins, in the events feed as in /api/cameras ----

constexpr const char* kSecretReason = "rtsp://10.1.2.3:554/Streaming/Channels/101: 401 Unauthorized (nvr-7 firmware)";

std::string health_payload(std::uint64_t seq, const char* stream) {
  nlohmann::ordered_json j;
  j["schema"] = "matthan.health/1";
  j["seq"] = seq;
  j["node"] = "unit";
  j["camera"] = "gate";
  if (std::string(stream) != "record") j["stream"] = stream;
  j["state"] = "backoff";
  j["online"] = false;
  j["reason"] = kSecretReason;
  j["at"] = "2026-12-08T01:00:00.000+07:00";
  return j.dump();
}

class ReviewEventsTest : public ReviewServerTest {
 protected:
  void SetUp() override {
    ReviewServerTest::SetUp();
    const std::string incident = R"({"schema":"matthan.incident/1","seq":3,"id":"gate-1","camera":"gate"})";
    const std::vector<std::pair<std::string, std::string>> events{{"health.gate", health_payload(1, "record")},
                                                                  {"health.gate", health_payload(2, "detect")},
                                                                  {"incident.gate.start", incident}};
    std::uint64_t seq = 0;
    for (const auto& [topic, payload] : events) {
      ASSERT_TRUE(index_->record_event(++seq, topic, payload, ms_time(1'700'000'000'000)).ok());
      feed_.push(FeedEvent{seq, topic, payload});
    }
    start();
  }
  // The SSE stream from seq 0 until the incident (seq 3) has come.
  std::string stream(const char* token) {
    std::string got;
    auto c = client();
    c.Get("/api/events/stream?since=0", bearer(token), [&](const char* data, std::size_t n) {
      got.append(data, n);
      return got.find("id: 3\n") == std::string::npos && got.size() < 100000;
    });
    return got;
  }
};

TEST_F(ReviewEventsTest, ViewersAndOfficersSeeNoFailureReasonInReplayOrStream) {
  for (const char* token : {kViewerToken, kOfficerToken}) {
    auto r = client().Get("/api/events?since=0", bearer(token));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(r->body.find("Unauthorized"), std::string::npos) << r->body;
    const json j = json::parse(r->body);
    ASSERT_EQ(j["events"].size(), 3u);
    for (int i : {0, 1}) {
      EXPECT_TRUE(j["events"][i]["payload"]["reason"].is_null()) << j["events"][i];
      EXPECT_EQ(j["events"][i]["payload"]["state"], "backoff");  // the rest of the event is untouched
    }
    EXPECT_EQ(j["events"][1]["payload"]["stream"], "detect");
    EXPECT_EQ(j["events"][2]["payload"]["id"], "gate-1");

    const std::string sse = stream(token);
    EXPECT_NE(sse.find("id: 3\n"), std::string::npos) << sse;
    EXPECT_EQ(sse.find("Unauthorized"), std::string::npos) << sse;
    EXPECT_NE(sse.find(R"("state":"backoff","online":false,"reason":null)"), std::string::npos) << sse;
  }
}

TEST_F(ReviewEventsTest, AdminsSeeTheFailureReason) {
  const json j = json::parse(client().Get("/api/events?since=0", bearer(kAdminToken))->body);
  EXPECT_EQ(j["events"][0]["payload"]["reason"], kSecretReason);
  EXPECT_EQ(j["events"][1]["payload"]["reason"], kSecretReason);
  const std::string sse = stream(kAdminToken);
  EXPECT_NE(sse.find(health_payload(2, "detect")), std::string::npos) << sse;  // byte for byte as published
}

}  // namespace
}  // namespace matthan
