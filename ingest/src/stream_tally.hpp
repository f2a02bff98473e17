// What a probe has learnt of a camera's streams from its source's pad signals, and when "no usable video" is final.
#pragma once

#include <string>
#include <vector>

namespace matthan::detail {

// A source announces a pad, and its handler then decides (links the video, or notes an unsupported stream). A
// demuxer may say "no more pads" before that handler has finished (multipartdemux does, from its streaming thread,
// while the bus thread is polling), so the verdict waits for every announced pad to be decided.
// Not thread-safe: the prober holds its mutex around every call.
class StreamTally {
 public:
  void pad_announced() { ++undecided_; }
  void video_linked() {
    video_linked_ = true;
    decided();
  }
  void unsupported_video(std::string type) {
    unsupported_.push_back(std::move(type));
    decided();
  }
  void other_stream() { decided(); }  // audio, metadata, or a second video once one is linked
  void no_more_pads() { no_more_pads_ = true; }

  bool video() const { return video_linked_; }
  const std::vector<std::string>& unsupported() const { return unsupported_; }
  // True once the source has announced all its pads, each was decided, and none was usable video.
  bool no_usable_video() const { return no_more_pads_ && undecided_ == 0 && !video_linked_; }

 private:
  void decided() {
    if (undecided_ > 0) --undecided_;
  }
  int undecided_ = 0;
  bool no_more_pads_ = false;
  bool video_linked_ = false;
  std::vector<std::string> unsupported_;
};

}  // namespace matthan::detail
