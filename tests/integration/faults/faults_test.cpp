// Faults against the real engine: a simulator on 127.0.0.1 is killed, held, corrupted, locked with a
// password, restricted to one transport; every health, heartbeat and incident message must validate.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "matthan/app/config.hpp"
#include "matthan/app/engine.hpp"
#include "matthan/events/event_json.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/sim/simulator.hpp"
#include "matthan/test/clip_probe.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/sim_fixture.hpp"

namespace matthan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using Json = nlohmann::json;

struct Message {
  std::string topic;
  Json json;
  std::string payload;
  Clock::time_point at;
};

// Every message the engine publishes (the Engine's listener sees exactly what goes to ZeroMQ and the index).
class Messages {
 public:
  void add(const std::string& topic, const std::string& payload) {
    {
      std::lock_guard lock(mu_);
      all_.push_back({topic, Json::parse(payload, nullptr, false), payload, Clock::now()});
    }
    cv_.notify_all();
  }
  std::vector<Message> all() const {
    std::lock_guard lock(mu_);
    return all_;
  }
  // Waits for a message matching `pred` published after index `from`; returns its index.
  std::optional<std::size_t> wait(const std::function<bool(const Message&)>& pred, std::chrono::milliseconds timeout,
                                  std::size_t from = 0) {
    std::unique_lock lock(mu_);
    std::optional<std::size_t> found;
    cv_.wait_for(lock, timeout, [&] {
      for (std::size_t i = from; i < all_.size(); ++i) {
        if (pred(all_[i])) {
          found = i;
          return true;
        }
      }
      return false;
    });
    return found;
  }
  std::size_t size() const {
    std::lock_guard lock(mu_);
    return all_.size();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Message> all_;  // guarded by mu_
};

auto health_of(const std::string& camera, const std::string& state) {
  return [=](const Message& m) { return m.topic == "health." + camera && m.json.value("state", "") == state; };
}

bool cut_video(const fs::path& in, const fs::path& out, int seconds_long) {
  const std::string cmd = "ffmpeg -nostdin -loglevel error -y -i '" + in.string() + "' -t " +
                          std::to_string(seconds_long) + " -c copy '" + out.string() + "'";
  return std::system(cmd.c_str()) == 0 && fs::exists(out);
}

class Faults : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (test::vtest_avi().empty()) return;
    dir_ = new fs::path(test::make_temp_dir("matthan-faults"));
    if (!cut_video(test::vtest_avi(), *dir_ / "vtest.avi", 20)) {
      delete dir_;
      dir_ = nullptr;
    }
  }
  static void TearDownTestSuite() {
    if (dir_ != nullptr) fs::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  void SetUp() override {
    if (test::vtest_avi().empty()) GTEST_SKIP() << "Debian's opencv-doc (vtest.avi) is not installed";
    ASSERT_NE(dir_, nullptr) << "could not cut vtest.avi with ffmpeg";
    for (const char* name : {"incident", "health", "heartbeat"}) {
      auto v = JsonSchemaValidator::from_file(fs::path(MATTHAN_SCHEMA_DIR) / (std::string(name) + ".schema.json"));
      ASSERT_TRUE(v.ok()) << v.error().message;
      validators_.emplace(name, std::move(v.value()));
    }
  }

  void TearDown() override {
    if (engine_) engine_->stop();
    check_every_message();
    engine_.reset();
  }

  std::unique_ptr<Simulator> start_sim(std::vector<SimSource> sources, int port = 0, std::string user = {},
                                       std::string password = {}) {
    SimOptions o;
    o.port = port == 0 ? test::free_tcp_port() : port;
    o.sources = std::move(sources);
    o.cache_dir = *dir_ / "cache";
    o.user = std::move(user);
    o.password = std::move(password);
    auto sim = Simulator::start(o);
    EXPECT_TRUE(sim.ok()) << (sim.ok() ? "" : sim.error().message);
    return sim.ok() ? std::move(sim).value() : nullptr;
  }

  SimSource vtest(const std::string& name, SimTransport t = SimTransport::kAny) {
    return SimSource{name, (*dir_ / "vtest.avi").string(), t};
  }

  // cameras: YAML list items (already indented by 2), e.g. "  - {id: a, url: rtsp://...}\n".
  void start_engine(const std::string& cameras, const std::string& defaults_extra = "") {
    storage_ = *dir_ / ("var-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    const std::string yaml =
        "node: faults\n"
        "storage: {root: \"" +
        storage_.string() +
        "\"}\n"
        "events: {bind: \"tcp://127.0.0.1:" +
        std::to_string(test::free_tcp_port()) +
        "\"}\n"
        "health: {heartbeat_s: 1}\n"
        "defaults:\n"
        "  detect: {width: 320, height: 180, fps: 5}\n"
        "  clip: {pre_roll: 2, post_roll: 2, max_length: 60}\n"
        "  watchdog: {stall_s: 3}\n" +
        defaults_extra + "cameras:\n" + cameras;
    ConfigLoad load = load_config_text(yaml, "faults.yaml", *dir_);
    ASSERT_TRUE(load.ok()) << load.error_text() << yaml;
    auto engine =
        Engine::create(load.config, [this](const std::string& t, const std::string& p) { messages_.add(t, p); });
    ASSERT_TRUE(engine.ok()) << engine.error().message;
    engine_ = std::move(engine).value();
    engine_->start();
  }

  void check_every_message() {
    std::uint64_t last = 0;
    for (const auto& m : messages_.all()) {
      ASSERT_FALSE(m.json.is_discarded()) << m.payload;
      const std::string kind = m.topic.rfind("incident.", 0) == 0 ? "incident"
                               : m.topic.rfind("health.", 0) == 0 ? "health"
                                                                  : "heartbeat";
      if (kind == "heartbeat") {
        EXPECT_EQ(m.topic, "heartbeat");
      }
      auto st = validators_.at(kind).validate(m.payload);
      EXPECT_TRUE(st.ok()) << (st.ok() ? "" : st.error().message) << "\n" << m.topic << " " << m.payload;
      const auto seq = m.json.value("seq", 0ull);
      EXPECT_EQ(seq, last + 1) << "seq must rise by one per message: " << m.payload;
      last = seq;
      EXPECT_EQ(m.payload.find("s3cret"), std::string::npos) << "a password leaked: " << m.payload;
    }
  }

  static inline fs::path* dir_ = nullptr;
  std::map<std::string, JsonSchemaValidator> validators_;
  Messages messages_;
  fs::path storage_;
  std::unique_ptr<Engine> engine_;
};

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Server killed and restarted: offline then online within the backoff + 1 s, a camera_offline incident
// around the gap whose clip decodes cleanly.
TEST_F(Faults, ServerKilledAndRestarted) {
  const int port = test::free_tcp_port();
  auto sim = start_sim({vtest("cam")}, port);
  ASSERT_TRUE(sim);
  // No motion incidents here: one would share (and so hold open) the clip of the camera_offline incident.
  start_engine("  - {id: cam, url: \"rtsp://127.0.0.1:" + std::to_string(port) + "/cam\", offline_after: 2}\n",
               "  motion: {min_area: 0.8}\n");
  ASSERT_TRUE(messages_.wait(health_of("cam", "streaming"), 30s));
  std::this_thread::sleep_for(3s);  // some video in the ring before the outage
  const std::size_t before_kill = messages_.size();
  sim.reset();  // killed: sessions and the listening socket go away
  auto down = messages_.wait(
      [](const Message& m) {
        return m.topic == "health.cam" && m.json.value("online", true) == false &&
               m.json.value("state", "") != "connecting";
      },
      20s, before_kill);
  ASSERT_TRUE(down) << "health never left streaming";
  ASSERT_TRUE(messages_.wait(
      [](const Message& m) { return m.topic == "incident.cam.start" && m.json["kind"] == "camera_offline"; }, 20s,
      before_kill));
  std::this_thread::sleep_for(1s);
  const std::size_t before_restart = messages_.size();
  const auto restarted_at = Clock::now();
  sim = start_sim({vtest("cam")}, port);
  ASSERT_TRUE(sim);
  auto up = messages_.wait(health_of("cam", "streaming"), 90s, before_restart);
  ASSERT_TRUE(up) << "never came back";
  // The last backoff before the camera came back bounds the reconnection: it ends within that backoff
  // (counted from when it began, or from the restart if later) + 1 s, plus 1 s for RTSP setup and the first
  // keyframe. Heartbeats repeat a state with its original `at`: only the first copy marks the change.
  double pending_delay = 0;
  Clock::time_point backoff_at = restarted_at;
  std::set<std::string> seen_at;
  const auto all = messages_.all();
  for (std::size_t i = 0; i < *up; ++i) {
    const auto& m = all[i];
    if (m.topic != "health.cam" || m.json.value("state", "") != "backoff") continue;
    if (!seen_at.insert(m.json.value("at", "")).second) continue;
    pending_delay = m.json.value("retry_in_s", 0.0);
    backoff_at = m.at;
  }
  const auto from = std::max(restarted_at, backoff_at);
  const double reconnect_s = seconds(all[*up].at - from);
  std::cout << "[ figures ] back " << seconds(all[*up].at - restarted_at) << " s after the restart; " << reconnect_s
            << " s after the last backoff (" << pending_delay << " s) began or the restart\n";
  EXPECT_LE(reconnect_s, pending_delay + 1.0 + 1.0);
  auto end = messages_.wait(
      [](const Message& m) { return m.topic == "incident.cam.end" && m.json["kind"] == "camera_offline"; }, 30s,
      before_restart);
  ASSERT_TRUE(end) << "camera_offline did not end";
  const Json e = messages_.all()[*end].json;
  EXPECT_EQ(e["end_reason"], "back_online");
  ASSERT_TRUE(e["clip"].is_object()) << e.dump();
  const auto probe = test::probe_clip(storage_ / e["clip"]["path"].get<std::string>());
  EXPECT_TRUE(probe.opened) << probe.errors;
  EXPECT_TRUE(probe.first_packet_keyframe);
  EXPECT_TRUE(probe.decodes_cleanly) << probe.errors;
  if (!probe.decodes_cleanly) {
    const fs::path clip = storage_ / e["clip"]["path"].get<std::string>();
    std::system(("ffprobe -v error -select_streams v -show_entries packet=pts_time,dts_time,flags -of csv '" +
                 clip.string() + "' | awk -F, 'NR>1{d=$3-p; if (d<0.08||d>0.12) print NR\": \"$0\" delta \"d} {p=$3}'")
                    .c_str());
  }
  EXPECT_GT(probe.duration_s, 2.0);
  std::cout << "[ figures ] camera_offline clip " << probe.duration_s << " s\n";
  const Json h = messages_.all()[*up].json;
  EXPECT_GE(h["counters"]["reconnects"].get<int>(), 1);
}

// Issue 19, section 3: a camera whose server was down for 25 s is tried again within 10 s of its return, as
// ingest.backoff_max_s (10 s by default) caps the wait, and is streaming once that attempt has set up (about
// 1.3 s on loopback: RTSP setup and the server's media). 25 s: past the old steps 1 + 2 + 5 + 10 s with their
// jitter, so the old policy was in its 30 s step when the server came back (streaming again after 20 s).
TEST_F(Faults, ACameraIsStreamingWithinTenSecondsOfItsServersReturn) {
  const int port = test::free_tcp_port();
  auto sim = start_sim({vtest("cam")}, port);
  ASSERT_TRUE(sim);
  start_engine("  - {id: cam, url: \"rtsp://127.0.0.1:" + std::to_string(port) + "/cam\"}\n",
               "  motion: {min_area: 0.8}\n");
  ASSERT_TRUE(messages_.wait(health_of("cam", "streaming"), 30s));
  const std::size_t before_kill = messages_.size();
  sim.reset();
  ASSERT_TRUE(messages_.wait(health_of("cam", "backoff"), 20s, before_kill)) << "health never left streaming";
  std::this_thread::sleep_for(25s);
  const std::size_t before_restart = messages_.size();
  const auto restarting_at = Clock::now();
  sim = start_sim({vtest("cam")}, port);
  ASSERT_TRUE(sim);
  const auto back_at = Clock::now();  // listening again
  auto up = messages_.wait(health_of("cam", "streaming"), 30s, before_restart);
  ASSERT_TRUE(up) << "not back within 30 s";
  const auto all = messages_.all();
  // The attempt that succeeded began at the last `connecting` before `streaming` (heartbeats repeat a state
  // with its original `at`, so the first copy marks the change).
  Clock::time_point attempt_at = back_at;
  double longest_wait = 0;
  std::set<std::string> seen_at;
  for (std::size_t i = 0; i < *up; ++i) {
    const auto& m = all[i];
    if (m.topic != "health.cam" || !seen_at.insert(m.json.value("state", "") + m.json.value("at", "")).second) continue;
    if (m.json.value("state", "") == "backoff") longest_wait = std::max(longest_wait, m.json.value("retry_in_s", 0.0));
    if (m.json.value("state", "") == "connecting") attempt_at = m.at;
  }
  const double retried_s = std::max(0.0, seconds(attempt_at - back_at));
  const double streaming_s = seconds(all[*up].at - back_at);
  std::cout << "[ figures ] server restarted in " << seconds(back_at - restarting_at) << " s; tried again " << retried_s
            << " s after its return, streaming " << streaming_s << " s after it (setup "
            << seconds(all[*up].at - attempt_at) << " s); longest backoff " << longest_wait << " s\n";
  EXPECT_LE(longest_wait, 10.0);
  EXPECT_LE(retried_s, 10.0);
  EXPECT_LE(streaming_s, 10.0 + 2.0) << "the cap, and 2 s for the attempt to set up";
}

// The server keeps the session but sends nothing: stalled within the watchdog time + 1 s.
TEST_F(Faults, HeldStreamIsAStall) {
  auto sim = start_sim({vtest("cam")});
  ASSERT_TRUE(sim);
  start_engine("  - {id: cam, url: \"" + sim->urls()[0] + "\"}\n");
  ASSERT_TRUE(messages_.wait(health_of("cam", "streaming"), 30s));
  std::this_thread::sleep_for(1s);
  const std::size_t from = messages_.size();
  const auto held_at = Clock::now();
  ASSERT_TRUE(sim->set_faults("cam", SimFaults{true, 0}).ok());
  auto stalled = messages_.wait(health_of("cam", "stalled"), 20s, from);
  ASSERT_TRUE(stalled);
  const double after = seconds(messages_.all()[*stalled].at - held_at);
  std::cout << "[ figures ] stall reported " << after << " s after the server went silent (watchdog 3 s)\n";
  EXPECT_LE(after, 3.0 + 1.0);
  EXPECT_NE(messages_.all()[*stalled].json["reason"].get<std::string>().find("no video packets"), std::string::npos);
  // Released, it comes back by itself.
  ASSERT_TRUE(sim->set_faults("cam", SimFaults{false, 0}).ok());
  EXPECT_TRUE(messages_.wait(health_of("cam", "streaming"), 60s, *stalled));
}

// Garbled payloads: decode errors are counted, nothing crashes or hangs, video keeps flowing.
TEST_F(Faults, CorruptedPayloadIsCountedNotFatal) {
  auto sim = start_sim({vtest("cam")});
  ASSERT_TRUE(sim);
  start_engine("  - {id: cam, url: \"" + sim->urls()[0] + "\"}\n");
  ASSERT_TRUE(messages_.wait(health_of("cam", "streaming"), 30s));
  ASSERT_TRUE(sim->set_faults("cam", SimFaults{false, 2}).ok());
  const std::size_t from = messages_.size();
  auto errors = messages_.wait(
      [](const Message& m) { return m.topic == "health.cam" && m.json["counters"]["decode_errors"].get<int>() > 0; },
      20s, from);
  ASSERT_TRUE(errors) << "no decode error was counted";
  ASSERT_TRUE(sim->set_faults("cam", SimFaults{false, 0}).ok());
  const std::size_t later = messages_.size();
  auto fine = messages_.wait(
      [](const Message& m) {
        return m.topic == "health.cam" && m.json.value("state", "") == "streaming" &&
               !m.json["last_frame_age_s"].is_null() && m.json["last_frame_age_s"].get<double>() < 2.0;
      },
      30s, later);
  EXPECT_TRUE(fine) << "frames did not keep coming after the corruption";
  std::cout << "[ figures ] decode errors counted: " << messages_.all()[*errors].json["counters"]["decode_errors"]
            << "\n";
}

// Wrong password and a missing path: a clear reason, and a backoff slower than usual that grows.
// Issue 19, D7: a password with '/', '@', ':' and '#', pasted unescaped, still logs in (rtspsrc gets it in
// user-id/user-pw, not in its location, whose parser would end it at the '/'), and no message carries it
// (check_every_message looks for "s3cret").
TEST_F(Faults, APasswordWithSlashAtColonAndHashLogsIn) {
  auto sim = start_sim({vtest("cam")}, 0, "admin", "s3cret/p@ss:w#1");
  ASSERT_TRUE(sim);
  start_engine("  - {id: cam, url: \"rtsp://admin:s3cret/p@ss:w#1@127.0.0.1:" + std::to_string(sim->port()) +
               "/cam\"}\n");
  EXPECT_TRUE(messages_.wait(health_of("cam", "streaming"), 30s)) << "the password must work as pasted";
}

TEST_F(Faults, WrongPasswordAndMissingPathBackOffSlowly) {
  auto sim = start_sim({vtest("cam")}, 0, "viewer", "right");
  ASSERT_TRUE(sim);
  const std::string base = "127.0.0.1:" + std::to_string(sim->port());
  start_engine("  - {id: badpw, url: \"rtsp://viewer:s3cret@" + base +
               "/cam\"}\n"
               "  - {id: nopath, url: \"rtsp://viewer:right@" +
               base +
               "/nothing-here\"}\n"
               "  - {id: good, url: \"rtsp://viewer:right@" +
               base + "/cam\"}\n");
  EXPECT_TRUE(messages_.wait(health_of("good", "streaming"), 30s)) << "the right password must work";
  for (const auto& [cam, marker] :
       {std::pair{std::string("badpw"), std::string("(401)")}, {std::string("nopath"), std::string("(404)")}}) {
    auto first = messages_.wait(health_of(cam, "backoff"), 30s);
    ASSERT_TRUE(first) << cam;
    const std::string first_at = messages_.all()[*first].json["at"];
    // The next state change (heartbeats repeat the current state with the same `at`).
    auto second = messages_.wait(
        [&](const Message& m) { return health_of(cam, "backoff")(m) && m.json["at"] != first_at; }, 40s, *first + 1);
    ASSERT_TRUE(second) << cam;
    const Json a = messages_.all()[*first].json, b = messages_.all()[*second].json;
    EXPECT_NE(a["reason"].get<std::string>().find(marker), std::string::npos) << a.dump();
    EXPECT_GE(a["retry_in_s"].get<double>(), 5.0 * 0.8) << "a refusal waits longer than an ordinary failure (1 s)";
    EXPECT_GT(b["retry_in_s"].get<double>(), a["retry_in_s"].get<double>()) << "and the wait grows";
    std::cout << "[ figures ] " << cam << ": " << a["reason"] << " retry " << a["retry_in_s"] << " s then "
              << b["retry_in_s"] << " s\n";
  }
}

// Ten cameras, one dead; mounts that accept only TCP or only UDP work with transport auto. The nine live
// ones keep their analysis frame rate.
TEST_F(Faults, TenCamerasOneDeadAndBothTransports) {
  std::vector<SimSource> sources;
  for (int i = 0; i < 9; ++i) {
    const SimTransport t = i == 0 ? SimTransport::kTcpOnly : i == 1 ? SimTransport::kUdpOnly : SimTransport::kAny;
    sources.push_back(vtest("c" + std::to_string(i), t));
  }
  auto sim = start_sim(sources);
  ASSERT_TRUE(sim);
  std::string cams;
  for (int i = 0; i < 9; ++i) cams += "  - {id: c" + std::to_string(i) + ", url: \"" + sim->urls()[i] + "\"}\n";
  cams += "  - {id: dead, url: \"rtsp://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/gone\"}\n";
  start_engine(cams);
  for (int i = 0; i < 9; ++i)
    ASSERT_TRUE(messages_.wait(health_of("c" + std::to_string(i), "streaming"), 60s)) << "c" << i;
  // Analysed-frame counts from two heartbeats 6 s apart.
  auto counts = [&](std::size_t from) {
    std::map<std::string, std::pair<double, Clock::time_point>> out;
    auto at = messages_.wait([](const Message& m) { return m.topic == "heartbeat"; }, 10s, from);
    EXPECT_TRUE(at);
    // The heartbeat is followed by every camera's health, in config order: wait for the last one.
    auto last = messages_.wait([](const Message& m) { return m.topic == "health.dead"; }, 10s, *at);
    EXPECT_TRUE(last);
    for (std::size_t i = *at; i <= *last; ++i) {
      const auto m = messages_.all()[i];
      if (m.topic.rfind("health.", 0) == 0 && !out.count(m.json["camera"]))
        out[m.json["camera"]] = {m.json["counters"]["frames_analysed"].get<double>(), m.at};
      if (out.size() == 10) break;
    }
    return out;
  };
  const auto a = counts(messages_.size());
  std::this_thread::sleep_for(6s);
  const auto b = counts(messages_.size());
  for (int i = 0; i < 9; ++i) {
    const std::string id = "c" + std::to_string(i);
    ASSERT_TRUE(a.count(id) && b.count(id)) << id;
    const double fps = (b.at(id).first - a.at(id).first) / seconds(b.at(id).second - a.at(id).second);
    std::cout << "[ figures ] " << id << " analysed " << fps << " fps (configured 5)\n";
    // A camera the dead one held up would analyse nothing; 5 fps configured, and a loaded machine (the other
    // tests of the suite, at -j2) was seen to take 3.6 of them: the bound asks for half.
    EXPECT_GE(fps, 2.5) << id;
  }
  EXPECT_EQ(b.at("dead").first, 0);
}

// 100 connect/disconnect cycles of a source: threads, descriptors and memory stay flat.
TEST_F(Faults, HundredConnectCyclesLeakNothing) {
  // As `matthan run` does (main.cpp): without a cap, glibc gives each new streaming thread its own arena
  // and RSS creeps up by arenas, not by leaks (measured: +15 % from cycle 10 to 100 uncapped, flat capped).
  mallopt(M_ARENA_MAX, 2);
  auto sim = start_sim({vtest("cam")});
  ASSERT_TRUE(sim);
  auto figures = [] {
    std::ifstream status("/proc/self/status");
    std::string key;
    long rss_kb = 0, threads = 0;
    while (status >> key) {
      if (key == "VmRSS:") status >> rss_kb;
      if (key == "Threads:") status >> threads;
      status.ignore(4096, '\n');
    }
    long fds = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++fds;
    return std::array<long, 3>{rss_kb, threads, fds};
  };
  std::array<long, 3> at10{}, at100{};
  for (int cycle = 1; cycle <= 100; ++cycle) {
    std::mutex mu;
    std::condition_variable cv;
    bool got_frame = false;
    SourceOptions so;
    so.url = sim->urls()[0];
    so.width = 320;
    so.height = 180;
    SourceSink sink;
    sink.on_frame = [&](Frame) {
      std::lock_guard lock(mu);
      got_frame = true;
      cv.notify_all();
    };
    auto source = make_gst_source("cycle", so, std::move(sink));
    std::stop_source stop;
    std::thread runner([&] { (void)source->run(stop.get_token()); });
    {
      std::unique_lock lock(mu);
      cv.wait_for(lock, 20s, [&] { return got_frame; });
    }
    stop.request_stop();
    runner.join();
    ASSERT_TRUE(got_frame) << "cycle " << cycle;
    if (cycle == 10) at10 = figures();
    if (cycle == 100) at100 = figures();
  }
  // The server's sessions close asynchronously; give them a moment before counting.
  std::this_thread::sleep_for(500ms);
  at100 = figures();
  const double growth = 100.0 * (static_cast<double>(at100[0]) - at10[0]) / at10[0];
  std::cout << "[ figures ] cycle 10: RSS " << at10[0] << " kB, " << at10[1] << " threads, " << at10[2] << " fds\n"
            << "[ figures ] cycle 100: RSS " << at100[0] << " kB, " << at100[1] << " threads, " << at100[2] << " fds\n"
            << "[ figures ] RSS growth " << growth << " %\n";
  EXPECT_LT(growth, 5.0);
  EXPECT_LE(at100[1], at10[1] + 2);
  EXPECT_LE(at100[2], at10[2] + 2);
}

}  // namespace
}  // namespace matthan
