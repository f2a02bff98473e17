// PacketRing micro-benchmarks: push at steady state (with eviction) and the keyframe seek used by pre-roll.
#include <benchmark/benchmark.h>

#include "matthan/storage/packet_ring.hpp"

namespace matthan {
namespace {

constexpr MediaTimeNs kFrame = 40'000'000;  // 25 fps
constexpr int kGop = 50;                    // a keyframe every 2 s

EncodedPacket make_packet(std::shared_ptr<const std::vector<std::uint8_t>> data, std::int64_t n) {
  EncodedPacket p;
  p.data = std::move(data);
  p.pts = p.dts = n * kFrame;
  p.keyframe = n % kGop == 0;
  return p;
}

// A 30 s ring at 25 fps and ~2 Mb/s (10 kB packets): every push past the first 30 s also evicts.
void BM_PushSteadyState(benchmark::State& state) {
  PacketRing ring({.max_seconds = 30.0, .max_bytes = 64u << 20});
  auto data = std::make_shared<const std::vector<std::uint8_t>>(10'000, std::uint8_t{0});
  std::int64_t n = 0;
  for (; n < 40 * 25; ++n) ring.push(make_packet(data, n));
  for (auto _ : state) benchmark::DoNotOptimize(ring.push(make_packet(data, n++)));
  state.counters["gops"] = static_cast<double>(ring.stats().gops);
}
BENCHMARK(BM_PushSteadyState);

void BM_KeyframeSeekAndRead(benchmark::State& state) {
  PacketRing ring({.max_seconds = 30.0, .max_bytes = 64u << 20});
  auto data = std::make_shared<const std::vector<std::uint8_t>>(10'000, std::uint8_t{0});
  for (std::int64_t n = 0; n < 40 * 25; ++n) ring.push(make_packet(data, n));
  const MediaTimeNs newest = *ring.newest_pts();
  for (auto _ : state) {
    const auto seq = ring.keyframe_at_or_before(newest - 5 * kNsPerSecond);
    auto slice = ring.read_from(*seq, static_cast<std::size_t>(state.range(0)));
    benchmark::DoNotOptimize(slice.packets.data());
  }
}
BENCHMARK(BM_KeyframeSeekAndRead)->Arg(1)->Arg(256);

}  // namespace
}  // namespace matthan
