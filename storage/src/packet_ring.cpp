// PacketRing: GOP-aligned pre-roll buffer; see the header for the eviction rules.
#include "matthan/storage/packet_ring.hpp"

#include <algorithm>
#include <cmath>

namespace matthan {

PacketRing::PacketRing(PacketRingLimits limits) : limits_(limits) {}

std::uint64_t PacketRing::push(EncodedPacket packet) {
  std::lock_guard lock(mu_);
  ++counters_.pushed;
  note_connection(packet);
  if (!accept_or_count_drop(packet)) return 0;
  if (!make_room_for(packet)) return 0;
  const std::uint64_t seq = next_seq_;
  append(std::move(packet));
  enforce_seconds_bound();
  return seq;
}

void PacketRing::note_connection(const EncodedPacket& packet) {
  const bool first = counters_.pushed == 1;
  const bool timed = packet.wall != WallTime{} && last_wall_ != WallTime{};
  if (!first && (packet.stream != last_stream_ || (timed && packet.wall - last_wall_ > kConnectionGap)))
    connection_began_ = true;
  if (packet.stream != last_stream_) last_stream_ = packet.stream;
  last_wall_ = packet.wall;
}

bool PacketRing::accept_or_count_drop(const EncodedPacket& packet) {
  if (packet.keyframe) {
    refusing_until_keyframe_ = false;
    return true;
  }
  if (refusing_until_keyframe_) {
    ++counters_.dropped_oversized_gop;
    return false;
  }
  if (gops_.empty()) {
    ++counters_.dropped_before_keyframe;
    return false;
  }
  return true;
}

bool PacketRing::make_room_for(const EncodedPacket& packet) {
  const std::size_t size = packet.size();
  const auto over = [&] { return bytes_ + size > limits_.max_bytes; };
  while (over() && gops_.size() >= 2) evict_front_gop();
  if (over() && !gops_.empty()) {
    if (packet.keyframe) {
      // The newest GOP is complete and the keyframe starts the next one, so it may go like any other.
      evict_front_gop();
    } else {
      // This GOP alone is bigger than the ring: keeping a tail of it would break GOP alignment.
      drop_newest_gop();
      ++counters_.dropped_oversized_gop;
      refusing_until_keyframe_ = true;
      return false;
    }
  }
  if (size > limits_.max_bytes) {
    ++counters_.dropped_oversized_gop;
    refusing_until_keyframe_ = true;
    return false;
  }
  return true;
}

void PacketRing::append(EncodedPacket packet) {
  if (packets_.empty()) {
    front_seq_ = next_seq_;
    newest_pts_ = packet.pts;
  }
  if (packet.keyframe) {
    if (!gops_.empty() && !connection_began_ && packet.pts > gops_.back().first_pts)
      counters_.keyframe_interval = packet.pts - gops_.back().first_pts;
    gops_.push_back(Gop{next_seq_, packet.pts, 0, 0, connection_began_});
    connection_began_ = false;
  }
  Gop& gop = gops_.back();
  ++gop.packets;
  gop.bytes += packet.size();
  bytes_ += packet.size();
  newest_pts_ = std::max(newest_pts_, packet.pts);
  packets_.push_back(std::move(packet));
  ++next_seq_;
}

void PacketRing::evict_front_gop() {
  const Gop gop = gops_.front();
  gops_.pop_front();
  packets_.erase(packets_.begin(), packets_.begin() + static_cast<std::ptrdiff_t>(gop.packets));
  bytes_ -= gop.bytes;
  front_seq_ += gop.packets;
  counters_.evicted += gop.packets;
}

void PacketRing::drop_newest_gop() {
  const Gop gop = gops_.back();
  gops_.pop_back();
  packets_.erase(packets_.end() - static_cast<std::ptrdiff_t>(gop.packets), packets_.end());
  bytes_ -= gop.bytes;
  counters_.dropped_oversized_gop += gop.packets;
  recompute_newest_pts();
}

void PacketRing::recompute_newest_pts() {
  newest_pts_ = 0;
  if (packets_.empty()) return;
  newest_pts_ = packets_.front().pts;
  for (const auto& p : packets_) newest_pts_ = std::max(newest_pts_, p.pts);
}

void PacketRing::enforce_seconds_bound() {
  const auto max_span = static_cast<MediaTimeNs>(std::llround(limits_.max_seconds * kNsPerSecond));
  while (gops_.size() >= 2 && newest_pts_ - gops_[1].first_pts >= max_span) evict_front_gop();
}

std::optional<std::uint64_t> PacketRing::keyframe_at_or_before(MediaTimeNs t) const {
  std::lock_guard lock(mu_);
  if (gops_.empty()) return std::nullopt;
  // A ring holds few GOPs (tens), and scanning tolerates keyframe pts that are not monotonic.
  for (auto it = gops_.rbegin(); it != gops_.rend(); ++it) {
    if (it->first_pts <= t) return it->first_seq;
  }
  return gops_.front().first_seq;
}

PacketRing::Slice PacketRing::read_from(std::uint64_t from_seq, std::size_t max_packets) const {
  std::lock_guard lock(mu_);
  from_seq = std::max<std::uint64_t>(from_seq, 1);
  const std::uint64_t oldest = packets_.empty() ? next_seq_ : front_seq_;
  Slice slice;
  const std::uint64_t start = std::max(from_seq, oldest);
  slice.missed = start - from_seq;
  slice.first_seq = start;
  slice.next_seq = start;
  if (start >= next_seq_) return slice;
  const std::uint64_t available = next_seq_ - start;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(available, max_packets));
  const auto first = packets_.begin() + static_cast<std::ptrdiff_t>(start - front_seq_);
  slice.packets.assign(first, first + static_cast<std::ptrdiff_t>(n));
  slice.next_seq = start + n;
  return slice;
}

std::uint64_t PacketRing::next_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_;
}

std::optional<MediaTimeNs> PacketRing::newest_pts() const {
  std::lock_guard lock(mu_);
  if (packets_.empty()) return std::nullopt;
  return newest_pts_;
}

PacketRingStats PacketRing::stats() const {
  std::lock_guard lock(mu_);
  PacketRingStats s = counters_;
  s.packets = packets_.size();
  s.bytes = bytes_;
  s.gops = gops_.size();
  s.span = packets_.empty() ? 0 : newest_pts_ - packets_.front().pts;
  // The longest interval among the keyframes held (the ring spans pre-roll + margin): one short GOP
  // at a stream loop or restart does not hide a camera's long keyframe interval. The interval that spans a
  // reconnect is the outage, not the camera's.
  for (std::size_t i = 1; i < gops_.size(); ++i) {
    if (!gops_[i].new_connection)
      s.keyframe_interval = std::max(s.keyframe_interval, gops_[i].first_pts - gops_[i - 1].first_pts);
  }
  return s;
}

PacketRingLimits PacketRing::limits() const {
  return limits_;
}

}  // namespace matthan
