// Tamper end to end: `matthan sim` serves four cameras prepared from vtest.avi (blacked out, cut to another
// view, blurred after 12 s, and one whose light fades smoothly), `matthan run` watches them, and a real
// ZeroMQ subscriber checks that the first three raise a `tamper` incident with the right label and the
// fading one raises none.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>

#include "event_collector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;

constexpr double kTamperAt = 12;

TEST(TamperE2E, BlackCutAndBlurRaiseTamperAndALightingRampDoesNot) {
  if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
  const fs::path dir = make_temp_dir("matthan-tamper-it");
  const std::map<std::string, std::string> expected{
      {"black", "covered"}, {"turn", "turned"}, {"blur", "defocused"}, {"ramp", ""}};
  std::vector<std::string> sim_args{
      matthan_binary().string(), "sim", "--listen", "127.0.0.1:" + std::to_string(free_tcp_port()), "--cache",
      (dir / "cache").string()};
  for (const auto& [scenario, label] : expected) {
    const fs::path clip = make_tamper_clip(dir, scenario, kTamperAt, 32);
    ASSERT_FALSE(clip.empty()) << "ffmpeg could not prepare the " << scenario << " clip";
    sim_args.insert(sim_args.end(), {"--source", scenario + "=" + clip.string()});
  }
  Process sim(sim_args, (dir / "sim.log").string());
  std::map<std::string, std::string> urls;  // printed in --source order
  auto it = expected.begin();
  while (urls.size() < expected.size()) {
    auto line = sim.read_line(std::chrono::seconds(60));
    ASSERT_TRUE(line.has_value()) << "matthan sim did not print its URLs:\n" << read_file(dir / "sim.log");
    if (line->rfind("rtsp://", 0) == 0) urls[(it++)->first] = *line;
  }

  const int port = free_tcp_port();
  const fs::path root = dir / "var";
  const fs::path cfg = dir / "tamper.yaml";
  {
    std::ofstream out(cfg);
    out << "node: it-tamper\nstorage: {root: \"" << root.string() << "\"}\n"
        << "events: {bind: \"tcp://127.0.0.1:" << port << "\"}\n"
        << "defaults:\n  detect: {width: 640, height: 360, fps: 5}\n"
        << "  clip: {pre_roll: 3, post_roll: 2, max_length: 120}\n"
        << "  tamper: {learn_s: 4, persist_s: 3, clear_s: 2}\n"
        << "cameras:\n";
    for (const auto& [scenario, url] : urls) out << "  - id: " << scenario << "\n    url: " << url << "\n";
  }
  EventCollector events("tcp://127.0.0.1:" + std::to_string(port), "incident.");
  Process engine({matthan_binary().string(), "run", "--config", cfg.string(), "--for", "26"},
                 (dir / "engine.log").string());
  const auto rc = engine.wait(std::chrono::seconds(60));
  ASSERT_TRUE(rc.has_value()) << "engine did not stop after --for";
  EXPECT_EQ(*rc, 0) << read_file(dir / "engine.log");
  events.wait_for(
      [](auto& ev) {
        int ends = 0;
        for (auto& e : ev) ends += e.json.value("kind", "") == "tamper" && e.json.value("phase", "") == "end";
        return ends >= 3;
      },
      std::chrono::seconds(5));

  auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "incident.schema.json");
  ASSERT_TRUE(v.ok()) << v.error().message;
  std::map<std::string, std::vector<nlohmann::json>> tamper;  // by camera
  for (const auto& e : events.events()) {
    auto st = v.value().validate(e.payload);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message) << "\n" << e.payload;
    if (e.json.value("kind", "") == "tamper") tamper[e.json["camera"]].push_back(e.json);
  }
  const std::string log = read_file(dir / "engine.log");
  for (const auto& [scenario, label] : expected) {
    SCOPED_TRACE(scenario);
    if (label.empty()) {
      EXPECT_TRUE(tamper[scenario].empty())
          << "a lighting ramp raised tamper: " << tamper[scenario].front().dump() << "\n"
          << log;
      continue;
    }
    ASSERT_FALSE(tamper[scenario].empty()) << "no tamper incident\n" << log;
    const auto& start = tamper[scenario].front();
    EXPECT_EQ(start["phase"], "start");
    EXPECT_EQ(start["label"], label) << start.dump();
    EXPECT_GT(start["score"].get<double>(), 0.0);
    ASSERT_TRUE(start["snapshot"].is_string()) << start.dump();
    EXPECT_TRUE(fs::exists(root / start["snapshot"].get<std::string>()));
    // The engine stopped with the view still tampered: the incident ends at shutdown with a playable clip.
    const auto& end = tamper[scenario].back();
    ASSERT_EQ(end["phase"], "end") << end.dump();
    EXPECT_EQ(end["id"], start["id"]);
    EXPECT_EQ(end["end_reason"], "shutdown");
    ASSERT_TRUE(end["clip"].is_object()) << end.dump();
    const ClipProbe p = probe_clip(root / end["clip"]["path"].get<std::string>());
    EXPECT_TRUE(p.opened && p.decodes_cleanly) << p.errors;
  }
  sim.signal(SIGTERM);
  sim.wait(std::chrono::seconds(10));
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace matthan::test
