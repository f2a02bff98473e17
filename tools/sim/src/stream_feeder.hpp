// Pushes a file's access units into one RTSP media's appsrc in real time, looping for ever; the one place
// where faults (holding, corrupting) are injected.
#pragma once

#include <atomic>
#include <memory>
#include <stop_token>
#include <string>

#include "access_unit_reader.hpp"
#include "feeder_thread.hpp"
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

  void stop() { thread_.stop(); }  // idempotent; joins

 private:
  void run(std::stop_token stop);
  bool wait_until(const std::stop_token& stop, std::chrono::steady_clock::time_point t) {
    return thread_.wait_until(stop, t);
  }
  bool push(const AccessUnit& au, std::int64_t running_offset_ns);

  const std::string name_;
  gst::ElementPtr appsrc_;
  std::unique_ptr<AccessUnitReader> reader_;  // used only by the feeding thread
  std::shared_ptr<const FaultSwitches> faults_;
  std::uint64_t pushed_ = 0;  // feeding thread only
  FeederThread thread_;       // last: stopped before the members above go
};

// Builds the appsrc caps (H.264 avcC or H.265 hvcC codec_data, size, rate) for a file.
gst::CapsPtr appsrc_caps(const VideoFileInfo& info);

}  // namespace matthan
