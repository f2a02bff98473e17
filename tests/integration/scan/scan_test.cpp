// `matthan scan` end to end, as a real process: a folder handed in "on a USB stick" with a phone-style MP4
// (vtest.avi's people, re-encoded to H.264 by ffmpeg with a creation time), a file that is not video, and
// a text file. Everything the officer gets is checked: the exit code and the named failure, the reports,
// every JSON line against the incident schema, snapshots, and every clip with ffprobe/ffmpeg.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "matthan/events/event_json.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

class ScanTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (vtest_avi().empty()) return;
    dir_ = make_temp_dir("scan-it");
    fs::create_directories(dir_ / "usb" / "phone");
    // 15 s of people walking, H.264 with a keyframe every 2 s, stamped as recorded at 21:30 UTC.
    const std::string cmd = fmt::format(
        "ffmpeg -nostdin -v error -y -i '{}' -t 15 -c:v libx264 -preset ultrafast -g 20 -pix_fmt yuv420p "
        "-metadata creation_time=2026-11-20T21:30:00Z '{}'",
        vtest_avi().string(), (dir_ / "usb" / "phone" / "clip 1.mp4").string());
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    std::ofstream(dir_ / "usb" / "broken.mp4") << "not a video at all";
    std::ofstream(dir_ / "usb" / "notes.txt") << "handed in by the shop at the market";
    std::ofstream(dir_ / "people.yaml") << "cameras:\n"
                                           "  - id: cong-lang\n"
                                           "    url: rtsp://127.0.0.1:1/unused\n"
                                           "    clip: {pre_roll: 3, post_roll: 2}\n"
                                           "    detect:\n"
                                           "      objects: {labels: [person]}\n";  // no model: the HOG people detector
    auto [rc, out] = run_command({matthan_binary().string(), "scan", (dir_ / "usb").string(), "--config",
                                  (dir_ / "people.yaml").string(), "--out", (dir_ / "out").string()});
    rc_ = rc;
    output_ = out;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    if (!dir_.empty() && !::testing::UnitTest::GetInstance()->Failed()) fs::remove_all(dir_, ec);
  }
  void SetUp() override {
    if (vtest_avi().empty())
      GTEST_SKIP() << "opencv-doc's vtest.avi is not installed (scripts/install-deps.sh installs it)";
  }

  static std::vector<nlohmann::json> lines() {
    std::vector<nlohmann::json> out;
    std::istringstream in(read_file(dir_ / "out" / "incidents.jsonl"));
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  static fs::path dir_;
  static int rc_;
  static std::string output_;
};
fs::path ScanTest::dir_;
int ScanTest::rc_ = -1;
std::string ScanTest::output_;

TEST_F(ScanTest, AnUnreadableFileIsNamedAndMakesTheExitCodeOne) {
  EXPECT_EQ(rc_, 1) << output_;
  EXPECT_NE(output_.find("broken.mp4: not scanned"), std::string::npos) << output_;
  EXPECT_EQ(output_.find("notes.txt"), std::string::npos) << "only video extensions are taken from folders\n"
                                                          << output_;
  EXPECT_NE(output_.find("2 file(s), 1 unreadable"), std::string::npos) << output_;
  // Not on a terminal: plain progress lines, no carriage returns.
  EXPECT_NE(output_.find("scan: 150/"), std::string::npos) << output_;
  EXPECT_EQ(output_.find('\r'), std::string::npos);
}

TEST_F(ScanTest, PeopleBecomePersonIncidentsOnTheFilesOwnClock) {
  const auto incidents = lines();
  ASSERT_FALSE(incidents.empty()) << output_;
  auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
  ASSERT_TRUE(v.ok()) << v.error().message;
  for (const auto& j : incidents) {
    EXPECT_EQ(j["time_source"], "creation_time");
    EXPECT_NE(j["file"].get<std::string>().find("clip 1.mp4"), std::string::npos);
    const auto& e = j["event"];
    const Status valid = v->validate(e.dump());
    EXPECT_TRUE(valid.ok()) << (valid.ok() ? "" : valid.error().message) << "\n" << e.dump();
    EXPECT_EQ(e["kind"], "object");
    EXPECT_EQ(e["label"], "person");
    EXPECT_EQ(e["camera"], "cong-lang");
    // Absolute times from the container's creation time plus the offset in the file.
    const double offset = j["offset_s"].get<double>();
    EXPECT_GE(offset, 0.0);
    EXPECT_LE(offset, 15.0);
    const std::string started = e["started_at"];
    EXPECT_EQ(started.substr(0, 15), "2026-11-20T21:3") << started;
    const int second = std::stoi(started.substr(17, 2)) + 60 * (std::stoi(started.substr(14, 2)) - 30);
    EXPECT_NEAR(second, offset, 1.0) << started;
  }
}

TEST_F(ScanTest, EveryIncidentHasASnapshotAndAClipThatPlaysAndStartsBeforeIt) {
  const auto incidents = lines();
  ASSERT_FALSE(incidents.empty()) << output_;
  for (const auto& j : incidents) {
    const auto& e = j["event"];
    ASSERT_TRUE(e["snapshot"].is_string()) << e.dump();
    const std::string jpeg = read_file(dir_ / "out" / e["snapshot"].get<std::string>());
    ASSERT_GT(jpeg.size(), 1000u);
    EXPECT_EQ(static_cast<unsigned char>(jpeg[0]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(jpeg[1]), 0xD8);
    ASSERT_TRUE(e["clip"].is_object()) << e.dump();
    const fs::path clip = dir_ / "out" / e["clip"]["path"].get<std::string>();
    EXPECT_EQ(clip.extension(), ".mp4");
    const ClipProbe p = probe_clip(clip);
    ASSERT_TRUE(p.opened) << clip << ": " << p.errors;
    EXPECT_EQ(p.codec, "h264");
    EXPECT_TRUE(p.first_packet_keyframe) << clip;
    EXPECT_TRUE(p.decodes_cleanly) << clip << ": " << p.errors;
    // Pre-roll: the clip starts at or before max(0, start - 3 s); post-roll: it reaches the end (+2 s, or the file's
    // end).
    const double clip_from = j["clip_offset_s"].get<double>();
    const double start = j["offset_s"].get<double>(), end = j["end_offset_s"].get<double>();
    EXPECT_LE(clip_from, std::max(0.0, start - 3.0) + 1e-3);
    EXPECT_GE(clip_from + p.duration_s, std::min(end + 2.0, 14.9) - 0.2) << clip;
  }
}

TEST_F(ScanTest, TheReportsListTheFailureAndEachIncidentWithWorkingLinks) {
  const std::string html = read_file(dir_ / "out" / "report.html");
  const std::string md = read_file(dir_ / "out" / "report.md");
  ASSERT_FALSE(html.empty());
  ASSERT_FALSE(md.empty());
  EXPECT_NE(html.find("Not scanned: cannot open"), std::string::npos);
  EXPECT_NE(md.find("**Not scanned:**"), std::string::npos);
  EXPECT_NE(html.find("creation time (UTC)"), std::string::npos);
  for (const auto& j : lines()) {
    const std::string id = j["event"]["id"];
    EXPECT_NE(md.find(id), std::string::npos) << id;
    // The HTML links are URL-encoded relative paths that exist on disk.
    const std::string snap = j["event"]["snapshot"];
    EXPECT_NE(html.find(fmt::format("src=\"{}\"", snap)), std::string::npos) << snap;
    EXPECT_TRUE(fs::exists(dir_ / "out" / snap));
  }
}

TEST_F(ScanTest, AFolderThatHoldsAScanIsNeverOverwritten) {
  const std::string before = read_file(dir_ / "out" / "incidents.jsonl");
  auto [rc, out] = run_command(
      {matthan_binary().string(), "scan", (dir_ / "usb" / "broken.mp4").string(), "--out", (dir_ / "out").string()});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("already holds a scan"), std::string::npos) << out;
  EXPECT_EQ(read_file(dir_ / "out" / "incidents.jsonl"), before);
}

TEST_F(ScanTest, BadArgumentsAreClearErrors) {
  auto [rc1, out1] =
      run_command({matthan_binary().string(), "scan", (dir_ / "missing").string(), "--out", (dir_ / "o1").string()});
  EXPECT_EQ(rc1, 2);
  EXPECT_NE(out1.find("no such file or folder"), std::string::npos) << out1;
  fs::create_directories(dir_ / "empty");
  auto [rc2, out2] =
      run_command({matthan_binary().string(), "scan", (dir_ / "empty").string(), "--out", (dir_ / "o2").string()});
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(out2.find("no video file found"), std::string::npos) << out2;
  auto [rc3, out3] =
      run_command({matthan_binary().string(), "scan", (dir_ / "usb").string(), "--config",
                   (dir_ / "people.yaml").string(), "--camera-like", "nobody", "--out", (dir_ / "o3").string()});
  EXPECT_EQ(rc3, 2);
  EXPECT_NE(out3.find("no camera 'nobody'"), std::string::npos) << out3;
}

}  // namespace
}  // namespace matthan::test
