// Per-camera supervisor: runs a fresh source per attempt, tracks health, and reconnects with backoff and
// jitter.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "matthan/core/camera_health.hpp"
#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"
#include "matthan/ingest/connect_gate.hpp"
#include "matthan/ingest/gst_source.hpp"
#include "matthan/ingest/stall_watchdog.hpp"

namespace matthan {

struct BackoffPolicy {
  std::vector<double> steps_s{1, 2, 5, 10, 30, 60};
  double jitter = 0.2;          // +-20 % of the step
  double healthy_reset_s = 30;  // streaming this long forgives earlier failures
  int refused_skip = 2;         // 401 / 404: the delay skips this many steps ahead (slower, never hammering)
  // Any other failure (refused, dropped, timed out) waits at most this long, jitter included: retrying a
  // connection on a LAN costs nothing, and a camera that comes back is read again within it. 401 / 404 keep
  // the full steps. Infinity: no cap.
  double max_s = std::numeric_limits<double>::infinity();
};

// The engine's policy: the default steps, with ordinary failures capped at `max_s` (ingest.backoff_max_s).
BackoffPolicy backoff_policy(double max_s);

// Why an attempt failed, as far as the retry policy cares: from the error's code, never its text.
enum class FailureKind { kOther, kUnauthorized, kNotFound };
FailureKind classify_failure(ErrorCode code);

// Delay before retrying after the n-th consecutive failure (0-based) of this kind; rng01 in [0,1) picks the
// jitter. A refusal (401, 404) starts `refused_skip` steps further on and is not capped by `max_s`.
double backoff_delay(const BackoffPolicy& p, int failures, double rng01, FailureKind kind = FailureKind::kOther);

// What a stream's consumer gets from it: packets and frames, nothing else. The supervisor keeps the rest (its
// counters, the watchdog, the connect gate) to itself.
struct StreamOutput {
  std::function<void(EncodedPacket)> on_packet;  // may be empty: the packets then only feed the watchdog
  std::function<void(Frame)> on_frame;           // empty when the stream is not decoded
};

// One thread per camera owns the retry loop; the source is created fresh for every attempt.
class CameraSupervisor {
 public:
  using SourceFactory = std::function<std::unique_ptr<CameraSource>()>;
  // Makes one attempt's source around the sink the supervisor built for it.
  using SourceMaker = std::function<std::unique_ptr<CameraSource>(SourceSink sink)>;
  // The usual shape: the supervisor builds each attempt's sink, which feeds its own counters and watchdog
  // and then hands packets and frames to `output`.
  CameraSupervisor(CameraId camera, SourceMaker make_source, StreamOutput output, BackoffPolicy policy,
                   std::function<void(const CameraHealth&)> on_change, WatchdogPolicy watchdog = {},
                   std::shared_ptr<ConnectGate> connect_gate = nullptr);
  // on_change runs on the supervisor thread or a streaming thread, serialised; it must not call stop().
  // connect_gate (shared by the engine's cameras, may be null): each attempt waits for a place in it before
  // its source is created, and holds it until the first packet or the attempt's end.
  CameraSupervisor(CameraId camera, SourceFactory factory, BackoffPolicy policy,
                   std::function<void(const CameraHealth&)> on_change, WatchdogPolicy watchdog = {},
                   std::shared_ptr<ConnectGate> connect_gate = nullptr);
  ~CameraSupervisor();
  CameraSupervisor(const CameraSupervisor&) = delete;
  CameraSupervisor& operator=(const CameraSupervisor&) = delete;

  void start();
  void stop();  // prompt, joins, idempotent
  CameraHealth health() const;

  // Counters, called from the sink callbacks (GStreamer threads); short critical sections only.
  void note_packet();
  void note_packet(const EncodedPacket& packet);  // also feeds the stall watchdog
  void note_frame();
  void note_frame(const Frame& frame);  // also feeds the stall watchdog (frozen picture)
  void note_decode_error();
  void note_untimed_packet();
  // The attempt's first access unit arrived (SourceSink::on_connected): its place in the connect gate goes
  // back now, before the first keyframe and the source's wall-map settling delay the first packet.
  void note_connected();
  void note_decoder_input();  // feeds the stall watchdog: a starved decoder is not a stuck one
  // Polled by the running source a few times a second: a reason when the stream has stalled (the state
  // becomes `stalled` and the source should end its run with that reason), empty while healthy.
  std::string check_watchdog();
  // The sink of one attempt: every callback notes what it saw here first, then passes packets and frames on.
  SourceSink sink_for(const StreamOutput& output);

 private:
  class AttemptGuard;
  struct AttemptOutcome {
    std::string reason;
    ErrorCode code = ErrorCode::kOther;
    double streamed_s = 0;  // how long the attempt was streaming
  };
  void loop(const std::stop_token& stop);
  AttemptOutcome run_attempt(const std::stop_token& stop);
  void set_state(CameraState state, std::string reason, std::string_view log_detail = {}, double retry_in_s = -1);
  void enter_streaming();
  bool wait_backoff(const std::stop_token& stop, double seconds);
  bool take_connect_place(const std::stop_token& stop);
  void release_connect_place(bool connected);

  const CameraId camera_;
  const SourceFactory factory_;
  const BackoffPolicy policy_;
  const std::function<void(const CameraHealth&)> on_change_;
  const std::shared_ptr<ConnectGate> connect_gate_;
  std::atomic<bool> holds_connect_place_{false};            // this attempt holds a place in connect_gate_
  std::chrono::steady_clock::time_point place_taken_at_{};  // written before holds_connect_place_ is set

  std::atomic<std::uint64_t> packets_{0};
  std::atomic<std::uint64_t> frames_{0};
  std::atomic<std::uint64_t> decode_errors_{0};
  std::atomic<std::uint64_t> untimed_packets_{0};
  std::atomic<bool> awaiting_first_packet_{false};  // armed while an attempt waits for its first packet

  mutable std::mutex watchdog_mu_;
  StallWatchdog watchdog_;  // guarded by watchdog_mu_

  std::mutex notify_mu_;  // serialises state changes with their on_change calls, so observers see them in order
  mutable std::mutex mu_;
  CameraState state_ = CameraState::kStopped;                // guarded by mu_
  std::string reason_;                                       // guarded by mu_
  std::uint64_t reconnects_ = 0;                             // guarded by mu_
  std::uint64_t stalls_ = 0;                                 // guarded by mu_
  WallTime since_{};                                         // guarded by mu_
  double retry_in_s_ = -1;                                   // guarded by mu_
  bool attempt_active_ = false;                              // guarded by mu_
  std::chrono::steady_clock::time_point streaming_since_{};  // guarded by mu_

  std::mutex wait_mu_;  // guards nothing but the backoff wait
  std::condition_variable_any wait_cv_;
  std::mutex life_mu_;  // guards thread_ (start/stop from different threads)
  std::jthread thread_;
  std::mt19937_64 rng_{std::random_device{}()};  // used only by the supervisor thread
};

}  // namespace matthan
