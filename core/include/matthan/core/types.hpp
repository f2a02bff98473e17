// Value types shared by every module: camera ids, encoded packets, decoded frames, stream info, boxes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace matthan {

using CameraId = std::string;
using WallTime = std::chrono::system_clock::time_point;

// Media timestamps are nanoseconds on the camera pipeline's running-time clock. Packets and frames of
// one camera share this clock, so a frame's pts finds its packets in the ring.
using MediaTimeNs = std::int64_t;
inline constexpr MediaTimeNs kNsPerSecond = 1'000'000'000;

// kMjpeg: HTTP MJPEG cameras; every packet is a whole JPEG picture (a keyframe) and there is no extradata.
enum class VideoCodec { kH264, kH265, kMjpeg };

// What the recorder needs to mux a camera's packets: codec, size and the decoder configuration
// record (avcC / hvcC) as MP4 wants it in extradata.
struct StreamInfo {
  VideoCodec codec = VideoCodec::kH264;
  int width = 0;
  int height = 0;
  int fps_num = 0;  // 0 when the stream does not say
  int fps_den = 1;
  std::vector<std::uint8_t> extradata;

  bool operator==(const StreamInfo&) const = default;
};

// One encoded access unit in MP4 (length-prefixed) form, exactly as the camera sent it.
struct EncodedPacket {
  std::shared_ptr<const std::vector<std::uint8_t>> data;
  std::shared_ptr<const StreamInfo> stream;  // the stream configuration this packet belongs to
  MediaTimeNs pts = 0;
  MediaTimeNs dts = 0;
  MediaTimeNs duration = 0;  // 0 when unknown
  bool keyframe = false;
  WallTime wall{};  // arrival time

  std::size_t size() const { return data ? data->size() : 0; }
};

enum class PixelFormat { kGray8, kI420 };

// A decoded frame, already reduced in rate and size for analysis. The pixel memory is owned through
// `owner` (a mapped GStreamer buffer, or a plain vector), so frames pass between threads without copies.
struct Frame {
  CameraId camera;
  PixelFormat format = PixelFormat::kI420;
  int width = 0;
  int height = 0;
  std::array<const std::uint8_t*, 3> plane{};  // Y, U, V (only Y for kGray8)
  std::array<int, 3> stride{};
  std::shared_ptr<const void> owner;
  int source_width = 0;  // the camera's own resolution, for aspect-correct snapshots
  int source_height = 0;
  MediaTimeNs pts = 0;
  WallTime wall{};
  std::uint64_t index = 0;  // analysed-frame counter for this camera

  bool empty() const { return plane[0] == nullptr || width <= 0 || height <= 0; }
};

// Builds an owning I420 or GRAY8 frame backed by a vector (tests, file sources, synthetic scenes).
Frame make_owned_frame(PixelFormat format, int width, int height);

// Axis-aligned box. In events it is normalised to 0..1 of the frame.
struct Box {
  double x = 0, y = 0, w = 0, h = 0;
  double area() const { return w * h; }
  bool operator==(const Box&) const = default;
};

// Area the two boxes share (in any common coordinates); 0 when they are disjoint or only touch.
double intersection_area(const Box& a, const Box& b);
// Intersection over union of two boxes (in any common coordinates), 0..1; 0 when they do not overlap.
double iou(const Box& a, const Box& b);
// The part of a normalised box inside the picture (0..1 on both axes); w or h is 0 when none of it is.
Box clip_to_picture(const Box& b);

}  // namespace matthan
