// Histogram, RateMeter and the Prometheus text exposition writer.
#include "matthan/core/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace matthan {

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), buckets_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // Prometheus buckets are "less than or equal": the first bound >= value.
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.reserve(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

std::vector<double> Histogram::latency_bounds_s() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5};
}

double RateMeter::update(std::uint64_t count, Clock::time_point now) {
  if (!primed_) {
    primed_ = true;
    count_ = count;
    at_ = now;
    return rate_;
  }
  const double dt = std::chrono::duration<double>(now - at_).count();
  if (dt < window_s_) return rate_;
  rate_ = count >= count_ ? static_cast<double>(count - count_) / dt : 0.0;
  count_ = count;
  at_ = now;
  return rate_;
}

namespace {

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, true)) return false;
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, false)) return false;
  return true;
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Counts print as integers (no exponent) while a double holds them exactly.
  if (value == std::floor(value) && std::fabs(value) < 9.0e15) return fmt::format("{:.0f}", value);
  return fmt::format("{}", value);
}

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  name_ = std::string(name);
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type_name(type));
}

void ExpositionWriter::line(std::string_view name, const MetricLabels& labels,
                            const std::pair<std::string, std::string>* extra, double value) {
  out_ += name;
  if (!labels.empty() || extra) {
    out_ += '{';
    bool first = true;
    auto add = [&](const std::string& k, const std::string& v) {
      if (!first) out_ += ',';
      first = false;
      out_ += fmt::format("{}=\"{}\"", k, escape_label_value(v));
    };
    for (const auto& [k, v] : labels) add(k, v);
    if (extra) add(extra->first, extra->second);
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_metric_value(value);
  out_ += '\n';
}

void ExpositionWriter::sample(const MetricLabels& labels, double value) {
  line(name_, labels, nullptr, value);
}

void ExpositionWriter::histogram(const MetricLabels& labels, const Histogram::Snapshot& h) {
  const std::string bucket = name_ + "_bucket";
  for (std::size_t i = 0; i < h.cumulative.size(); ++i) {
    const std::pair<std::string, std::string> le{
        "le", i < h.bounds.size() ? format_metric_value(h.bounds[i]) : std::string("+Inf")};
    line(bucket, labels, &le, static_cast<double>(h.cumulative[i]));
  }
  line(name_ + "_sum", labels, nullptr, h.sum);
  line(name_ + "_count", labels, nullptr, static_cast<double>(h.count));
}

}  // namespace matthan
