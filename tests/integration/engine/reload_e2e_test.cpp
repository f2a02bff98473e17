// Hot reload end to end: `matthan sim` serves five cameras, `matthan run` watches four (a, b, c, d). The
// config file is rewritten (b removed, c changed, e added; a and d untouched) and SIGHUP applies it; then
// an invalid file is rejected through `matthan reload --socket`. A real ZeroMQ subscriber checks that b's
// open incidents end and it stops, e streams, c restarts, a and d never stop and their frames keep coming
// without a gap, and that the node's seq is contiguous throughout.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "event_collector.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/process.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan::test {
namespace {

namespace fs = std::filesystem;
using Events = std::vector<ReceivedEvent>;
using namespace std::chrono_literals;

constexpr const char* kAdminToken = "reload-admin-token-0123456789";

void write_config(const fs::path& cfg, const fs::path& root, int port, const std::map<std::string, std::string>& urls,
                  const std::vector<std::string>& ids, const std::string& post_roll_of_c, int review_port) {
  std::ofstream out(cfg, std::ios::trunc);
  out << "node: it-reload\nstorage: {root: \"" << root.string() << "\"}\n"
      << "events: {bind: \"tcp://127.0.0.1:" << port << "\"}\n"
      << "review:\n  listen: 127.0.0.1:" << review_port << "\n"
      << "  api_tokens:\n    - {name: it-admin, role: admin, token: \"" << kAdminToken << "\"}\n"
      << "health: {heartbeat_s: 1}\n"
      << "defaults:\n  detect: {width: 320, height: 180, fps: 5}\n"
      << "  motion: {start_frames: 2, end_seconds: 30}\n"
      << "  clip: {pre_roll: 2, post_roll: 1, max_length: 60}\n"
      << "  tamper: {enabled: false}\n"
      << "cameras:\n";
  for (const auto& id : ids) {
    out << "  - id: " << id << "\n    url: " << urls.at(id) << "\n";
    if (id == "c") out << "    clip: {post_roll: " << post_roll_of_c << "}\n";
  }
}

// The camera ids the review server's admin view shows (GET /api/admin/config with an admin token).
std::vector<std::string> admin_view_cameras(int review_port) {
  httplib::Client c("127.0.0.1", review_port);
  c.set_bearer_token_auth(kAdminToken);
  auto r = c.Get("/api/admin/config");
  if (!r || r->status != 200) return {"<no answer>"};
  std::vector<std::string> ids;
  const auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return {"<not json>"};
  for (const auto& cam : j["cameras"]) ids.push_back(cam.value("id", ""));
  return ids;
}

bool streaming(const Events& ev, const std::string& cam, std::size_t after = 0) {
  for (std::size_t i = after; i < ev.size(); ++i)
    if (ev[i].topic == "health." + cam && ev[i].json.value("state", "") == "streaming") return true;
  return false;
}

std::size_t index_of_config_event(const Events& ev, const std::string& kind) {
  for (std::size_t i = 0; i < ev.size(); ++i)
    if (ev[i].topic == "config" && ev[i].json.value("event", "") == kind) return i;
  return ev.size();
}

// The untouched camera: after it first streams, every health message says streaming and frames_decoded
// grows from one heartbeat (1 s) to the next.
// `until`: where the final SIGTERM's messages begin (every camera says `stopped` then).
void expect_no_gap(const Events& ev, const std::string& cam, std::size_t until) {
  SCOPED_TRACE("untouched camera " + cam);
  bool seen = false;
  std::uint64_t last_frames = 0;
  int heartbeats = 0;
  for (std::size_t i = 0; i < until; ++i) {
    const auto& e = ev[i];
    if (e.topic != "health." + cam) continue;
    const std::string state = e.json.value("state", "");
    if (!seen) {
      seen = state == "streaming";
      last_frames = e.json["counters"]["frames_decoded"].get<std::uint64_t>();
      continue;
    }
    EXPECT_EQ(state, "streaming") << e.payload;
    const auto frames = e.json["counters"]["frames_decoded"].get<std::uint64_t>();
    EXPECT_GT(frames, last_frames) << "no frames between two heartbeats: " << e.payload;
    EXPECT_EQ(e.json["counters"]["reconnects"], 0) << e.payload;
    last_frames = frames;
    ++heartbeats;
  }
  EXPECT_TRUE(seen);
  EXPECT_GE(heartbeats, 5);
}

TEST(ReloadE2E, AddRemoveChangeLeaveTheRestUntouchedAndRejectAnInvalidFile) {
  if (vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
  const fs::path dir = make_temp_dir("matthan-reload-it");
  // Plain vtest at 640x360 H.264 (the "turn" scenario, turned only after the clip ends): no sim transcoding.
  const fs::path clip = make_tamper_clip(dir, "turn", 1000, 20);
  ASSERT_FALSE(clip.empty()) << "ffmpeg could not prepare the clip";
  const std::vector<std::string> all{"a", "b", "c", "d", "e"};
  std::vector<std::string> sim_args{
      matthan_binary().string(), "sim", "--listen", "127.0.0.1:" + std::to_string(free_tcp_port()), "--cache",
      (dir / "cache").string()};
  for (const auto& id : all) sim_args.insert(sim_args.end(), {"--source", id + "=" + clip.string()});
  Process sim(sim_args, (dir / "sim.log").string());
  std::map<std::string, std::string> urls;
  while (urls.size() < all.size()) {
    auto line = sim.read_line(60s);
    ASSERT_TRUE(line.has_value()) << "matthan sim did not print its URLs:\n" << read_file(dir / "sim.log");
    if (line->rfind("rtsp://", 0) == 0) urls[all[urls.size()]] = *line;
  }

  const int port = free_tcp_port();
  const int review_port = free_tcp_port();
  const fs::path root = dir / "var";
  const fs::path cfg = dir / "reload.yaml";
  write_config(cfg, root, port, urls, {"a", "b", "c", "d"}, "1", review_port);
  EventCollector collector("tcp://127.0.0.1:" + std::to_string(port), "");
  Process engine({matthan_binary().string(), "run", "--config", cfg.string()}, (dir / "engine.log").string());
  auto log = [&] { return read_file(dir / "engine.log"); };

  // All four stream, and b has an open incident (people walk through vtest from its first seconds).
  ASSERT_TRUE(collector.wait_for(
      [](const Events& ev) {
        bool b_open = false;
        for (const auto& e : ev) b_open |= e.topic == "incident.b.start";
        return b_open && streaming(ev, "a") && streaming(ev, "b") && streaming(ev, "c") && streaming(ev, "d");
      },
      40s))
      << log();
  std::this_thread::sleep_for(2s);  // a few heartbeats before the reload
  EXPECT_EQ(admin_view_cameras(review_port), (std::vector<std::string>{"a", "b", "c", "d"}));

  // b removed, c changed, e added; a and d as they were.
  write_config(cfg, root, port, urls, {"a", "c", "d", "e"}, "2", review_port);
  const std::size_t before_reload = collector.events().size();
  engine.signal(SIGHUP);
  ASSERT_TRUE(
      collector.wait_for([](const Events& ev) { return index_of_config_event(ev, "reload_ok") < ev.size(); }, 30s))
      << log();
  // c restarts: a `stopped` after the SIGHUP, then `streaming` again.
  auto c_restarted = [&](const Events& ev) {
    for (std::size_t i = before_reload; i < ev.size(); ++i)
      if (ev[i].topic == "health.c" && ev[i].json.value("state", "") == "stopped") return streaming(ev, "c", i);
    return false;
  };
  ASSERT_TRUE(collector.wait_for([&](const Events& ev) { return streaming(ev, "e") && c_restarted(ev); }, 30s))
      << "added or changed camera did not stream\n"
      << log();
  // The admin view follows the reload (it showed the start-up config before).
  EXPECT_EQ(admin_view_cameras(review_port), (std::vector<std::string>{"a", "c", "d", "e"}));
  std::this_thread::sleep_for(3s);

  // The same file again through `matthan reload --config`: nothing to do, nothing touched.
  {
    auto [rc, answer] = run_command({matthan_binary().string(), "reload", "--config", cfg.string()});
    EXPECT_EQ(rc, 0) << answer;
    EXPECT_EQ(answer.rfind("ok\n", 0), 0u) << answer;
    EXPECT_NE(answer.find("unchanged: a, c, d, e"), std::string::npos) << answer;
  }

  // An invalid file is rejected as a whole, with file:line, through the control socket.
  {
    std::ofstream out(cfg, std::ios::app);
    out << "  - id: f\n    url: rtsp://127.0.0.1:1/f\n    colour: red\n";
  }
  auto [rc, answer] = run_command({matthan_binary().string(), "reload", "--socket", (root / "control.sock").string()});
  EXPECT_EQ(rc, 1) << answer;
  EXPECT_NE(answer.find("error"), std::string::npos) << answer;
  EXPECT_NE(answer.find(cfg.string() + ":"), std::string::npos) << answer;
  EXPECT_NE(answer.find("cameras[4].colour"), std::string::npos) << answer;
  ASSERT_TRUE(collector.wait_for(
      [](const Events& ev) {
        const std::size_t failed = index_of_config_event(ev, "reload_failed");
        for (std::size_t i = failed; i < ev.size(); ++i)
          if (ev[i].topic == "heartbeat" && ev[i].json.contains("reload") && !ev[i].json["reload"]["ok"].get<bool>())
            return true;
        return false;
      },
      10s))
      << log();
  std::this_thread::sleep_for(2s);  // the old config keeps running

  const std::size_t before_stop = collector.events().size();
  engine.signal(SIGTERM);
  const auto code = engine.wait(60s);
  ASSERT_TRUE(code.has_value()) << "engine did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << log();
  collector.wait_for([](const Events& ev) { return !ev.empty() && ev.back().topic == "heartbeat"; }, 1s);
  const Events ev = collector.events();

  // The applied reload says what it did.
  const auto ok_at = index_of_config_event(ev, "reload_ok");
  ASSERT_LT(ok_at, ev.size());
  const auto& ok = ev[ok_at].json;
  EXPECT_EQ(ok["added"], nlohmann::json::array({"e"})) << ok.dump();
  EXPECT_EQ(ok["removed"], nlohmann::json::array({"b"})) << ok.dump();
  EXPECT_EQ(ok["changed"], nlohmann::json::array({"c"})) << ok.dump();
  EXPECT_EQ(ok["unchanged"], nlohmann::json::array({"a", "d"})) << ok.dump();
  EXPECT_TRUE(ok["needs_restart"].empty()) << ok.dump();

  // b: every incident it opened ended (reason camera_removed), it said it stopped, and nothing came after.
  std::set<std::string> b_open;
  std::size_t b_last = 0;
  bool b_stopped = false;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const auto& e = ev[i];
    if (e.topic == "incident.b.start") b_open.insert(e.json["id"].get<std::string>());
    if (e.topic == "incident.b.end") {
      b_open.erase(e.json["id"].get<std::string>());
      EXPECT_EQ(e.json["end_reason"], "camera_removed") << e.payload;
      EXPECT_TRUE(e.json["clip"].is_object()) << e.payload;
    }
    if (e.topic == "health.b" && e.json["state"] == "stopped") b_stopped = true;
    if (e.topic.find(".b") != std::string::npos) b_last = i;
  }
  EXPECT_TRUE(b_open.empty()) << "b's incidents did not end";
  EXPECT_TRUE(b_stopped);
  EXPECT_LT(b_last, ok_at) << "b still published after the reload: " << ev[b_last].payload;

  EXPECT_TRUE(c_restarted(ev));

  // The rejected reload: errors with file:line, and the cameras of the running config went on.
  const auto failed_at = index_of_config_event(ev, "reload_failed");
  ASSERT_LT(failed_at, ev.size());
  ASSERT_FALSE(ev[failed_at].json["errors"].empty());
  EXPECT_EQ(ev[failed_at].json["errors"][0].get<std::string>().rfind(cfg.string() + ":", 0), 0u)
      << ev[failed_at].payload;
  bool streams_after_failure = false;
  for (std::size_t i = failed_at; i < ev.size(); ++i)
    streams_after_failure |= ev[i].topic == "health.e" && ev[i].json["state"] == "streaming";
  EXPECT_TRUE(streams_after_failure);

  // a and d: no gap; the node's seq: contiguous from the first message received to the last.
  expect_no_gap(ev, "a", before_stop);
  expect_no_gap(ev, "d", before_stop);
  for (std::size_t i = 1; i < ev.size(); ++i)
    ASSERT_EQ(ev[i].json["seq"].get<std::uint64_t>(), ev[i - 1].json["seq"].get<std::uint64_t>() + 1)
        << ev[i - 1].payload << "\n"
        << ev[i].payload;

  // Every heartbeat and config message matches its schema.
  auto hb = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "heartbeat.schema.json");
  auto cf = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / "config.schema.json");
  ASSERT_TRUE(hb.ok() && cf.ok());
  for (const auto& e : ev) {
    if (e.topic != "heartbeat" && e.topic != "config") continue;
    auto st = (e.topic == "heartbeat" ? hb : cf).value().validate(e.payload);
    EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message) << "\n" << e.payload;
  }
  EXPECT_FALSE(fs::exists(root / "control.sock")) << "the control socket outlived the engine";

  sim.signal(SIGTERM);
  sim.wait(10s);
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace matthan::test
