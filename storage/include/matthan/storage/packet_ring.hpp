// PacketRing: a camera's recent encoded packets, GOP-aligned, bounded in seconds and bytes (the pre-roll).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan {

struct PacketRingLimits {
  double max_seconds = 30.0;
  std::size_t max_bytes = 64u << 20;
};

struct PacketRingStats {
  std::size_t packets = 0, bytes = 0, gops = 0;
  MediaTimeNs span = 0;  // newest pts - oldest held pts
  // pushed: every packet offered to push(), kept or not. evicted: packets removed by the seconds or bytes
  // bound. dropped_before_keyframe: non-keyframes that arrived while the ring was empty.
  // dropped_oversized_gop: packets of GOPs that alone exceeded max_bytes, plus the packets refused until
  // the next keyframe.
  std::uint64_t pushed = 0, evicted = 0, dropped_before_keyframe = 0, dropped_oversized_gop = 0;
  // The longest interval between consecutive keyframes held, or the newest one (0 until two were seen):
  // long intervals make pre-roll costly. Measured within one connection only: across a reconnect the ring
  // keeps the old packets, and the outage between them is no keyframe interval.
  MediaTimeNs keyframe_interval = 0;
};

// Thread-safe: one GStreamer streaming thread pushes, recorder threads read. Every method takes the one
// internal mutex for a short, allocation-light critical section.
//
// Semantics:
// - GOP-aligned: the ring always begins with a keyframe. Non-keyframes that arrive while the ring is
//   empty are dropped (dropped_before_keyframe).
// - Sequence numbers: each kept packet gets the next number (1, 2, 3, ...); held packets always have
//   consecutive numbers, so a reader resumes with read_from(slice.next_seq).
// - Seconds bound: whole GOPs leave from the front, but only while the ring would still cover at least
//   max_seconds without them (second GOP's first pts .. newest pts >= max_seconds). So there is a
//   keyframe at or before (newest - max_seconds) whenever the stream has one, which pre-roll needs when
//   keyframes are far apart. The newest GOP is never evicted by this rule.
// - Bytes bound (hard): oldest GOPs leave while bytes > max_bytes. If the newest GOP alone would exceed
//   max_bytes, that whole GOP is dropped and later packets are refused until the next keyframe
//   (dropped_oversized_gop), so memory stays bounded and the ring stays GOP-aligned.
// - Keyframe interval: a packet of a new stream configuration (each connection has its own) or one that
//   arrives more than kConnectionGap after the packet before it (no camera is silent that long and stays
//   connected: the stall watchdog's default) starts a new connection, and the interval from the keyframe
//   before it is not counted.
// - Packets hold shared_ptr data: reads copy pointers, never payloads.
class PacketRing {
 public:
  static constexpr std::chrono::seconds kConnectionGap{5};

  explicit PacketRing(PacketRingLimits limits);

  // Returns the sequence number given to the packet (1, 2, 3, ...), or 0 when it was dropped.
  std::uint64_t push(EncodedPacket packet);

  // Seq of the latest keyframe with pts <= t; if no keyframe is that old, the oldest keyframe held;
  // nullopt when empty.
  std::optional<std::uint64_t> keyframe_at_or_before(MediaTimeNs t) const;

  struct Slice {
    std::vector<EncodedPacket> packets;
    std::uint64_t first_seq = 0;  // seq of packets[0] (== next_seq when empty)
    std::uint64_t next_seq = 0;   // pass this to the next read_from to continue without gaps
    std::uint64_t missed = 0;     // packets at or after from_seq that were evicted before this read
  };
  // Packets with seq >= from_seq, in order, at most max_packets. If some of them were already evicted,
  // starts at the oldest held packet and says how many were missed. from_seq 0 reads like 1.
  Slice read_from(std::uint64_t from_seq, std::size_t max_packets = SIZE_MAX) const;

  std::uint64_t next_seq() const;  // the seq the next pushed packet will get
  std::optional<MediaTimeNs> newest_pts() const;
  PacketRingStats stats() const;
  PacketRingLimits limits() const;

 private:
  struct Gop {
    std::uint64_t first_seq = 0;
    MediaTimeNs first_pts = 0;
    std::size_t packets = 0;
    std::size_t bytes = 0;
    bool new_connection = false;  // its keyframe began a new connection: no interval from the GOP before
  };

  void note_connection(const EncodedPacket& packet);
  bool accept_or_count_drop(const EncodedPacket& packet);
  bool make_room_for(const EncodedPacket& packet);
  void append(EncodedPacket packet);
  void evict_front_gop();
  void drop_newest_gop();
  void enforce_seconds_bound();
  void recompute_newest_pts();

  const PacketRingLimits limits_;
  mutable std::mutex mu_;
  std::deque<EncodedPacket> packets_;     // guarded by mu_; packets_[i] has seq front_seq_ + i
  std::deque<Gop> gops_;                  // guarded by mu_; one entry per keyframe held, oldest first
  std::uint64_t front_seq_ = 1;           // guarded by mu_
  std::uint64_t next_seq_ = 1;            // guarded by mu_
  std::size_t bytes_ = 0;                 // guarded by mu_
  MediaTimeNs newest_pts_ = 0;            // guarded by mu_; max pts held (B-frames arrive out of order)
  bool refusing_until_keyframe_ = false;  // guarded by mu_; set after an oversized GOP was dropped
  // guarded by mu_: the last packet offered (its stream config and arrival), and whether a new connection
  // began since the last keyframe held, which the next GOP then carries.
  std::shared_ptr<const StreamInfo> last_stream_;  // held, so a new config can never reuse its address
  WallTime last_wall_{};
  bool connection_began_ = false;
  PacketRingStats counters_;  // guarded by mu_; only the cumulative counters are kept here
};

}  // namespace matthan
