#include "matthan/ingest/wall_map.hpp"

#include <algorithm>
#include <cmath>

namespace matthan {

void WallMap::observe(std::int64_t arrival_ns, std::int64_t pts) {
  std::lock_guard lock(mu_);
  observe_locked(arrival_ns, pts);
}

void WallMap::observe_locked(std::int64_t arrival_ns, std::int64_t pts) {
  const std::int64_t delta = arrival_ns - pts;
  if (!offset_) {
    offset_ = delta;
    first_arrival_ns_ = last_arrival_ns_ = arrival_ns;
    buckets_.push_back({arrival_ns, delta});
    return;
  }
  if (buckets_.empty() || arrival_ns - buckets_.back().start_ns >= options_.bucket_ns)
    buckets_.push_back({arrival_ns, delta});
  else
    buckets_.back().min_delta = std::min(buckets_.back().min_delta, delta);
  while (buckets_.size() > 1 && buckets_.front().start_ns < arrival_ns - options_.window_ns) buckets_.pop_front();

  std::int64_t target = delta;
  for (const Bucket& b : buckets_) target = std::min(target, b.min_delta);
  const std::int64_t elapsed = std::max<std::int64_t>(0, arrival_ns - last_arrival_ns_);
  last_arrival_ns_ = std::max(last_arrival_ns_, arrival_ns);
  if (target <= *offset_) {
    *offset_ = target;  // never later than an arrival
  } else if (target - *offset_ > options_.max_step) {
    *offset_ = target;  // the camera's clock jumped back: slewing would take hours
  } else {
    const auto rise = static_cast<std::int64_t>(std::llround(options_.max_rise * static_cast<double>(elapsed)));
    *offset_ = std::min(target, *offset_ + rise);
  }
}

std::optional<std::int64_t> WallMap::wall_ns(std::int64_t pts) const {
  std::lock_guard lock(mu_);
  if (!offset_) return std::nullopt;
  return *offset_ + pts;
}

std::int64_t WallMap::wall_ns_or_observe(std::int64_t now_ns, std::int64_t pts) {
  std::lock_guard lock(mu_);
  if (!offset_) observe_locked(now_ns, pts);
  return *offset_ + pts;
}

bool WallMap::settled(std::int64_t now_ns) const {
  std::lock_guard lock(mu_);
  return offset_.has_value() && now_ns - first_arrival_ns_ >= options_.settle_ns;
}

void WallMap::reset() {
  std::lock_guard lock(mu_);
  buckets_.clear();
  offset_.reset();
  first_arrival_ns_ = last_arrival_ns_ = 0;
}

}  // namespace matthan
