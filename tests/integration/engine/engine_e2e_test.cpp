// End to end through real parts: `matthan sim` serves a cut of vtest.avi over RTSP on 127.0.0.1,
// `matthan run` ingests it, a real ZeroMQ subscriber checks the events, ffprobe/ffmpeg check the clips.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <sstream>

#include "event_collector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

// "2026-11-28T19:30:12.345+07:00" -> seconds since the epoch.
double parse_iso(const std::string& s) {
  int Y, M, D, h, m, sec, ms, oh, om;
  char sign;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%d%c%d:%d", &Y, &M, &D, &h, &m, &sec, &ms, &sign, &oh, &om) != 10)
    return -1;
  std::tm tm{};
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = sec;
  const double offset = (oh * 3600 + om * 60) * (sign == '-' ? -1 : 1);
  return static_cast<double>(timegm(&tm)) + ms / 1000.0 - offset;
}

std::vector<fs::path> files_with_suffix(const fs::path& root, const std::string& suffix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::end(it); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      out.push_back(it->path());
  }
  return out;
}

class EngineE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = new fs::path(make_temp_dir("matthan-e2e"));
    const fs::path cut = cut_vtest(*dir_, 30);
    ASSERT_FALSE(cut.empty()) << "could not cut vtest.avi with ffmpeg";
    sim_ = new SimCamera("vtest", cut, *dir_);
    ASSERT_TRUE(sim_->ok()) << "matthan sim did not print its URL:\n" << sim_->log();
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
    if (dir_) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_TRUE(sim_ && sim_->ok());
    auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
    ASSERT_TRUE(v.ok()) << v.error().message;
    validator_ = std::make_unique<JsonSchemaValidator>(std::move(v.value()));
  }

  // A config for the simulated camera; returns its path. Storage goes to `root`.
  fs::path write_config(const fs::path& root, int events_port, double max_length, const std::string& name,
                        const std::string& detect = "{width: 640, height: 360, fps: 5}", const std::string& top = "") {
    const fs::path cfg = *dir_ / (name + ".yaml");
    std::ofstream(cfg) << "node: it-node\n"
                       << "storage: {root: \"" << root.string() << "\"}\n"
                       << "events: {bind: \"tcp://127.0.0.1:" << events_port << "\"}\n"
                       << top << "defaults:\n"
                       << "  detect: " << detect << "\n"
                       << "  motion: {min_area: 0.002, start_frames: 3, end_seconds: 2}\n"
                       << "  clip: {pre_roll: 3, post_roll: " << kPostRoll << ", max_length: " << max_length << "}\n"
                       << "cameras:\n"
                       << "  - id: vtest\n"
                       << "    name: \"Cổng trường\"\n"
                       << "    url: " << sim_->url() << "\n"
                       << "    masks: [[[0.0,0.0],[0.2,0.0],[0.2,0.1],[0.0,0.1]]]\n";
    return cfg;
  }

  std::vector<std::string> run_args(const fs::path& cfg) {
    return {matthan_binary().string(), "run", "--config", cfg.string()};
  }

  // Checks every message: topic form, schema, seq strictly increasing.
  void check_stream(const std::vector<ReceivedEvent>& events) {
    std::uint64_t last = 0;
    for (const auto& e : events) {
      ASSERT_FALSE(e.json.is_discarded()) << e.payload;
      auto st = validator_->validate(e.payload);
      EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message) << "\n" << e.payload;
      const std::uint64_t seq = e.json.value("seq", 0ull);
      EXPECT_GT(seq, last) << "seq must strictly increase";
      last = seq;
      EXPECT_EQ(e.topic, "incident." + e.json.value("camera", "") + "." + e.json.value("phase", ""));
    }
  }

  void check_clip(const fs::path& root, const nlohmann::json& end, bool full_post_roll) {
    ASSERT_TRUE(end["clip"].is_object()) << end.dump();
    const fs::path clip = root / end["clip"]["path"].get<std::string>();
    ASSERT_TRUE(fs::exists(clip)) << clip;
    const ClipProbe p = probe_clip(clip);
    ASSERT_TRUE(p.opened) << p.errors;
    EXPECT_EQ(p.codec, "h264");
    EXPECT_EQ(p.codec_tag, "avc1");
    EXPECT_TRUE(p.first_packet_keyframe) << clip;
    EXPECT_TRUE(p.decodes_cleanly) << p.errors;
    const double incident_s = parse_iso(end["ended_at"]) - parse_iso(end["started_at"]);
    EXPECT_GE(incident_s, 0.0);
    if (full_post_roll) {
      EXPECT_GE(p.duration_s + 0.25, incident_s + kPostRoll)
          << "clip " << p.duration_s << " s, incident " << incident_s << " s, post-roll " << kPostRoll;
    } else {
      EXPECT_GT(p.duration_s, 0.5);
    }
    EXPECT_NEAR(end["clip"]["duration_s"].get<double>(), p.duration_s, 0.3);
  }

  void check_snapshot(const fs::path& root, const nlohmann::json& e) {
    const fs::path snap = root / e["snapshot"].get<std::string>();
    const cv::Mat img = cv::imread(snap.string());
    ASSERT_FALSE(img.empty()) << "snapshot does not decode as an image: " << snap;
    EXPECT_NEAR(static_cast<double>(img.cols) / img.rows, 768.0 / 576.0, 0.05) << "snapshot keeps the camera's aspect";
  }

  static constexpr double kPostRoll = 2.0;
  static fs::path* dir_;
  static SimCamera* sim_;
  std::unique_ptr<JsonSchemaValidator> validator_;
};

fs::path* EngineE2E::dir_ = nullptr;
SimCamera* EngineE2E::sim_ = nullptr;

TEST_F(EngineE2E, RunPublishesStartAndEndWithPlayableClipAndSnapshot) {
  const fs::path root = *dir_ / "run1";
  const int port = free_tcp_port();
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  // `matthan tail` is a second, independent subscriber: it must print events as JSON lines.
  Process tail({matthan_binary().string(), "tail", "--connect", "tcp://127.0.0.1:" + std::to_string(port), "--topic",
                "incident.vtest.", "--count", "2"});
  auto args = run_args(write_config(root, port, /*max_length=*/12, "run1"));
  args.insert(args.end(), {"--for", "32"});
  Process engine(args, (*dir_ / "run1.log").string());
  const auto rc = engine.wait(std::chrono::seconds(90));
  ASSERT_TRUE(rc.has_value()) << "engine did not stop after --for";
  EXPECT_EQ(*rc, 0) << engine.output();
  events.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; },
                  std::chrono::seconds(2));

  const auto ev = events.events();
  ASSERT_FALSE(ev.empty()) << "no events received; engine stdout:\n" << engine.output();
  check_stream(ev);
  // health.<camera> messages share the node's seq (and come first), so the first incident is not seq 1.
  EXPECT_GE(ev.front().json["seq"].get<std::uint64_t>(), 2u) << "a fresh index: health first, then incidents";

  std::set<std::string> started;
  int full_ends = 0;
  for (const auto& e : ev) {
    const std::string phase = e.json["phase"];
    EXPECT_EQ(e.json["camera"], "vtest");
    EXPECT_EQ(e.json["node"], "it-node");
    EXPECT_EQ(e.json["kind"], "motion");
    if (phase == "start") {
      started.insert(e.json["id"].get<std::string>());
      check_snapshot(root, e.json);
    }
    if (phase == "end") {
      EXPECT_TRUE(started.count(e.json["id"].get<std::string>())) << "end without start: " << e.payload;
      const bool natural = e.json.value("end_reason", "") != "shutdown";
      check_clip(root, e.json, natural);
      if (natural) ++full_ends;
    }
  }
  EXPECT_GE(started.size(), 1u);
  EXPECT_GE(full_ends, 1) << "vtest has people walking throughout; max_length 12 s must end one incident in 32 s";
  EXPECT_TRUE(files_with_suffix(root, ".part").empty()) << "temporary clip files left behind";
  EXPECT_TRUE(fs::exists(root / "index.db"));
  ASSERT_EQ(tail.wait(std::chrono::seconds(5)), 0) << "matthan tail did not exit after --count 2";
  int tail_lines = 0;
  std::istringstream lines(tail.output());
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "tail printed a line that is not JSON: " << line;
    EXPECT_TRUE(validator_->validate(line).ok()) << line;
    ++tail_lines;
  }
  EXPECT_EQ(tail_lines, 2);
  // The console says what happened, one line per start and end.
  EXPECT_NE(engine.output().find("START  vtest"), std::string::npos) << engine.output();
  EXPECT_NE(engine.output().find("END    vtest"), std::string::npos) << engine.output();
}

TEST_F(EngineE2E, SigtermMidIncidentEndsItAndFinishesItsClip) {
  const fs::path root = *dir_ / "kill";
  const int port = free_tcp_port();
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  Process engine(run_args(write_config(root, port, /*max_length=*/120, "kill")), (*dir_ / "kill.log").string());
  ASSERT_TRUE(events.wait_for([](auto& ev) { return !ev.empty() && ev.front().json.value("phase", "") == "start"; },
                              std::chrono::seconds(60)))
      << "no incident started; engine stdout:\n"
      << engine.output();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // mid-incident, with a clip being written
  const std::string id = events.events().front().json["id"];
  engine.signal(SIGTERM);
  const auto rc = engine.wait(std::chrono::seconds(30));
  ASSERT_TRUE(rc.has_value()) << "engine did not stop on SIGTERM";
  EXPECT_EQ(*rc, 0);
  ASSERT_TRUE(events.wait_for(
      [&](auto& ev) {
        for (auto& e : ev)
          if (e.json.value("phase", "") == "end" && e.json.value("id", "") == id) return true;
        return false;
      },
      std::chrono::seconds(5)))
      << "the open incident got no end event";
  const auto ev = events.events();
  check_stream(ev);
  for (const auto& e : ev) {
    if (e.json.value("phase", "") != "end" || e.json.value("id", "") != id) continue;
    EXPECT_EQ(e.json["end_reason"], "shutdown");
    check_clip(root, e.json, /*full_post_roll=*/false);
  }
  EXPECT_TRUE(files_with_suffix(root, ".part").empty()) << "temporary clip files left behind";
}

// detect.mode keyframes: only keyframes reach the analysis decoder (the sim's GOP is 20 frames, 2 s, at
// 10 fps), yet clips are recorded from every packet at the full 10 fps.
TEST_F(EngineE2E, KeyframesModeAnalysesOneFramePerGopAndRecordsFullRateClips) {
  const fs::path root = *dir_ / "keyframes";
  const int port = free_tcp_port();
  EventCollector incidents("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  EventCollector health("tcp://127.0.0.1:" + std::to_string(port), "health.vtest");
  auto args = run_args(write_config(root, port, /*max_length=*/12, "keyframes", "{fps: 5, mode: keyframes}",
                                    "health: {heartbeat_s: 2}\n"));
  const auto launched = std::chrono::steady_clock::now();
  Process engine(args, (*dir_ / "keyframes.log").string());
  // At one analysed frame per 2 s the background takes several GOPs to learn, so the first incident comes
  // 10-15 s in (later on a loaded machine): the run lasts until one has started and at least 25 s have
  // passed, then SIGTERM ends it (and its clip) as an operator's stop would.
  const bool started = incidents.wait_for(
      [](auto& ev) {
        for (const auto& e : ev)
          if (e.json.value("phase", "") == "start") return true;
        return false;
      },
      std::chrono::seconds(90));
  const auto ran = std::chrono::steady_clock::now() - launched;
  if (ran < std::chrono::seconds(25)) std::this_thread::sleep_for(std::chrono::seconds(25) - ran);
  engine.signal(SIGTERM);
  const auto rc = engine.wait(std::chrono::seconds(30));
  ASSERT_TRUE(rc.has_value()) << "engine did not stop on SIGTERM";
  EXPECT_EQ(*rc, 0) << engine.output();
  ASSERT_TRUE(started) << "no incident within 90 s in keyframes mode; engine stdout:\n" << engine.output();
  incidents.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; },
                     std::chrono::seconds(2));

  // The last health message with counters: packets are every access unit, analysed frames one per GOP.
  const auto hs = health.events();
  ASSERT_FALSE(hs.empty()) << "no health.vtest message; engine stdout:\n" << engine.output();
  std::uint64_t packets = 0, analysed = 0, decoded = 0;
  for (const auto& h : hs) {
    if (!h.json.contains("counters")) continue;
    packets = std::max<std::uint64_t>(packets, h.json["counters"]["packets"].get<std::uint64_t>());
    analysed = std::max<std::uint64_t>(analysed, h.json["counters"]["frames_analysed"].get<std::uint64_t>());
    decoded = std::max<std::uint64_t>(decoded, h.json["counters"]["frames_decoded"].get<std::uint64_t>());
  }
  std::cout << "[ figures ] packets " << packets << ", frames decoded " << decoded << ", analysed " << analysed << "\n";
  ASSERT_GE(packets, 150u) << "the camera streamed for most of the run (at least 25 s)";
  // About one analysed frame per 20 packets. Every-frame mode at 5 fps would analyse one per 2 packets.
  EXPECT_GE(analysed * 30, packets) << "fewer than one analysed frame per 1.5 GOPs";
  EXPECT_LE(analysed * 14, packets) << "more than one analysed frame per 0.7 GOP: delta units reach the analysis";

  const auto ev = incidents.events();
  ASSERT_FALSE(ev.empty()) << "no incident in keyframes mode; engine stdout:\n" << engine.output();
  check_stream(ev);
  int clips = 0;
  for (const auto& e : ev) {
    if (e.json.value("phase", "") != "end") continue;
    check_clip(root, e.json, /*full_post_roll=*/false);
    const ClipProbe p = probe_clip(root / e.json["clip"]["path"].get<std::string>());
    // Recording keeps every packet: 10 frames a second, not one per GOP.
    EXPECT_GE(p.video_packets, static_cast<int>(p.duration_s * 10 * 0.9))
        << p.video_packets << " frames in " << p.duration_s << " s";
    ++clips;
  }
  EXPECT_GE(clips, 1) << "no incident ended with a clip";
}

TEST_F(EngineE2E, SeqKeepsIncreasingAcrossRestarts) {
  const fs::path root = *dir_ / "restart";
  std::uint64_t last_first_run = 0;
  for (int run = 0; run < 2; ++run) {
    const int port = free_tcp_port();
    EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
    auto args = run_args(write_config(root, port, 12, "restart"));
    args.insert(args.end(), {"--for", "10"});
    Process engine(args, (*dir_ / "restart.log").string());
    ASSERT_EQ(engine.wait(std::chrono::seconds(60)), 0);
    events.wait_for([](auto& ev) { return !ev.empty() && ev.back().json.value("phase", "") == "end"; },
                    std::chrono::seconds(2));
    const auto ev = events.events();
    ASSERT_FALSE(ev.empty()) << "run " << run << " published nothing";
    check_stream(ev);
    if (run == 0) {
      last_first_run = ev.back().json["seq"];
    } else {
      EXPECT_GT(ev.front().json["seq"].get<std::uint64_t>(), last_first_run);
    }
  }
}

TEST(EngineCli, BadConfigExitsNonZeroWithFileAndLine) {
  const fs::path dir = make_temp_dir("matthan-cli");
  const fs::path cfg = dir / "bad.yaml";
  std::ofstream(cfg) << "node: x\ncameras:\n  - id: a\n    url: rtsp://u:secret@h/x\n    detect: {fps: 99}\n"
                     << "  - id: a\n    url: rtsp://h/y\n    colour: red\n";
  auto [rc, out] = run_command({matthan_binary().string(), "run", "--config", cfg.string(), "--for", "1"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("bad.yaml:5:"), std::string::npos) << out;  // fps out of range
  EXPECT_NE(out.find("bad.yaml:6:"), std::string::npos) << out;  // duplicate id
  EXPECT_NE(out.find("bad.yaml:8:"), std::string::npos) << out;  // unknown key
  EXPECT_EQ(out.find("secret"), std::string::npos) << "a password was printed";
  fs::remove_all(dir);
}

TEST(EngineCli, VersionAndHelp) {
  auto [rc, out] = run_command({matthan_binary().string(), "--version"});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("matthan 0."), std::string::npos) << out;
  for (const char* sub : {"run", "sim", "tail", "demo", "check"}) {
    auto [hrc, hout] = run_command({matthan_binary().string(), sub, "--help"});
    EXPECT_EQ(hrc, 0) << sub;
    EXPECT_NE(hout.find("Usage"), std::string::npos) << sub << ": " << hout;
  }
}

}  // namespace
}  // namespace matthan::test
