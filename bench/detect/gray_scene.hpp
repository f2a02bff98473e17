// Synthetic GRAY8 frames for the detect micro-benchmarks: a blurred random texture as the background, a
// little sensor noise on each frame, and whatever the bench draws on top.
#pragma once

#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "matthan/core/types.hpp"

namespace matthan::bench {

struct GrayScene {
  std::uint64_t seed = 7;
  int background_low = 60, background_high = 110;  // the texture's level range
  cv::Size blur_kernel{0, 0};                      // Gaussian blur of the texture: kernel ({0, 0}: from sigma)
  double blur_sigma = 2.0;                         // and sigma (0: from the kernel)
  int noise_levels = 4;                            // noise in [0, noise_levels) added to every pixel
};

// `count` frames of `width` x `height`; `draw(image, i)` may paint frame i (a moving object, say).
inline std::vector<Frame> gray_scene(int width, int height, int count, const GrayScene& s = {},
                                     const std::function<void(cv::Mat&, int)>& draw = {}) {
  cv::Mat bg(height, width, CV_8UC1);
  cv::RNG rng(s.seed);
  rng.fill(bg, cv::RNG::UNIFORM, s.background_low, s.background_high);
  cv::GaussianBlur(bg, bg, s.blur_kernel, s.blur_sigma);
  std::vector<Frame> frames;
  frames.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    Frame f = make_owned_frame(PixelFormat::kGray8, width, height);
    // Our own fresh buffer: writing into it is fine.
    cv::Mat img(height, width, CV_8UC1, const_cast<std::uint8_t*>(f.plane[0]), static_cast<std::size_t>(f.stride[0]));
    cv::Mat noise(height, width, CV_8UC1);
    rng.fill(noise, cv::RNG::UNIFORM, 0, s.noise_levels);
    cv::add(bg, noise, img);
    if (draw) draw(img, i);
    frames.push_back(std::move(f));
  }
  return frames;
}

}  // namespace matthan::bench
