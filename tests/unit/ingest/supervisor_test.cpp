// The camera supervisor's state machine, driven by a scripted fake source.
#include "matthan/ingest/supervisor.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace matthan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Records every reported state change, and lets a test wait for a condition on them.
class Recorder {
 public:
  void operator()(const CameraHealth& h) {
    {
      std::lock_guard lock(mu_);
      events_.push_back({h, Clock::now()});
    }
    cv_.notify_all();
  }
  struct Event {
    CameraHealth health;
    Clock::time_point at;
  };
  std::vector<Event> events() const {
    std::lock_guard lock(mu_);
    return events_;
  }
  int count(CameraState s) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const auto& e : events_) n += e.health.state == s ? 1 : 0;
    return n;
  }
  bool wait_for_count(CameraState s, int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      int c = 0;
      for (const auto& e : events_) c += e.health.state == s ? 1 : 0;
      return c >= n;
    });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> events_;  // guarded by mu_
};

// A source whose run() is a test-supplied function.
class FakeSource : public CameraSource {
 public:
  explicit FakeSource(std::function<Status(std::stop_token)> body) : body_(std::move(body)) {}
  Status run(std::stop_token stop) override { return body_(stop); }

 private:
  std::function<Status(std::stop_token)> body_;
};

BackoffPolicy fast_policy(std::vector<double> steps, double healthy_reset_s = 100) {
  BackoffPolicy p;
  p.steps_s = std::move(steps);
  p.jitter = 0;
  p.healthy_reset_s = healthy_reset_s;
  return p;
}

void wait_until_stopped(const std::stop_token& stop) {
  while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
}

TEST(Supervisor, StatesHaveNames) {
  EXPECT_EQ(to_string(CameraState::kConnecting), "connecting");
  EXPECT_EQ(to_string(CameraState::kStreaming), "streaming");
  EXPECT_EQ(to_string(CameraState::kBackoff), "backoff");
  EXPECT_EQ(to_string(CameraState::kStalled), "stalled");
  EXPECT_EQ(to_string(CameraState::kStopped), "stopped");
}

TEST(Supervisor, FailuresBackOffWithGrowingDelaysAndCountReconnects) {
  Recorder rec;
  std::atomic<int> attempts{0};
  CameraSupervisor sup(
      "cam1",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token) -> Status {
          ++attempts;
          return make_error("connection refused by rtsp://admin:topsecret@10.0.0.9/x");
        });
      },
      fast_policy({0.05, 0.15, 0.3}), std::ref(rec));
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kConnecting, 4, 5s));
  sup.stop();

  const auto events = rec.events();
  // The delay between a backoff and the next connecting attempt follows the steps.
  std::vector<double> gaps;
  for (std::size_t i = 1; i < events.size(); ++i) {
    if (events[i - 1].health.state == CameraState::kBackoff && events[i].health.state == CameraState::kConnecting)
      gaps.push_back(std::chrono::duration<double>(events[i].at - events[i - 1].at).count());
  }
  ASSERT_GE(gaps.size(), 3u);
  EXPECT_GE(gaps[0], 0.05);
  EXPECT_GE(gaps[1], 0.15);
  EXPECT_GE(gaps[2], 0.3);
  EXPECT_LT(gaps[0], gaps[2]);
  for (const auto& e : events) {
    if (e.health.state != CameraState::kBackoff) continue;
    EXPECT_NE(e.health.reason.find("connection refused"), std::string::npos) << e.health.reason;
    EXPECT_EQ(e.health.reason.find("topsecret"), std::string::npos) << e.health.reason;
    EXPECT_EQ(e.health.packets, 0u);
  }
  EXPECT_GE(sup.health().reconnects, 3u);
  EXPECT_EQ(sup.health().reconnects + 1, static_cast<std::uint64_t>(attempts.load()));
  EXPECT_EQ(sup.health().state, CameraState::kStopped);
  EXPECT_EQ(events.back().health.state, CameraState::kStopped);
}

TEST(Supervisor, StreamingStartsWithTheFirstPacketAndEndsWhenRunReturns) {
  Recorder rec;
  CameraSupervisor* sup_ptr = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;  // guarded by mu
  std::atomic<bool> fed{false};
  std::atomic<int> attempts{0};
  CameraSupervisor sup(
      "cam2",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          if (++attempts > 1) {
            wait_until_stopped(stop);
            return {};
          }
          sup_ptr->note_packet();
          sup_ptr->note_packet();
          sup_ptr->note_frame();
          fed = true;
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return release; });
          return make_error("stream ended");
        });
      },
      fast_policy({30}), std::ref(rec));
  sup_ptr = &sup;
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kStreaming, 1, 5s));
  while (!fed) std::this_thread::sleep_for(1ms);
  auto h = sup.health();
  EXPECT_EQ(h.state, CameraState::kStreaming);
  EXPECT_EQ(h.packets, 2u);
  EXPECT_EQ(h.frames, 1u);
  EXPECT_EQ(rec.count(CameraState::kStreaming), 1) << "only the first packet changes the state";

  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kBackoff, 1, 5s));
  h = sup.health();
  EXPECT_EQ(h.state, CameraState::kBackoff);
  EXPECT_EQ(h.reason, "stream ended");

  // A straggling packet after the attempt ended (a late callback) must not revive "streaming".
  sup.note_packet();
  EXPECT_EQ(sup.health().state, CameraState::kBackoff);
  EXPECT_EQ(sup.health().packets, 3u);
  EXPECT_EQ(rec.count(CameraState::kStreaming), 1);

  const auto t0 = Clock::now();
  sup.stop();  // in the middle of a 30 s backoff
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_EQ(sup.health().state, CameraState::kStopped);
}

TEST(Supervisor, StopIsPromptWhileASourceRunsAndIsIdempotent) {
  Recorder rec;
  std::atomic<bool> saw_stop{false};
  CameraSupervisor sup(
      "cam3",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          wait_until_stopped(stop);
          saw_stop = true;
          return {};
        });
      },
      fast_policy({1}), std::ref(rec));
  sup.start();
  sup.start();  // a second start does nothing
  ASSERT_TRUE(rec.wait_for_count(CameraState::kConnecting, 1, 5s));
  const auto t0 = Clock::now();
  sup.stop();
  EXPECT_LT(Clock::now() - t0, 2s);
  EXPECT_TRUE(saw_stop);
  sup.stop();
  EXPECT_EQ(rec.count(CameraState::kStopped), 1);
  EXPECT_EQ(rec.count(CameraState::kBackoff), 0) << "a requested stop is not a failure";
}

TEST(Supervisor, DestructorStops) {
  Recorder rec;
  std::atomic<bool> saw_stop{false};
  {
    CameraSupervisor sup(
        "cam4",
        [&] {
          return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
            wait_until_stopped(stop);
            saw_stop = true;
            return {};
          });
        },
        fast_policy({1}), std::ref(rec));
    sup.start();
    ASSERT_TRUE(rec.wait_for_count(CameraState::kConnecting, 1, 5s));
  }
  EXPECT_TRUE(saw_stop);
  EXPECT_EQ(rec.events().back().health.state, CameraState::kStopped);
}

TEST(Supervisor, FactoryFailureIsABackoffWithAReason) {
  Recorder rec;
  CameraSupervisor sup(
      "cam5", [] { return std::unique_ptr<CameraSource>(); }, fast_policy({0.01}), std::ref(rec));
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kBackoff, 2, 5s));
  sup.stop();
  for (const auto& e : rec.events()) {
    if (e.health.state == CameraState::kBackoff) {
      EXPECT_FALSE(e.health.reason.empty());
    }
  }
}

// Counts attempts started within `window` for a source that streams for `stream_s` and then fails.
int attempts_within(double healthy_reset_s, double stream_s, std::chrono::milliseconds window) {
  Recorder rec;
  CameraSupervisor* sup_ptr = nullptr;
  CameraSupervisor sup(
      "cam6",
      [&] {
        return std::make_unique<FakeSource>([&, stream_s](std::stop_token stop) -> Status {
          sup_ptr->note_packet();
          const auto until = Clock::now() + std::chrono::duration<double>(stream_s);
          while (Clock::now() < until && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
          return make_error("dropped");
        });
      },
      fast_policy({0.01, 20}, healthy_reset_s), std::ref(rec));
  sup_ptr = &sup;
  sup.start();
  std::this_thread::sleep_for(window);
  sup.stop();
  return rec.count(CameraState::kConnecting);
}

TEST(Supervisor, LongEnoughStreamingForgivesEarlierFailures) {
  // Without the reset the second failure waits 20 s; with it every failure is a "first" one (10 ms).
  EXPECT_EQ(attempts_within(/*healthy_reset_s=*/100, 0.05, 800ms), 2);
  EXPECT_GE(attempts_within(/*healthy_reset_s=*/0.02, 0.05, 800ms), 4);
}

TEST(Supervisor, WatchdogReportsStalledThenBacksOffWithTheSameReason) {
  Recorder rec;
  CameraSupervisor* sup_ptr = nullptr;
  WatchdogPolicy wd;
  wd.stall_s = 0.3;
  std::atomic<double> run_returned_after{0};
  CameraSupervisor sup(
      "cam1",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          EncodedPacket p;
          p.dts = 0;
          sup_ptr->note_packet(p);  // one packet, then silence on an open "socket"
          const auto t0 = Clock::now();
          while (!stop.stop_requested()) {
            if (auto reason = sup_ptr->check_watchdog(); !reason.empty()) {
              run_returned_after = std::chrono::duration<double>(Clock::now() - t0).count();
              return make_error(reason);
            }
            std::this_thread::sleep_for(20ms);
          }
          return {};
        });
      },
      fast_policy({5.0}), std::ref(rec), wd);
  sup_ptr = &sup;
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kBackoff, 1, 5s));
  sup.stop();
  const auto events = rec.events();
  std::vector<CameraState> states;
  for (const auto& e : events) states.push_back(e.health.state);
  ASSERT_GE(states.size(), 4u);
  EXPECT_EQ(states[0], CameraState::kConnecting);
  EXPECT_EQ(states[1], CameraState::kStreaming);
  EXPECT_EQ(states[2], CameraState::kStalled);
  EXPECT_EQ(states[3], CameraState::kBackoff);
  EXPECT_NE(events[2].health.reason.find("no video packets"), std::string::npos) << events[2].health.reason;
  EXPECT_EQ(events[3].health.reason, events[2].health.reason);
  EXPECT_EQ(events[2].health.stalls, 1u);
  EXPECT_GE(run_returned_after.load(), 0.3);
  EXPECT_LT(run_returned_after.load(), 2.0);
}

TEST(Supervisor, WatchdogIsQuietUnlessStreaming) {
  CameraSupervisor sup("cam1", [] { return nullptr; }, fast_policy({1.0}), {});
  EXPECT_EQ(sup.check_watchdog(), "");
}

// The retry policy reads the error's code (a source sets it from GStreamer's GError), never its text.
TEST(Supervisor, RefusalsAreClassified) {
  EXPECT_EQ(classify_failure(ErrorCode::kUnauthorized), FailureKind::kUnauthorized);
  EXPECT_EQ(classify_failure(ErrorCode::kNotFound), FailureKind::kNotFound);
  EXPECT_EQ(classify_failure(ErrorCode::kRefused), FailureKind::kOther);
  EXPECT_EQ(classify_failure(ErrorCode::kOther), FailureKind::kOther);
}

// Gaps between a backoff and the next connecting, for sources that fail at once.
std::vector<double> backoff_gaps(const Recorder& rec) {
  const auto events = rec.events();
  std::vector<double> gaps;
  for (std::size_t i = 1; i < events.size(); ++i) {
    if (events[i - 1].health.state == CameraState::kBackoff && events[i].health.state == CameraState::kConnecting)
      gaps.push_back(std::chrono::duration<double>(events[i].at - events[i - 1].at).count());
  }
  return gaps;
}

// "(401)" in a reason is only text: without the code, the failure takes the usual first step.
TEST(Supervisor, A401InTheTextWithoutTheCodeIsNotARefusal) {
  Recorder rec;
  CameraSupervisor sup(
      "cam1",
      [&] {
        return std::make_unique<FakeSource>([](std::stop_token) -> Status {
          return make_error(ErrorCode::kOther, "rtspsrc: the server said (401) somewhere in its banner");
        });
      },
      fast_policy({0.05, 0.1, 2.0, 4.0}), std::ref(rec));
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kConnecting, 3, 5s));
  sup.stop();
  const auto gaps = backoff_gaps(rec);
  ASSERT_GE(gaps.size(), 2u);
  EXPECT_LT(gaps[0], 1.5) << "not skipped ahead to the refused step";
  EXPECT_LT(gaps[1], 1.5);
}

// 401 and 404 wait longer than other failures: the delay starts `refused_skip` steps further on.
TEST(Supervisor, RefusedAttemptsBackOffSlowerAndStillGrow) {
  Recorder rec;
  CameraSupervisor sup(
      "cam1",
      [&] {
        return std::make_unique<FakeSource>([](std::stop_token) -> Status {
          return make_error(ErrorCode::kUnauthorized, "unauthorized (401): the camera refused");
        });
      },
      fast_policy({0.02, 0.04, 0.15, 0.3, 0.6}), std::ref(rec));
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kConnecting, 3, 5s));
  sup.stop();
  const auto events = rec.events();
  std::vector<double> gaps;
  for (std::size_t i = 1; i < events.size(); ++i) {
    if (events[i - 1].health.state == CameraState::kBackoff && events[i].health.state == CameraState::kConnecting)
      gaps.push_back(std::chrono::duration<double>(events[i].at - events[i - 1].at).count());
  }
  ASSERT_GE(gaps.size(), 2u);
  EXPECT_GE(gaps[0], 0.15);  // skipped past 0.02 and 0.04
  EXPECT_GE(gaps[1], 0.3);
  for (const auto& e : events) {
    if (e.health.state == CameraState::kBackoff) {
      EXPECT_NE(e.health.reason.find("(401)"), std::string::npos);
    }
  }
}

TEST(Supervisor, HealthCarriesDecodeErrorsUntimedPacketsAndFrameAge) {
  CameraSupervisor sup("cam1", [] { return nullptr; }, fast_policy({1.0}), {});
  EXPECT_EQ(sup.health().last_frame_age_s, -1);
  sup.note_decode_error();
  sup.note_decode_error();
  sup.note_untimed_packet();
  Frame f = make_owned_frame(PixelFormat::kGray8, 64, 64);
  sup.note_frame(f);
  const CameraHealth h = sup.health();
  EXPECT_EQ(h.decode_errors, 2u);
  EXPECT_EQ(h.untimed_packets, 1u);
  EXPECT_EQ(h.frames, 1u);
  EXPECT_GE(h.last_frame_age_s, 0.0);
  EXPECT_LT(h.last_frame_age_s, 5.0);
}

// A factory of sources that connect and then only wait to be stopped; counts the sources it made.
CameraSupervisor::SourceFactory idle_sources(std::atomic<int>& created) {
  return [&created] {
    ++created;
    return std::make_unique<FakeSource>([](std::stop_token stop) -> Status {
      wait_until_stopped(stop);
      return {};
    });
  };
}

// With one place to connect, the second camera's source is not even created until the first camera's first
// packet: its wait is reported (still `connecting`), and does not run against its first-packet timeout.
TEST(Supervisor, CamerasWaitTheirTurnToConnectUntilTheOneAheadHasVideo) {
  auto gate = std::make_shared<ConnectGate>(1);
  Recorder rec_a, rec_b;
  CameraSupervisor* a_ptr = nullptr;
  std::atomic<bool> a_connected{false};  // the test lets camera a's first packet come
  std::atomic<int> b_created{0};
  CameraSupervisor a(
      "cam_a",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          while (!a_connected && !stop.stop_requested()) std::this_thread::sleep_for(1ms);
          std::this_thread::sleep_for(50ms);  // at least this long from taking the place to the first packet
          if (!stop.stop_requested()) a_ptr->note_packet();
          wait_until_stopped(stop);
          return {};
        });
      },
      fast_policy({30}), std::ref(rec_a), {}, gate);
  a_ptr = &a;
  CameraSupervisor b("cam_b", idle_sources(b_created), fast_policy({30}), std::ref(rec_b), {}, gate);
  a.start();
  ASSERT_TRUE(rec_a.wait_for_count(CameraState::kConnecting, 1, 5s));
  while (gate->connecting() < 1) std::this_thread::sleep_for(1ms);
  b.start();
  ASSERT_TRUE(rec_b.wait_for_count(CameraState::kConnecting, 2, 5s)) << "b reports that it waits";
  while (gate->waiting() < 1) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(b_created.load(), 0) << "b's source was created while a was still connecting";
  const auto events = rec_b.events();
  EXPECT_NE(events.back().health.reason.find("waiting for 1 camera(s) connecting ahead"), std::string::npos)
      << events.back().health.reason;

  a_connected = true;
  ASSERT_TRUE(rec_a.wait_for_count(CameraState::kStreaming, 1, 5s));
  while (b_created.load() == 0) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(rec_b.events().back().health.reason, "") << "its turn came: the wait is over";
  EXPECT_EQ(gate->connecting(), 1) << "a gave its place back, b holds it";
  // a's connect (over 50 ms) was noted: with a 10 ms base the first-packet timeout is now longer.
  EXPECT_GT(gate->first_packet_timeout_s(0.01), 0.01);
  b.stop();
  EXPECT_EQ(gate->connecting(), 0) << "b's attempt ended without video: its place went back";
  a.stop();
}

// The source says it is connected (its first access unit) before its first packet is handed out (aligned to a
// keyframe, held while its wall map settles): the place goes back then, while the camera is still connecting.
TEST(Supervisor, TheFirstAccessUnitGivesThePlaceBackBeforeTheFirstPacket) {
  auto gate = std::make_shared<ConnectGate>(1);
  Recorder rec;
  CameraSupervisor* ptr = nullptr;
  std::atomic<bool> connected{false};
  CameraSupervisor a(
      "cam_a",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          std::this_thread::sleep_for(20ms);
          ptr->note_connected();
          connected = true;
          wait_until_stopped(stop);  // no packet ever handed out
          return {};
        });
      },
      fast_policy({30}), std::ref(rec), {}, gate);
  ptr = &a;
  a.start();
  while (!connected) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(gate->connecting(), 0) << "the place was still held after the first access unit";
  EXPECT_EQ(a.health().state, CameraState::kConnecting) << "connected is not streaming: no packet yet";
  EXPECT_GT(gate->first_packet_timeout_s(0.01), 0.01) << "the connect time (20 ms or more) was noted";
  a.stop();
  EXPECT_EQ(gate->connecting(), 0);
}

// A camera that is really down keeps failing and backing off as before, and gives its place back after each
// attempt, so a camera behind it connects.
TEST(Supervisor, CameraThatIsDownStillRetriesAndDoesNotHoldThePlace) {
  auto gate = std::make_shared<ConnectGate>(1);
  Recorder rec_down, rec_up;
  std::atomic<int> down_attempts{0};
  CameraSupervisor down(
      "cam_down",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token) -> Status {
          ++down_attempts;
          return make_error("no video received within 15.0 s of connecting");
        });
      },
      fast_policy({0.05, 0.1, 0.2}), std::ref(rec_down), {}, gate);
  CameraSupervisor* up_ptr = nullptr;
  CameraSupervisor up(
      "cam_up",
      [&] {
        return std::make_unique<FakeSource>([&](std::stop_token stop) -> Status {
          up_ptr->note_packet();
          wait_until_stopped(stop);
          return {};
        });
      },
      fast_policy({30}), std::ref(rec_up), {}, gate);
  up_ptr = &up;
  down.start();
  up.start();
  ASSERT_TRUE(rec_up.wait_for_count(CameraState::kStreaming, 1, 5s));
  ASSERT_TRUE(rec_down.wait_for_count(CameraState::kBackoff, 4, 5s));
  down.stop();
  std::vector<double> retry_in;
  for (const auto& e : rec_down.events()) {
    if (e.health.state != CameraState::kBackoff) continue;
    EXPECT_NE(e.health.reason.find("no video received"), std::string::npos) << e.health.reason;
    retry_in.push_back(e.health.retry_in_s);
  }
  ASSERT_GE(retry_in.size(), 4u);
  EXPECT_DOUBLE_EQ(retry_in[0], 0.05);
  EXPECT_DOUBLE_EQ(retry_in[1], 0.1);
  EXPECT_DOUBLE_EQ(retry_in[2], 0.2);
  EXPECT_DOUBLE_EQ(retry_in[3], 0.2);
  EXPECT_GE(down.health().reconnects, 3u);
  EXPECT_EQ(down.health().reconnects + 1, static_cast<std::uint64_t>(down_attempts.load()));
  EXPECT_EQ(gate->connecting(), 0) << "up has video and down has stopped: nobody holds a place";
  up.stop();
}

// Stopping a camera that waits for its turn is prompt, creates no source, and leaves the queue.
TEST(Supervisor, StopWhileWaitingToConnectIsPrompt) {
  auto gate = std::make_shared<ConnectGate>(1);
  ASSERT_TRUE(gate->acquire({}));  // another camera connecting, for ever
  Recorder rec;
  std::atomic<int> created{0};
  CameraSupervisor sup("cam_wait", idle_sources(created), fast_policy({30}), std::ref(rec), {}, gate);
  sup.start();
  while (gate->waiting() < 1) std::this_thread::sleep_for(1ms);
  sup.stop();
  EXPECT_EQ(created.load(), 0);
  EXPECT_EQ(gate->waiting(), 0);
  EXPECT_EQ(gate->connecting(), 1);
  EXPECT_EQ(sup.health().state, CameraState::kStopped);
  EXPECT_EQ(rec.count(CameraState::kBackoff), 0) << "stopping is not a failure";
}

}  // namespace
}  // namespace matthan

namespace matthan {
namespace {

// The supervisor builds each attempt's sink: what the source reports lands in the supervisor's own counters and
// watchdog first, and only packets and frames reach the consumer.
TEST(Supervisor, TheSinkItBuildsCountsWhatItSeesAndPassesOnlyPacketsAndFrames) {
  Recorder rec;
  std::atomic<int> packets_out{0}, frames_out{0};
  std::atomic<bool> fed{false};
  std::atomic<bool> decoded_sink{false};
  CameraSupervisor::SourceMaker maker = [&](SourceSink sink) {
    decoded_sink = static_cast<bool>(sink.on_frame) && static_cast<bool>(sink.on_decode_error) &&
                   static_cast<bool>(sink.on_decoder_input);
    return std::make_unique<FakeSource>([&, sink](std::stop_token stop) -> Status {
      sink.on_connected();
      EncodedPacket p;
      p.keyframe = true;
      sink.on_packet(p);
      sink.on_packet(p);
      sink.on_untimed_packet();
      sink.on_decoder_input();
      sink.on_decode_error();
      sink.on_frame(make_owned_frame(PixelFormat::kGray8, 64, 64));
      EXPECT_TRUE(sink.watchdog().empty()) << "a fed stream is healthy";
      fed = true;
      wait_until_stopped(stop);
      return {};
    });
  };
  StreamOutput out{[&](EncodedPacket) { ++packets_out; }, [&](Frame) { ++frames_out; }};
  CameraSupervisor sup("cam-sink", maker, out, fast_policy({30}), std::ref(rec));
  sup.start();
  ASSERT_TRUE(rec.wait_for_count(CameraState::kStreaming, 1, 5s));
  for (int i = 0; i < 5000 && !fed; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(fed);
  EXPECT_TRUE(decoded_sink) << "a stream with a frame consumer gets the decoder's callbacks";
  const CameraHealth h = sup.health();
  EXPECT_EQ(h.packets, 2u);
  EXPECT_EQ(h.frames, 1u);
  EXPECT_EQ(h.untimed_packets, 1u);
  EXPECT_EQ(h.decode_errors, 1u);
  EXPECT_GE(h.last_frame_age_s, 0.0);
  EXPECT_EQ(packets_out.load(), 2);
  EXPECT_EQ(frames_out.load(), 1);
  sup.stop();
}

TEST(Supervisor, AStreamWithoutAFrameConsumerIsNotDecoded) {
  std::atomic<bool> made{false}, has_frame_callback{true};
  CameraSupervisor::SourceMaker maker = [&](SourceSink sink) {
    has_frame_callback = static_cast<bool>(sink.on_frame);
    made = true;
    return std::make_unique<FakeSource>([](std::stop_token stop) -> Status {
      wait_until_stopped(stop);
      return {};
    });
  };
  CameraSupervisor sup("cam-rec", maker, StreamOutput{[](EncodedPacket) {}, nullptr}, fast_policy({30}), {});
  sup.start();
  for (int i = 0; i < 5000 && !made; ++i) std::this_thread::sleep_for(1ms);
  ASSERT_TRUE(made);
  EXPECT_FALSE(has_frame_callback);
  sup.stop();
}

}  // namespace
}  // namespace matthan
