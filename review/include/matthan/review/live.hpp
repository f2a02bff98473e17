// What the review server learns from the running engine: camera health (pulled) and the live event
// feed (pushed). The Engine implements LiveStatus and feeds EventFeed; review knows nothing else of it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace matthan {

// The detection substream of a camera with a `detect_url`: analysed only, supervised on its own.
struct StreamStatus {
  std::string state;   // connecting | streaming | backoff | stopped
  std::string reason;  // why it is not streaming (may be empty)
};

struct CameraStatus {
  std::string id, name;
  std::string state;                       // connecting | streaming | backoff | stopped
  std::string reason;                      // why it is not streaming (may be empty)
  double fps = 0;                          // frames analysed per second, recent
  std::optional<double> last_frame_age_s;  // none before the first frame
  std::uint64_t reconnects = 0;
  bool tampered = false;             // a tamper incident is open on this camera
  std::uint64_t global_changes = 0;  // lighting changes the motion veto absorbed
  std::uint64_t frames = 0, packets = 0;
  std::optional<StreamStatus> detect_stream;  // set only for a camera with a detect_url
};

class LiveStatus {
 public:
  virtual ~LiveStatus() = default;
  virtual std::vector<CameraStatus> cameras() const = 0;
};

struct FeedEvent {
  std::uint64_t seq = 0;
  std::string topic;
  std::string payload;  // the JSON published on ZeroMQ
};

// The last few published events, for Server-Sent Events clients. Bounded: a client that falls further
// behind than the buffer replays from the index instead.
class EventFeed {
 public:
  explicit EventFeed(std::size_t capacity = 512) : capacity_(capacity) {}
  void push(FeedEvent e);
  // Events with seq > after (oldest first), waiting up to `timeout` for one. `gap` is set when events
  // after `after` have already left the buffer.
  std::vector<FeedEvent> wait_after(std::uint64_t after, std::chrono::milliseconds timeout, bool* gap = nullptr);
  std::uint64_t last_seq() const;
  void close();  // wakes every waiter; later waits return at once
  bool closed() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FeedEvent> events_;  // guarded by mu_
  std::uint64_t last_seq_ = 0;    // guarded by mu_
  bool closed_ = false;           // guarded by mu_
};

}  // namespace matthan
