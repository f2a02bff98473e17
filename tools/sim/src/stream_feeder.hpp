// Pushes a file's access units into one RTSP media's appsrc in real time, looping for ever; the one place
// where faults (holding, corrupting) are injected.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "access_unit_reader.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/sim/simulator.hpp"

namespace matthan {

// Shared by every session of one mount; written by the control thread, read by feeders.
class FaultSwitches {
 public:
  void set(SimFaults faults) {
    hold_.store(faults.hold);
    corrupt_every_.store(faults.corrupt_every);
  }
  bool hold() const { return hold_.load(); }
  int corrupt_every() const { return corrupt_every_.load(); }

 private:
  std::atomic<bool> hold_{false};
  std::atomic<int> corrupt_every_{0};
};

class StreamFeeder {
 public:
  StreamFeeder(std::string name, gst::ElementPtr appsrc, std::unique_ptr<AccessUnitReader> reader,
               std::shared_ptr<const FaultSwitches> faults);
  ~StreamFeeder();
  StreamFeeder(const StreamFeeder&) = delete;
  StreamFeeder& operator=(const StreamFeeder&) = delete;

  void stop();  // idempotent; joins

 private:
  void run(std::stop_token stop);
  bool wait_until(const std::stop_token& stop, std::chrono::steady_clock::time_point t);
  bool push(const AccessUnit& au, std::int64_t running_offset_ns);

  const std::string name_;
  gst::ElementPtr appsrc_;
  std::unique_ptr<AccessUnitReader> reader_;  // used only by the feeding thread
  std::shared_ptr<const FaultSwitches> faults_;
  std::uint64_t pushed_ = 0;  // feeding thread only
  std::mutex wait_mu_;        // guards nothing; pairs with wait_cv_
  std::condition_variable_any wait_cv_;
  std::mutex life_mu_;  // guards thread_
  std::jthread thread_;
};

// Builds the appsrc caps (H.264 avcC or H.265 hvcC codec_data, size, rate) for a file.
gst::CapsPtr appsrc_caps(const VideoFileInfo& info);

}  // namespace matthan
