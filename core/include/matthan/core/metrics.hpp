// Metrics building blocks: a lock-free fixed-bucket Histogram, a RateMeter, and a writer of the Prometheus
// text exposition format (version 0.0.4) with its escaping rules.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace matthan {

// A histogram with fixed upper bounds. observe() is lock-free (relaxed atomics), so it may sit on the frame
// path; snapshot() may run on any other thread at the same time.
class Histogram {
 public:
  // Upper bounds, strictly ascending; +Inf is implied and must not be listed.
  explicit Histogram(std::vector<double> upper_bounds);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;             // as given, without +Inf
    std::vector<std::uint64_t> cumulative;  // observations <= each bound, then the +Inf bucket (== count)
    std::uint64_t count = 0;
    double sum = 0;
  };
  // The +Inf bucket and count are the sum of the buckets read, so they always agree with each other.
  Snapshot snapshot() const;

  // 0.5 ms .. 2.5 s: suits a per-frame detector call.
  static std::vector<double> latency_bounds_s();

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // non-cumulative; bounds_.size() + 1 (last = +Inf)
  std::atomic<double> sum_{0};
};

// What a detector reports into: one per detector kind ("motion" today; an ObjectDetector later). The
// engine times each call and observes its duration; calls are the histogram's count.
struct DetectorStats {
  explicit DetectorStats(std::string detector_name)
      : name(std::move(detector_name)), latency_s(Histogram::latency_bounds_s()) {}
  const std::string name;
  Histogram latency_s;
  // Regions the calls looked at, for a detector that takes several per call (the object detector: each crop
  // is one network input, so crops per call is the cost of a call). 0 for the others.
  std::atomic<std::uint64_t> crops{0};
};

// Turns a monotonic count into a recent rate per second, re-estimated at most once per window. A plain
// value: one owner thread feeds it.
class RateMeter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit RateMeter(double window_s = 2.0) : window_s_(window_s) {}
  // Feeds the count as of `now`; returns the current estimate (0 until a first window has passed).
  double update(std::uint64_t count, Clock::time_point now);
  double rate() const { return rate_; }

 private:
  double window_s_;
  bool primed_ = false;
  std::uint64_t count_ = 0;
  Clock::time_point at_{};
  double rate_ = 0;
};

// ---- Prometheus text exposition ----

inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { kCounter, kGauge, kHistogram };
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

bool valid_metric_name(std::string_view name);           // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view name);            // [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"
std::string escape_label_value(std::string_view value);  // \ -> \\, " -> \", newline -> \n
std::string escape_help(std::string_view text);          // \ -> \\, newline -> \n
std::string format_metric_value(double value);           // integers plainly, NaN, +Inf, -Inf

// Writes families one after the other: family() emits HELP and TYPE, then its samples follow.
class ExpositionWriter {
 public:
  void family(std::string_view name, MetricType type, std::string_view help);
  // A sample of the current family (counter or gauge).
  void sample(const MetricLabels& labels, double value);
  // The _bucket, _sum and _count samples of the current (histogram) family.
  void histogram(const MetricLabels& labels, const Histogram::Snapshot& h);
  const std::string& text() const { return out_; }

 private:
  void line(std::string_view name, const MetricLabels& labels, const std::pair<std::string, std::string>* extra,
            double value);
  std::string name_;
  std::string out_;
};

}  // namespace matthan
