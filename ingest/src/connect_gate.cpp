// ConnectGate: a counting bound with a first-come-first-served queue and a stoppable wait.
#include "matthan/ingest/connect_gate.hpp"

#include <algorithm>

namespace matthan {

ConnectGate::ConnectGate(int max_connecting) : max_(std::max(0, max_connecting)) {}

bool ConnectGate::acquire(std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (max_ == 0) {
    ++held_;
    return true;
  }
  const std::uint64_t ticket = next_ticket_++;
  queue_.push_back(ticket);
  const bool mine = cv_.wait(lock, stop, [&] { return held_ < max_ && queue_.front() == ticket; });
  if (!mine) {
    // Stopped while waiting: leave the queue, and let the next in line look again (it may now be first).
    queue_.erase(std::find(queue_.begin(), queue_.end(), ticket));
    lock.unlock();
    cv_.notify_all();
    return false;
  }
  queue_.pop_front();
  ++held_;
  const bool more = held_ < max_ && !queue_.empty();
  lock.unlock();
  if (more) cv_.notify_all();  // a free place and someone behind: wake them to check
  return true;
}

void ConnectGate::release() {
  {
    std::lock_guard lock(mu_);
    if (held_ > 0) --held_;
  }
  cv_.notify_all();
}

void ConnectGate::note_connected(double seconds, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  recent_.push_back({std::max(0.0, seconds), now});
  while (recent_.size() > kRecentConnects) recent_.pop_front();
}

double ConnectGate::first_packet_timeout_s(double base_s, std::chrono::steady_clock::time_point now) const {
  double slowest = 0;
  {
    std::lock_guard lock(mu_);
    for (const Connect& c : recent_)
      if (now - c.at <= kRecentConnectAge) slowest = std::max(slowest, c.seconds);
  }
  return std::clamp(kSlowConnectFactor * slowest, base_s, kMaxTimeoutFactor * base_s);
}

int ConnectGate::connecting() const {
  std::lock_guard lock(mu_);
  return held_;
}

int ConnectGate::waiting() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(queue_.size());
}

}  // namespace matthan
