// Config validation: every error names file:line and key; defaults merge into cameras.
#include "matthan/app/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace matthan {
namespace {

ConfigLoad load(const std::string& yaml) {
  return load_config_text(yaml, "cam.yaml", "/etc/matthan");
}

bool has_issue(const ConfigLoad& l, int line, const std::string& key, const std::string& fragment) {
  for (const auto& i : l.issues)
    if (i.line == line && i.key == key && i.message.find(fragment) != std::string::npos) return true;
  return false;
}

const char* kGood = R"(node: demo
storage:
  root: ./var
events:
  bind: tcp://127.0.0.1:5560
defaults:
  detect: {width: 640, height: 360, fps: 5}
  motion: {min_area: 0.002, start_frames: 3, end_seconds: 5}
  clip: {pre_roll: 5, post_roll: 5, max_length: 300}
cameras:
  - id: gate-1
    name: "Cổng làng xóm 3"
    url: rtsp://user:pass@127.0.0.1:8554/vtest
    masks: [[[0.0,0.0],[0.3,0.0],[0.3,0.1],[0.0,0.1]]]
  - id: road_2
    url: rtsp://127.0.0.1:8554/road
    motion: {start_frames: 5}
    clip: {post_roll: 8}
)";

TEST(Config, ParsesTheDocumentedExampleAndMergesDefaults) {
  auto l = load(kGood);
  ASSERT_TRUE(l.ok()) << l.error_text();
  const Config& c = l.config;
  EXPECT_EQ(c.node, "demo");
  EXPECT_EQ(c.storage_root, std::filesystem::path("/etc/matthan/var"));
  ASSERT_EQ(c.cameras.size(), 2u);
  EXPECT_EQ(c.cameras[0].name, "Cổng làng xóm 3");
  ASSERT_EQ(c.cameras[0].masks.size(), 1u);
  EXPECT_EQ(c.cameras[0].masks[0].size(), 4u);
  EXPECT_DOUBLE_EQ(c.cameras[0].masks[0][1][0], 0.3);
  EXPECT_EQ(c.cameras[1].motion.start_frames, 5);          // overridden
  EXPECT_DOUBLE_EQ(c.cameras[1].motion.end_seconds, 5.0);  // from defaults
  EXPECT_DOUBLE_EQ(c.cameras[1].clip.post_roll, 8.0);
  EXPECT_DOUBLE_EQ(c.cameras[1].clip.pre_roll, 5.0);
  EXPECT_EQ(c.cameras[1].name, "road_2");  // name defaults to id
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  auto l = load("node: a\ncameras:\n  - id: a\n    url: rtsp://h/x\n    fsp: 5\n");
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(has_issue(l, 5, "cameras[0].fsp", "unknown key")) << l.error_text();
  EXPECT_NE(l.error_text().find("cam.yaml:5:5: cameras[0].fsp: unknown key"), std::string::npos) << l.error_text();
}

TEST(Config, BadTypeAndOutOfRange) {
  auto l = load("defaults:\n  detect: {width: wide, fps: 500}\ncameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(has_issue(l, 2, "defaults.detect.width", "must be an integer")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 2, "defaults.detect.fps", "out of range")) << l.error_text();
}

TEST(Config, MotionVetoAndGateKeys) {
  auto l = load(
      "defaults:\n  motion: {veto_fraction: 0.7, veto_structure: 0.2, gate: false, gate_persist_s: 1,"
      " gate_travel: 0.1, gate_activity_s: 30, gate_nuisance: 0.3, gate_travel_area: 0.01,"
      " gate_light_match: 0.8}\ncameras:\n  - id: a\n    url: rtsp://h/x\n"
      "  - id: b\n    url: rtsp://h/y\n    motion: {gate: true}\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  const MotionSettings& m = l.config.cameras[0].motion;
  EXPECT_DOUBLE_EQ(m.veto_fraction, 0.7);
  EXPECT_DOUBLE_EQ(m.veto_structure, 0.2);
  EXPECT_FALSE(m.gate);
  EXPECT_DOUBLE_EQ(m.gate_persist_s, 1.0);
  EXPECT_DOUBLE_EQ(m.gate_travel, 0.1);
  EXPECT_DOUBLE_EQ(m.gate_activity_s, 30.0);
  EXPECT_DOUBLE_EQ(m.gate_nuisance, 0.3);
  EXPECT_DOUBLE_EQ(m.gate_travel_area, 0.01);
  EXPECT_DOUBLE_EQ(m.gate_light_match, 0.8);
  EXPECT_TRUE(l.config.cameras[1].motion.gate);
  EXPECT_DOUBLE_EQ(MotionSettings{}.veto_fraction, 0.5);  // the documented defaults
  EXPECT_TRUE(MotionSettings{}.gate);

  auto bad = load("defaults:\n  motion: {veto_fraction: 0.01}\ncameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(has_issue(bad, 2, "defaults.motion.veto_fraction", "out of range")) << bad.error_text();
  auto bad_light = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    motion: {gate_light_match: 0}\n");
  ASSERT_FALSE(bad_light.ok());
  EXPECT_TRUE(has_issue(bad_light, 4, "cameras[0].motion.gate_light_match", "out of range")) << bad_light.error_text();
}

TEST(Config, GateSolidPersistKey) {
  EXPECT_DOUBLE_EQ(MotionSettings{}.gate_solid_persist_s, 0.0);  // the documented default
  auto l = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    motion: {gate_solid_persist_s: 0.4}\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_DOUBLE_EQ(l.config.cameras[0].motion.gate_solid_persist_s, 0.4);
  auto bad = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    motion: {gate_solid_persist_s: -1}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(has_issue(bad, 4, "cameras[0].motion.gate_solid_persist_s", "out of range")) << bad.error_text();
}

TEST(Config, DetectSizeDefaultsToTheCamerasOwnAndIsSetWhole) {
  auto plain = load("cameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_EQ(plain.config.cameras[0].detect.width, 0);  // 0 x 0: no scaling in the pipeline
  EXPECT_EQ(plain.config.cameras[0].detect.height, 0);
  auto sized = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    detect: {width: 640, height: 360}\n");
  ASSERT_TRUE(sized.ok()) << sized.error_text();
  EXPECT_EQ(sized.config.cameras[0].detect.width, 640);
  auto tiny = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    detect: {width: 32, height: 18}\n");
  ASSERT_FALSE(tiny.ok());
  EXPECT_TRUE(has_issue(tiny, 4, "cameras[0].detect.width", "too small")) << tiny.error_text();
  EXPECT_TRUE(has_issue(tiny, 4, "cameras[0].detect.height", "too small")) << tiny.error_text();
  auto half = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    detect: {width: 640}\n");
  ASSERT_FALSE(half.ok());
  EXPECT_TRUE(has_issue(half, 4, "cameras[0].detect", "width and height together")) << half.error_text();
}

TEST(Config, DetectModeDefaultsToEveryFrameMergesFromDefaultsAndRejectsOtherWords) {
  auto plain = load("cameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_EQ(plain.config.cameras[0].detect.mode, DetectMode::kEveryFrame);
  // The node's defaults set it for every camera; a camera may set it back, and other detect keys merge.
  auto merged = load(
      "defaults:\n  detect: {mode: keyframes, fps: 4}\ncameras:\n  - id: a\n    url: rtsp://h/x\n"
      "  - id: b\n    url: rtsp://h/y\n    detect: {mode: every_frame}\n");
  ASSERT_TRUE(merged.ok()) << merged.error_text();
  EXPECT_EQ(merged.config.cameras[0].detect.mode, DetectMode::kKeyframes);
  EXPECT_EQ(merged.config.cameras[1].detect.mode, DetectMode::kEveryFrame);
  EXPECT_EQ(merged.config.cameras[1].detect.fps, 4);
  EXPECT_NE(merged.config.cameras[0], merged.config.cameras[1]);  // a reload restarts a camera whose mode changed
  auto bad = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    detect:\n      mode: iframes\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(has_issue(bad, 5, "cameras[0].detect.mode", "'iframes' is not every_frame or keyframes"))
      << bad.error_text();
  auto wrong_type = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    detect:\n      mode: [keyframes]\n");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_TRUE(has_issue(wrong_type, 5, "cameras[0].detect.mode", "must be a string")) << wrong_type.error_text();
}

TEST(Config, BadUrlIsReportedWithoutThePassword) {
  auto l = load("cameras:\n  - id: a\n    url: rtsp://admin:hunter2@:554/x\n  - id: b\n    url: ftp://h/x\n");
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(has_issue(l, 3, "cameras[0].url", "invalid URL")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 5, "cameras[1].url", "unsupported scheme")) << l.error_text();
  EXPECT_EQ(l.error_text().find("hunter2"), std::string::npos);
}

TEST(Config, DetectUrlIsAnOptionalSecondStreamCheckedLikeUrl) {
  auto l = load(
      "cameras:\n  - id: a\n    url: rtsp://admin:pw@h/main\n    detect_url: rtsp://admin:pw@h/sub\n"
      "  - id: b\n    url: rtsp://h/x\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.cameras[0].detect_url, "rtsp://admin:pw@h/sub");
  EXPECT_TRUE(l.config.cameras[1].detect_url.empty()) << "without detect_url, detection decodes url";
  auto bad = load(
      "cameras:\n  - id: a\n    url: rtsp://h/x\n    detect_url: rtsp://admin:hunter2@:554/s\n"
      "  - id: b\n    url: rtsp://h/y\n    detect_url: rtsp://h/y\n"
      "  - id: c\n    url: rtsp://h/z\n    detect_url: \"\"\n"
      "  - id: d\n    url: rtsp://h/w\n    detect_url: ftp://h/w\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(has_issue(bad, 4, "cameras[0].detect_url", "invalid URL")) << bad.error_text();
  EXPECT_EQ(bad.error_text().find("hunter2"), std::string::npos) << "no password in errors";
  EXPECT_TRUE(has_issue(bad, 7, "cameras[1].detect_url", "same stream as url")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 10, "cameras[2].detect_url", "is empty")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 13, "cameras[3].detect_url", "scheme")) << bad.error_text();
}

TEST(Config, HttpUrlIsAnMjpegCamera) {
  auto l = load(
      "cameras:\n  - id: a\n    url: http://u:p@10.0.0.5/video.mjpg\n  - id: b\n    url: https://cam/mjpg\n"
      "  - id: c\n    url: rtsp://cam/main\n    detect_url: http://cam/sub.mjpg\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.cameras[0].url, "http://u:p@10.0.0.5/video.mjpg");
  EXPECT_EQ(l.config.cameras[2].detect_url, "http://cam/sub.mjpg");
}

TEST(Config, DuplicateIdAndReportsAllErrors) {
  auto l = load(
      "cameras:\n  - id: a\n    url: rtsp://h/x\n  - id: a\n    url: rtsp://h/y\n  - id: Bad!\n    url: rtsp://h/z\n");
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(has_issue(l, 4, "cameras[1].id", "duplicate camera id 'a'")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 6, "cameras[2].id", "must match")) << l.error_text();
  EXPECT_EQ(l.issues.size(), 2u) << l.error_text();
}

TEST(Config, MissingPiecesAndSyntaxErrors) {
  auto none = load("node: x\n");
  EXPECT_TRUE(has_issue(none, 1, "cameras", "is required")) << none.error_text();
  auto noUrl = load("cameras:\n  - id: a\n");
  EXPECT_TRUE(has_issue(noUrl, 2, "cameras[0].url", "is required")) << noUrl.error_text();
  auto syntax = load("cameras: [\n  - id: a\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.issues[0].message.find("YAML syntax error"), std::string::npos);
  EXPECT_GT(syntax.issues[0].line, 0);
  auto bad_mask = load("cameras:\n  - id: a\n    url: rtsp://h/x\n    masks: [[[0,0],[2,0],[1,1]]]\n");
  EXPECT_TRUE(has_issue(bad_mask, 4, "cameras[0].masks[0][1]", "within 0..1")) << bad_mask.error_text();
  auto bad_bind = load("events: {bind: 'localhost'}\ncameras:\n  - id: a\n    url: rtsp://h/x\n");
  EXPECT_TRUE(has_issue(bad_bind, 1, "events.bind", "ZeroMQ endpoint")) << bad_bind.error_text();
}

TEST(Config, MissingFileIsAClearError) {
  auto l = load_config_file("/nonexistent/matthan.yaml");
  ASSERT_FALSE(l.ok());
  EXPECT_NE(l.error_text().find("cannot open"), std::string::npos);
}

TEST(Config, OfflineToolsTakeOneCamerasSettingsFromAFile) {
  const auto dir = std::filesystem::temp_directory_path() / ("matthan-camsettings-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "two.yaml";
  {
    std::ofstream out(path);
    out << "cameras:\n  - id: gate\n    url: rtsp://h/a\n    motion: {start_frames: 2}\n"
           "  - id: road\n    url: rtsp://h/b\n    motion: {start_frames: 4}\n";
  }
  auto first = camera_settings_from(path, "", "--camera");
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->id, "gate");
  EXPECT_EQ(first->motion.start_frames, 2);
  auto road = camera_settings_from(path, "road", "--camera");
  ASSERT_TRUE(road) << road.error().message;
  EXPECT_EQ(road->motion.start_frames, 4);

  auto missing = camera_settings_from(path, "nobody", "--camera-like");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("no camera 'nobody' (--camera-like)"), std::string::npos)
      << missing.error().message;
  auto unreadable = camera_settings_from(dir / "absent.yaml", "", "--camera");
  ASSERT_FALSE(unreadable);
  EXPECT_NE(unreadable.error().message.find("cannot open"), std::string::npos) << unreadable.error().message;
  std::filesystem::remove_all(dir);
}

TEST(Config, StorageRetentionKeysAreTypedAndBounded) {
  auto l = load(
      "storage:\n  max_age_days: 7.5\n  max_bytes: 1000000000\n  min_free_bytes: 0\n  retention_interval: 5\n"
      "cameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_DOUBLE_EQ(l.config.retention.max_age_days, 7.5);
  EXPECT_EQ(l.config.retention.max_bytes, 1000000000u);
  EXPECT_EQ(l.config.retention.min_free_bytes, 0u);
  EXPECT_DOUBLE_EQ(l.config.retention.interval_s, 5.0);
  auto bad = load(
      "storage:\n  max_age_days: -1\n  max_bytes: lots\n  retention_interval: 0\n"
      "cameras:\n  - id: a\n    url: rtsp://h/x\n");
  EXPECT_TRUE(has_issue(bad, 2, "storage.max_age_days", "out of range")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 3, "storage.max_bytes", "must be an integer")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 4, "storage.retention_interval", "out of range")) << bad.error_text();
}

TEST(Config, HealthWatchdogTransportAndOfflineKeys) {
  auto l = load(R"(health: {heartbeat_s: 2}
defaults:
  watchdog: {stall_s: 4, frozen_s: 0}
  offline_after: 12
cameras:
  - id: a
    url: rtsp://127.0.0.1/a
    transport: udp
    watchdog: {max_rate_factor: 5}
  - id: b
    url: rtsp://127.0.0.1/b
)");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.heartbeat_s, 2);
  const auto& a = l.config.cameras[0];
  EXPECT_EQ(to_string(a.transport), "udp");
  EXPECT_EQ(a.watchdog.stall_s, 4);
  EXPECT_EQ(a.watchdog.frozen_s, 0);
  EXPECT_EQ(a.watchdog.max_rate_factor, 5);
  EXPECT_EQ(a.offline_after, 12);
  EXPECT_EQ(to_string(l.config.cameras[1].transport), "auto");
  EXPECT_EQ(l.config.cameras[1].watchdog.max_rate_factor, 3);
}

TEST(Config, IngestBoundsTheCamerasConnectingAtOnce) {
  const char* cams = "cameras:\n  - id: a\n    url: rtsp://127.0.0.1/a\n";
  auto l = load(cams);
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.ingest.max_connecting, 8);
  l = load(std::string("ingest: {max_connecting: 0}\n") + cams);
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.ingest.max_connecting, 0) << "0: no bound";
  l = load(std::string("ingest: {max_connecting: -1, at_once: 2}\n") + cams);
  EXPECT_TRUE(has_issue(l, 1, "ingest.max_connecting", "out of range")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 1, "ingest.at_once", "unknown key")) << l.error_text();
}

TEST(Config, BadHealthKeysAreReportedWithTheirLine) {
  auto l = load(R"(health: {heartbeat_s: 0}
cameras:
  - id: a
    url: rtsp://127.0.0.1/a
    transport: quic
    watchdog: {stall_s: 0.1, bogus: 1}
)");
  EXPECT_TRUE(has_issue(l, 1, "health.heartbeat_s", "out of range")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 5, "cameras[0].transport", "auto, tcp, udp")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 6, "cameras[0].watchdog.stall_s", "out of range")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 6, "cameras[0].watchdog.bogus", "unknown key")) << l.error_text();
}

TEST(Config, MetricsKeys) {
  auto plain = load("cameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_TRUE(plain.ok()) << plain.error_text();
  EXPECT_TRUE(plain.config.metrics.listen.empty());
  EXPECT_FALSE(plain.config.review.metrics_public);

  auto l = load(
      "metrics: {listen: 127.0.0.1:9108}\n"
      "review:\n  metrics_public: true\n  api_tokens: [{name: p, role: viewer, token: abcdefabcdefabcdef}]\n"
      "cameras:\n  - id: a\n    url: rtsp://h/x\n");
  ASSERT_TRUE(l.ok()) << l.error_text();
  EXPECT_EQ(l.config.metrics.listen, "127.0.0.1:9108");
  EXPECT_TRUE(l.config.review.metrics_public);

  auto bad = load(
      "metrics: {listen: everywhere, path: /m}\nreview:\n  metrics_public: maybe\n"
      "  api_tokens: [{name: p, role: viewer, token: abcdefabcdefabcdef}]\n"
      "cameras:\n  - id: a\n    url: rtsp://h/x\n");
  EXPECT_TRUE(has_issue(bad, 1, "metrics.listen", "HOST:PORT")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 1, "metrics.path", "unknown key")) << bad.error_text();
  EXPECT_TRUE(has_issue(bad, 3, "review.metrics_public", "")) << bad.error_text();
}

TEST(Config, TamperDefaultsMergeIntoCameras) {
  auto l = load(R"(defaults:
  tamper: {persist_s: 8, structure_change: 0.7}
cameras:
  - id: a
    url: rtsp://127.0.0.1/a
    tamper: {enabled: false}
  - id: b
    url: rtsp://127.0.0.1/b
    tamper: {persist_s: 3, rebaseline_s: 0, min_stddev: 4}
  - id: c
    url: rtsp://127.0.0.1/c
)");
  ASSERT_TRUE(l.ok()) << l.error_text();
  const auto& cams = l.config.cameras;
  EXPECT_FALSE(cams[0].tamper.enabled);
  EXPECT_EQ(cams[0].tamper.persist_s, 8);
  EXPECT_TRUE(cams[1].tamper.enabled);
  EXPECT_EQ(cams[1].tamper.persist_s, 3);
  EXPECT_EQ(cams[1].tamper.structure_change, 0.7);
  EXPECT_EQ(cams[1].tamper.rebaseline_s, 0);
  EXPECT_EQ(cams[1].tamper.min_stddev, 4);
  EXPECT_EQ(cams[2].tamper.persist_s, 8);
  EXPECT_EQ(cams[2].tamper.sharpness_drop, 0.45);
  EXPECT_EQ(cams[2].tamper.rebaseline_s, 300);
}

TEST(Config, BadTamperKeysAreReportedWithTheirLine) {
  auto l = load(R"(defaults:
  tamper: {persist_s: 0, colour: red}
cameras:
  - id: a
    url: rtsp://127.0.0.1/a
    tamper: {enabled: maybe, structure_change: 2}
  - id: b
    url: rtsp://127.0.0.1/b
    tamper: {persist_s: 10, rebaseline_s: 5}
  - id: c
    url: rtsp://127.0.0.1/c
    tamper: 3
)");
  EXPECT_TRUE(has_issue(l, 2, "defaults.tamper.persist_s", "out of range")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 2, "defaults.tamper.colour", "unknown key")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 6, "cameras[0].tamper.enabled", "true or false")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 6, "cameras[0].tamper.structure_change", "out of range")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 9, "cameras[1].tamper", "rebaseline_s")) << l.error_text();
  EXPECT_TRUE(has_issue(l, 12, "cameras[2].tamper", "mapping")) << l.error_text();
}

}  // namespace
}  // namespace matthan
