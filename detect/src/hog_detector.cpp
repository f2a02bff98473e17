// HogPeopleDetector: OpenCV's built-in HOG + linear SVM people detector, the fallback without a model.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "frame_crop.hpp"
#include "matthan/detect/object_detector.hpp"

namespace matthan {
namespace {

class HogPeopleDetector final : public ObjectDetector {
 public:
  explicit HogPeopleDetector(HogConfig config) : config_(config) {
    hog_.setSVMDetector(cv::HOGDescriptor::getDefaultPeopleDetector());
  }

  std::string describe() const override { return "hog people (OpenCV default SVM)"; }
  // The 64x128 window at the scan upscale: regions this tall in frame pixels are seen at window size.
  int input_size() const override { return 128; }

  std::vector<std::vector<Detection>> detect(std::span<const CropRequest> crops) override {
    std::vector<std::vector<Detection>> results(crops.size());
    for (std::size_t i = 0; i < crops.size(); ++i) {
      if (!crops[i].frame) continue;
      try {
        results[i] = scan(*crops[i].frame, crops[i].region);
      } catch (const std::exception& e) {
        if (!error_logged_) spdlog::error("HOG people detector failed, crops give no people: {}", e.what());
        error_logged_ = true;
      }
    }
    return results;
  }

 private:
  std::vector<Detection> scan(const Frame& frame, const Box& region) {
    const cv::Rect r = detail::pixel_region(frame, region);
    const cv::Mat luma = detail::crop_luma(frame, r);
    if (luma.empty()) return {};
    const double scale = std::max(1.0, static_cast<double>(config_.min_scan_height) / luma.rows);
    cv::Mat input;
    if (scale > 1.0)
      cv::resize(luma, input, cv::Size(), scale, scale, cv::INTER_LINEAR);
    else
      input = luma;
    if (input.cols < 64 || input.rows < 128) return {};
    std::vector<cv::Rect> found;
    std::vector<double> weights;
    hog_.detectMultiScale(input, found, weights, 0.0, cv::Size(8, 8), cv::Size(8, 8), 1.1, 2.0);
    ++forward_calls_;
    ++crops_seen_;
    std::vector<Detection> out;
    for (std::size_t k = 0; k < found.size(); ++k) {
      // The SVM margin is unbounded; 1 - e^-w maps it to 0..1 (0.5 at a margin of about 0.7).
      const double score = 1.0 - std::exp(-std::max(0.0, k < weights.size() ? weights[k] : 0.0));
      if (score < config_.min_score) continue;
      // HOG windows pad the person by about 1/8 on each side; trim so boxes hug the body like a DNN's.
      const cv::Rect& f = found[k];
      const double x = (f.x + f.width * 0.125) / scale, y = (f.y + f.height * 0.0625) / scale;
      const double w = f.width * 0.75 / scale, h = f.height * 0.875 / scale;
      Detection d;
      d.label = "person";
      d.score = score;
      d.box = Box{(r.x + x) / frame.width, (r.y + y) / frame.height, w / frame.width, h / frame.height};
      d.box.w = std::min(d.box.w, 1.0 - d.box.x);
      d.box.h = std::min(d.box.h, 1.0 - d.box.y);
      out.push_back(std::move(d));
    }
    return suppress_duplicates(std::move(out), 0.4);
  }

  HogConfig config_;
  cv::HOGDescriptor hog_;
  bool error_logged_ = false;
};

}  // namespace

std::unique_ptr<ObjectDetector> make_hog_detector(const HogConfig& config) {
  return std::make_unique<HogPeopleDetector>(config);
}

}  // namespace matthan
