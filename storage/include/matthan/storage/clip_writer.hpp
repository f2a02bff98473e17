// ClipWriter: remuxes a camera's encoded packets into an MP4 file with libavformat (never re-encodes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "matthan/core/result.hpp"
#include "matthan/core/types.hpp"

namespace matthan {

struct ClipSummary {
  std::filesystem::path path;
  MediaTimeNs first_pts = 0;
  MediaTimeNs end_pts = 0;  // last pts + its duration
  double duration_s = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packets = 0;
  WallTime first_wall{};
  WallTime end_wall{};
  std::string sha256;  // of the final file, hex
  // Why the clip stayed a fragmented MP4 at `path` (the remux to +faststart failed, e.g. on a full disk);
  // empty for a normal +faststart clip. Such a clip still plays: it is recorded as `partial`, never dropped.
  std::string not_finalised;
};

// One MP4 file: H.264 as `avc1`, H.265 as `hvc1`, time base 1/90000 with the first packet at 0,
// strictly increasing DTS, +faststart so browsers play it before it is fully downloaded.
// Crash safety: while recording, the clip is a fragmented MP4 (~1 s fragments, flushed and fdatasync'd
// about once a second) named `<final>.part`; finish() remuxes it to a normal +faststart MP4 at final_path
// (via `<final>.tmp` + rename) and deletes the .part. After a crash, remux_to_faststart() recovers a .part.
// Not thread-safe; one recorder owns it.
class ClipWriter {
 public:
  // Creates parent dirs and writes to `final_path` + ".part"; nothing appears under final_path until
  // finish().
  static Result<std::unique_ptr<ClipWriter>> open(std::filesystem::path final_path, const StreamInfo& stream);

  ClipWriter(const ClipWriter&) = delete;
  ClipWriter& operator=(const ClipWriter&) = delete;
  ~ClipWriter();  // abort() when neither finish() nor abort() ran

  Status write(const EncodedPacket& packet);  // the first packet must be a keyframe (else error)
  Result<ClipSummary> finish();               // trailer with +faststart, fsync, rename .part -> final
  void abort();                               // closes and deletes the .part

  std::uint64_t packets_written() const;
  MediaTimeNs first_pts() const;
  MediaTimeNs last_end_pts() const;  // end = last pts + its duration (or the average frame interval)

  const StreamInfo& stream() const;
  const std::filesystem::path& final_path() const;
  const std::filesystem::path& part_path() const;
  std::uint64_t dts_bumps() const;  // packets whose DTS had to be raised to stay strictly increasing

  struct Impl;

 private:
  explicit ClipWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
