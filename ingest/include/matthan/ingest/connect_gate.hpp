// ConnectGate: a bound on how many cameras of one engine connect at the same time, first come first served.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <stop_token>

namespace matthan {

// A camera holds a place from the start of a connection attempt to its first packet (or the attempt's end).
// Connecting is the costly part of a camera's start (an RTSP handshake, the server preparing its media, the
// pipeline plugging its parser and decoder), and its first-packet timeout runs meanwhile: 48 cameras
// connecting at once on 2 cores left many past that timeout, and each retry started all of it again
// (bench/journal/2026-12-07-start-up-48-cameras.md). With a bound the others wait their turn, and the wait
// does not count against the timeout. Thread-safe: acquire on the supervisors' threads, release on any thread.
class ConnectGate {
 public:
  // max_connecting 0: no bound (acquire never waits).
  explicit ConnectGate(int max_connecting);
  ConnectGate(const ConnectGate&) = delete;
  ConnectGate& operator=(const ConnectGate&) = delete;

  // Waits for a place, in the order the callers came; false (and no place) when stop is requested first.
  bool acquire(std::stop_token stop);
  // Gives back a place taken by acquire: exactly once per successful acquire.
  void release();

  // How long a camera took from taking its place to its first packet, for first_packet_timeout_s.
  void note_connected(double seconds, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // The first-packet timeout for an attempt starting now: `base_s`, or longer while this node's cameras have
  // lately been slow to connect (a starved machine): kSlowConnectFactor x the slowest of the last
  // kRecentConnects connects within kRecentConnectAge, at most kMaxTimeoutFactor x base_s. A camera that is
  // down still fails, only later, and only while connecting is slow for every camera.
  double first_packet_timeout_s(double base_s,
                                std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const;
  static constexpr std::size_t kRecentConnects = 8;
  static constexpr double kSlowConnectFactor = 2;
  static constexpr std::chrono::minutes kRecentConnectAge{5};
  static constexpr double kMaxTimeoutFactor = 8;

  int max_connecting() const { return max_; }
  int connecting() const;  // places held
  int waiting() const;     // callers waiting for one

 private:
  const int max_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  int held_ = 0;                     // guarded by mu_
  std::uint64_t next_ticket_ = 0;    // guarded by mu_
  std::deque<std::uint64_t> queue_;  // guarded by mu_: the waiting callers' tickets, oldest first
  struct Connect {
    double seconds;
    std::chrono::steady_clock::time_point at;
  };
  std::deque<Connect> recent_;  // guarded by mu_: the last kRecentConnects connects, oldest first
};

}  // namespace matthan
