// The per-camera retry loop: connect, stream, back off with jitter, and report every state change.
#include "matthan/ingest/supervisor.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "matthan/core/logging.hpp"
#include "matthan/ingest/redact.hpp"

namespace matthan {

BackoffPolicy backoff_policy(double max_s) {
  BackoffPolicy p;
  p.max_s = max_s;
  return p;
}

double backoff_delay(const BackoffPolicy& p, int failures, double rng01, FailureKind kind) {
  if (p.steps_s.empty()) return 0;
  const bool refused = kind != FailureKind::kOther;
  const auto last = static_cast<int>(p.steps_s.size()) - 1;
  const int n = refused ? std::max(failures, 0) + std::clamp(p.refused_skip, 0, last) : failures;
  double step = p.steps_s[static_cast<std::size_t>(std::clamp(n, 0, last))];
  const double jitter = std::clamp(p.jitter, 0.0, 1.0);
  // The step, not the delay, is cut (to max / (1 + jitter)): capped retries stay spread by their jitter rather
  // than all landing on the cap, and none waits longer than it.
  if (!refused) step = std::min(step, std::max(0.0, p.max_s) / (1.0 + jitter));
  const double r = std::clamp(rng01, 0.0, 1.0);
  return std::max(0.0, step * (1.0 + jitter * (2.0 * r - 1.0)));
}

FailureKind classify_failure(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUnauthorized:
      return FailureKind::kUnauthorized;
    case ErrorCode::kNotFound:
      return FailureKind::kNotFound;
    default:
      return FailureKind::kOther;
  }
}

// Scoped to one attempt (MediaMTX's "ready ... defer not ready"): while it lives the first packet may
// mark the camera streaming; once it is gone the camera is not streaming, whatever happened in between.
class CameraSupervisor::AttemptGuard {
 public:
  AttemptGuard(CameraSupervisor& owner, double& streamed_s) : owner_(owner), streamed_s_(streamed_s) {
    {
      std::lock_guard lock(owner_.mu_);
      owner_.attempt_active_ = true;
    }
    owner_.awaiting_first_packet_.store(true);
  }
  AttemptGuard(const AttemptGuard&) = delete;
  AttemptGuard& operator=(const AttemptGuard&) = delete;
  ~AttemptGuard() {
    owner_.awaiting_first_packet_.store(false);
    std::lock_guard notify(owner_.notify_mu_);
    std::lock_guard lock(owner_.mu_);
    owner_.attempt_active_ = false;
    if (owner_.state_ != CameraState::kStreaming && owner_.state_ != CameraState::kStalled) return;
    streamed_s_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - owner_.streaming_since_).count();
    // The supervisor thread reports the next state (backoff or stopped) with its reason right after.
    owner_.state_ = CameraState::kConnecting;
    owner_.reason_ = "stream ended";
    owner_.since_ = std::chrono::system_clock::now();
  }

 private:
  CameraSupervisor& owner_;
  double& streamed_s_;
};

CameraSupervisor::CameraSupervisor(CameraId camera, SourceFactory factory, BackoffPolicy policy,
                                   std::function<void(const CameraHealth&)> on_change, WatchdogPolicy watchdog,
                                   std::shared_ptr<ConnectGate> connect_gate)
    : camera_(std::move(camera)),
      factory_(std::move(factory)),
      policy_(std::move(policy)),
      on_change_(std::move(on_change)),
      connect_gate_(std::move(connect_gate)),
      watchdog_(watchdog) {}

CameraSupervisor::CameraSupervisor(CameraId camera, SourceMaker make_source, StreamOutput output, BackoffPolicy policy,
                                   std::function<void(const CameraHealth&)> on_change, WatchdogPolicy watchdog,
                                   std::shared_ptr<ConnectGate> connect_gate)
    : CameraSupervisor(
          std::move(camera),
          [this, make = std::move(make_source), out = std::move(output)] { return make(sink_for(out)); },
          std::move(policy), std::move(on_change), watchdog, std::move(connect_gate)) {}

SourceSink CameraSupervisor::sink_for(const StreamOutput& output) {
  SourceSink sink;
  sink.on_packet = [this, consume = output.on_packet](EncodedPacket p) {
    note_packet(p);
    if (consume) consume(std::move(p));
  };
  sink.on_untimed_packet = [this] { note_untimed_packet(); };
  sink.on_connected = [this] { note_connected(); };
  if (output.on_frame) {
    sink.on_frame = [this, consume = output.on_frame](Frame f) {
      note_frame(f);
      consume(std::move(f));
    };
    sink.on_decode_error = [this] { note_decode_error(); };
    sink.on_decoder_input = [this] { note_decoder_input(); };
  }
  sink.watchdog = [this] { return check_watchdog(); };
  return sink;
}

CameraSupervisor::~CameraSupervisor() {
  stop();
}

void CameraSupervisor::start() {
  std::lock_guard life(life_mu_);
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](const std::stop_token& stop) { loop(stop); });
}

void CameraSupervisor::stop() {
  std::lock_guard life(life_mu_);
  if (!thread_.joinable()) return;
  thread_.request_stop();
  {
    std::lock_guard lock(wait_mu_);  // so a waiter cannot miss the wake-up between its check and its wait
  }
  wait_cv_.notify_all();
  thread_.join();
  thread_ = std::jthread();
}

CameraHealth CameraSupervisor::health() const {
  CameraHealth h;
  {
    std::lock_guard lock(mu_);
    h.state = state_;
    h.reason = reason_;
    h.reconnects = reconnects_;
    h.stalls = stalls_;
    h.retry_in_s = state_ == CameraState::kBackoff ? retry_in_s_ : -1;
    h.since = since_;
  }
  h.packets = packets_.load(std::memory_order_relaxed);
  h.frames = frames_.load(std::memory_order_relaxed);
  h.decode_errors = decode_errors_.load(std::memory_order_relaxed);
  h.untimed_packets = untimed_packets_.load(std::memory_order_relaxed);
  std::optional<StallWatchdog::Clock::time_point> last_frame;
  {
    std::lock_guard lock(watchdog_mu_);
    last_frame = watchdog_.last_frame();
  }
  if (last_frame) h.last_frame_age_s = std::chrono::duration<double>(StallWatchdog::Clock::now() - *last_frame).count();
  return h;
}

void CameraSupervisor::note_packet(const EncodedPacket& packet) {
  const double fps = packet.stream && packet.stream->fps_num > 0 && packet.stream->fps_den > 0
                         ? static_cast<double>(packet.stream->fps_num) / packet.stream->fps_den
                         : 0.0;
  note_packet();
  std::lock_guard lock(watchdog_mu_);
  watchdog_.on_packet(StallWatchdog::Clock::now(), packet.dts, fps);
}

void CameraSupervisor::note_frame(const Frame& frame) {
  const std::uint64_t signature = frame_signature(frame);
  note_frame();
  std::lock_guard lock(watchdog_mu_);
  watchdog_.on_frame(StallWatchdog::Clock::now(), signature);
}

void CameraSupervisor::note_decoder_input() {
  std::lock_guard lock(watchdog_mu_);
  watchdog_.on_decoder_input(StallWatchdog::Clock::now());
}

void CameraSupervisor::note_decode_error() {
  decode_errors_.fetch_add(1, std::memory_order_relaxed);
}

void CameraSupervisor::note_connected() {
  release_connect_place(true);
}

void CameraSupervisor::note_untimed_packet() {
  untimed_packets_.fetch_add(1, std::memory_order_relaxed);
}

std::string CameraSupervisor::check_watchdog() {
  {
    std::lock_guard lock(mu_);
    if (state_ == CameraState::kStalled) return reason_;  // already reported: keep telling the source
    if (state_ != CameraState::kStreaming) return {};
  }
  std::optional<std::string> reason;
  {
    std::lock_guard lock(watchdog_mu_);
    reason = watchdog_.check(StallWatchdog::Clock::now());
  }
  if (!reason) return {};
  {
    std::lock_guard lock(mu_);
    ++stalls_;
  }
  set_state(CameraState::kStalled, *reason);
  return *reason;
}

void CameraSupervisor::note_packet() {
  packets_.fetch_add(1, std::memory_order_relaxed);
  if (awaiting_first_packet_.load(std::memory_order_relaxed) && awaiting_first_packet_.exchange(false))
    enter_streaming();
}

void CameraSupervisor::note_frame() {
  frames_.fetch_add(1, std::memory_order_relaxed);
}

void CameraSupervisor::enter_streaming() {
  release_connect_place(true);  // connected: the next camera in line may start
  CameraHealth snapshot;
  {
    std::lock_guard notify(notify_mu_);
    {
      std::lock_guard lock(mu_);
      if (!attempt_active_ || state_ == CameraState::kStreaming) return;
      state_ = CameraState::kStreaming;
      reason_.clear();
      since_ = std::chrono::system_clock::now();
      streaming_since_ = std::chrono::steady_clock::now();
    }
    {
      std::lock_guard lock(watchdog_mu_);
      watchdog_.reset(StallWatchdog::Clock::now());
    }
    snapshot = health();
    camera_logger(camera_)->info("camera state: streaming");
    if (on_change_) on_change_(snapshot);
  }
}

void CameraSupervisor::set_state(CameraState state, std::string reason, std::string_view log_detail,
                                 double retry_in_s) {
  std::lock_guard notify(notify_mu_);
  reason = redact_credentials(reason);
  {
    std::lock_guard lock(mu_);
    state_ = state;
    reason_ = reason;
    since_ = std::chrono::system_clock::now();
    retry_in_s_ = retry_in_s;
  }
  auto log = camera_logger(camera_);
  const auto level = state == CameraState::kBackoff ? spdlog::level::warn : spdlog::level::info;
  if (reason.empty()) {
    log->log(level, "camera state: {}{}", to_string(state), log_detail);
  } else {
    log->log(level, "camera state: {} ({}){}", to_string(state), reason, log_detail);
  }
  if (on_change_) on_change_(health());
}

// Waits, still `connecting`, for a place among the cameras connecting at once; false when stopped meanwhile.
bool CameraSupervisor::take_connect_place(const std::stop_token& stop) {
  if (!connect_gate_) return true;
  const int ahead = connect_gate_->connecting() + connect_gate_->waiting();
  const bool queued = connect_gate_->max_connecting() > 0 && ahead >= connect_gate_->max_connecting();
  if (queued) set_state(CameraState::kConnecting, fmt::format("waiting for {} camera(s) connecting ahead", ahead));
  if (!connect_gate_->acquire(stop)) return false;
  // The store below publishes it to the streaming threads.
  place_taken_at_ = std::chrono::steady_clock::now();
  holds_connect_place_.store(true);
  if (queued) set_state(CameraState::kConnecting, {});  // its turn: the wait is over
  return true;
}

// `connected`: the first packet came, and how long it took tells the gate how slow connecting is just now.
void CameraSupervisor::release_connect_place(bool connected) {
  if (!connect_gate_ || !holds_connect_place_.exchange(false)) return;
  if (connected) {
    const auto took = std::chrono::steady_clock::now() - place_taken_at_;
    connect_gate_->note_connected(std::chrono::duration<double>(took).count());
  }
  connect_gate_->release();
}

CameraSupervisor::AttemptOutcome CameraSupervisor::run_attempt(const std::stop_token& stop) {
  AttemptOutcome out;
  if (!take_connect_place(stop)) {
    out.reason = "stopped";
    return out;
  }
  {
    AttemptGuard guard(*this, out.streamed_s);
    // Declared after the guard, so the source (and its pipeline) is gone before the guard ends the attempt.
    auto source = factory_ ? factory_() : nullptr;
    if (!source) {
      out.reason = "no source could be created for this camera";
    } else {
      const Status status = source->run(stop);
      out.reason = status.ok() ? std::string("stopped") : status.error().message;
      if (!status.ok()) out.code = status.error().code;
    }
  }
  release_connect_place(false);  // no first packet came (or it did, and the place went back then)
  return out;
}

bool CameraSupervisor::wait_backoff(const std::stop_token& stop, double seconds) {
  std::unique_lock lock(wait_mu_);
  const auto deadline =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  wait_cv_.wait_until(lock, stop, deadline, [] { return false; });
  return !stop.stop_requested();
}

void CameraSupervisor::loop(const std::stop_token& stop) {
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  int failures = 0;
  for (bool first = true; !stop.stop_requested(); first = false) {
    if (!first) {
      std::lock_guard lock(mu_);
      ++reconnects_;
    }
    set_state(CameraState::kConnecting, {});
    const AttemptOutcome out = run_attempt(stop);
    if (stop.stop_requested()) break;
    if (out.streamed_s >= policy_.healthy_reset_s) failures = 0;
    // Refused outright (401, 404): retrying sooner cannot help, so the delay runs ahead of the usual steps.
    const double delay = backoff_delay(policy_, failures, uniform(rng_), classify_failure(out.code));
    ++failures;
    set_state(CameraState::kBackoff, out.reason, fmt::format(", retrying in {:.2f} s", delay), delay);
    if (!wait_backoff(stop, delay)) break;
  }
  set_state(CameraState::kStopped, "stopped on request");
}

}  // namespace matthan
