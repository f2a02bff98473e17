// Motion detection: KNN background subtraction on the downscaled picture (colour when the frame has it),
// masks, morphology, merged boxes.
#include "matthan/detect/motion_detector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "area_scale.hpp"
#include "knn_background.hpp"
#include "mask_filters.hpp"
#include "matthan/core/logging.hpp"
#include "rect_box.hpp"
#include "scene_structure.hpp"

namespace matthan {
namespace {

// KNN writes 255 for foreground and 127 for shadow; anything below this threshold is background.
constexpr double kForegroundLevel = 200.0;

// Still-frame gate: the thumbnail the gate compares is this wide (each cell averages a 16x16 block of a
// 1280-wide picture, which keeps sensor noise well under a level), and this many frames in a row are the
// most it skips when the frames' timestamps do not advance (synthetic frames, a broken clock).
constexpr int kStillThumbWidth = 80;
constexpr int kStillMaxRun = 50;

cv::Size analysis_size_for(int width, int height, int analysis_width, bool even) {
  cv::Size s{width, height};
  if (analysis_width > 0 && width > analysis_width) {
    const double scale = static_cast<double>(analysis_width) / width;
    s = {analysis_width, std::max(1, static_cast<int>(std::lround(height * scale)))};
  }
  if (even) s = {std::max(2, s.width & ~1), std::max(2, s.height & ~1)};
  return s;
}

bool has_chroma(const Frame& f) {
  return f.format == PixelFormat::kI420 && f.plane[1] != nullptr && f.plane[2] != nullptr &&
         f.stride[1] >= (f.width + 1) / 2 && f.stride[2] >= (f.width + 1) / 2;
}

// Scales `src` to `dst`'s size into dst's own memory (dst may be a view into a larger buffer).
void scale_into(const cv::Mat& src, cv::Mat dst) {
  if (src.size() == dst.size())
    src.copyTo(dst);
  else if (!detail::area_downscale_integer(src, dst))
    cv::resize(src, dst, dst.size(), 0, 0, cv::INTER_AREA);
}

// A kernel size given for the reference width, scaled to `width` and kept odd.
int scaled_odd_kernel(int size, int width, int reference_width) {
  if (size <= 1) return 1;
  const double scaled = reference_width > 0 ? static_cast<double>(size) * width / reference_width : size;
  int k = std::max(1, static_cast<int>(std::lround(scaled)));
  if (k % 2 == 0) ++k;
  return k;
}

// 255 where motion counts, 0 inside a mask polygon; empty when there are no usable masks.
cv::Mat rasterise_keep_mask(const std::vector<Polygon>& masks, cv::Size size) {
  std::vector<std::vector<cv::Point>> polys;
  for (const Polygon& poly : masks) {
    if (poly.size() < 3) continue;
    std::vector<cv::Point> pts;
    pts.reserve(poly.size());
    for (const Point2& p : poly) {
      pts.emplace_back(static_cast<int>(std::lround(std::clamp(p[0], 0.0, 1.0) * size.width)),
                       static_cast<int>(std::lround(std::clamp(p[1], 0.0, 1.0) * size.height)));
    }
    polys.push_back(std::move(pts));
  }
  if (polys.empty()) return {};
  cv::Mat keep(size, CV_8UC1, cv::Scalar(255));
  cv::fillPoly(keep, polys, cv::Scalar(0));
  return keep;
}

bool overlaps_enough(const cv::Rect& a, const cv::Rect& b, double fraction) {
  const double inter = intersection_area(detail::box_of(a), detail::box_of(b));
  if (inter <= 0) return false;
  const double smaller = std::min(a.area(), b.area());
  return inter >= fraction * smaller;
}

// Repeatedly unites boxes that mostly overlap, so one object reported in pieces becomes one box.
std::vector<cv::Rect> merge_overlapping(std::vector<cv::Rect> rects, double fraction) {
  bool merged = true;
  while (merged) {
    merged = false;
    for (std::size_t i = 0; i < rects.size() && !merged; ++i) {
      for (std::size_t j = i + 1; j < rects.size(); ++j) {
        if (!overlaps_enough(rects[i], rects[j], fraction)) continue;
        rects[i] |= rects[j];
        rects.erase(rects.begin() + static_cast<std::ptrdiff_t>(j));
        merged = true;
        break;
      }
    }
  }
  return rects;
}

Box normalise(const cv::Rect& r, cv::Size size) {
  const double w = size.width;
  const double h = size.height;
  return Box{r.x / w, r.y / h, r.width / w, r.height / h};
}

}  // namespace

struct MotionDetector::Impl {
  explicit Impl(MotionConfig c) : config(std::move(c)) {}

  MotionConfig config;
  std::unique_ptr<detail::KnnBackground> model;  // OpenCV's KNN, bit for bit, cheaper (knn_background.hpp)
  cv::Size size;                                 // analysis size the model and mask were built for
  cv::Mat keep_mask;
  cv::Mat close_element;
  int median_kernel = 1;
  bool color = false;  // the model was built for BGR (from I420) rather than luma
  cv::Mat resized;     // downscaled luma, reused between frames
  cv::Mat i420;        // the frame's planes at the analysis size, packed as OpenCV's I420
  cv::Mat bgr;         // i420 converted, what the colour model sees
  cv::Mat foreground;
  cv::Mat median_counts, median_out;  // binary_median's scratch
  int frames_seen = 0;
  std::int64_t frames_with_skips = 0;  // frames since configure_for, skipped ones included (KNN's learning rate)
  bool error_logged = false;
  std::uint64_t global_changes = 0;
  cv::Mat current_gray, background, background_gray, now_f, bg_f, now_edges, bg_edges, gx, gy, mag;  // veto
  // background_match(): the last frame's grey copy (the input may be a view of a frame that is gone by then),
  // and whether bg_f already holds this frame's background. When the input was our own buffer (the colour
  // conversion, the scaled luma), it is kept instead and converted only if background_match is asked: the
  // persistence gate asks on few frames (4 of 100 on the busy clip), and the conversion cost 0.2 M instructions.
  cv::Mat last_gray_f, last_input;
  bool background_current = false;

  // Still-frame gate (MotionConfig::still_level): thumbnails of this frame and of the last fully processed
  // one (luma, and chroma in colour), whether that frame's cleaned mask was empty, and when it was.
  cv::Mat thumb[3], still_ref[3];
  bool still_ref_empty = false;
  bool still_held = false;  // hold_still_gate: an incident is open on the camera
  MediaTimeNs still_ref_pts = 0;
  int still_run = 0;
  std::uint64_t still_skipped = 0;

  void configure_for(cv::Size s, bool in_color) {
    size = s;
    color = in_color;
    model = std::make_unique<detail::KnnBackground>(config.history, config.dist2_threshold, config.detect_shadows);
    keep_mask = rasterise_keep_mask(config.masks, s);
    median_kernel = scaled_odd_kernel(config.median_kernel, s.width, config.kernel_reference_width);
    const int close = scaled_odd_kernel(config.close_kernel, s.width, config.kernel_reference_width);
    close_element = close > 1 ? cv::getStructuringElement(cv::MORPH_RECT, {close, close}) : cv::Mat();
    frames_seen = 0;
    frames_with_skips = 0;
    still_ref_empty = false;
  }

  // Small INTER_AREA thumbnails of the planes (mapped, never copied): one cell per 16x16 block of a 1280-wide
  // picture; the chroma planes give the same grid, so a change of colour alone is seen too. Only every
  // `row_step`-th row is read (a cell still averages 64 pixels, which keeps noise far below a level): reading
  // every row made the thumbnails cost half as much as decoding the frame (callgrind of `matthan eval`,
  // bench/journal/2026-11-29-still-frame-gate.md).
  static void thumbnail(const std::uint8_t* data, int width, int height, int stride, cv::Size ts, cv::Mat& out) {
    const int row_step = std::max(1, height / ts.height / 4);
    const cv::Mat rows(height / row_step, width, CV_8UC1, const_cast<std::uint8_t*>(data),
                       static_cast<std::size_t>(stride) * static_cast<std::size_t>(row_step));
    cv::resize(rows, out, ts, 0, 0, cv::INTER_AREA);
  }

  void make_thumbnails(const Frame& frame, bool with_chroma) {
    const int tw = std::min(frame.width, kStillThumbWidth);
    const cv::Size ts(tw,
                      std::max(1, static_cast<int>(std::lround(static_cast<double>(frame.height) * tw / frame.width))));
    thumbnail(frame.plane[0], frame.width, frame.height, frame.stride[0], ts, thumb[0]);
    for (int p = 1; p <= 2; ++p) {
      if (with_chroma)
        thumbnail(frame.plane[p], (frame.width + 1) / 2, (frame.height + 1) / 2, frame.stride[p], ts, thumb[p]);
      else
        thumb[p].release();
    }
  }

  // Whether this frame could be skipped at all, before its thumbnails are built: the gate is not held, the
  // last processed frame's mask was empty, and it is recent. When not, the frame is processed whatever its
  // thumbnails say, so they are not built (an open incident, a busy scene: no cost for the gate there).
  bool still_skip_possible(const Frame& frame) const {
    if (still_held || !still_ref_empty || frames_seen <= config.warmup_frames) return false;
    if (still_run >= kStillMaxRun) return false;
    return frame.pts >= still_ref_pts && static_cast<double>(frame.pts - still_ref_pts) < config.still_refresh_s * 1e9;
  }

  // True when this frame can reuse the last processed frame's (empty) result: still_skip_possible(), and no
  // thumbnail cell differs from that frame's thumbnail by more than still_level.
  bool still_since_last_processed() const {
    for (int p = 0; p < 3; ++p) {
      if (thumb[p].empty() != still_ref[p].empty()) return false;
      if (thumb[p].empty()) continue;
      if (thumb[p].size() != still_ref[p].size()) return false;
      if (cv::norm(thumb[p], still_ref[p], cv::NORM_INF) > config.still_level) return false;
    }
    return true;
  }

  // Returns a view of the frame when no scaling is needed; `resized` is only ever our own buffer, never a
  // view of a frame (resize would otherwise write into a previous frame's memory).
  cv::Mat analysis_input(const Frame& frame) {
    // The frame's memory is read-only to us; cv::Mat wants a non-const pointer but we never write.
    const cv::Mat luma(frame.height, frame.width, CV_8UC1, const_cast<std::uint8_t*>(frame.plane[0]),
                       static_cast<std::size_t>(frame.stride[0]));
    if (color) return color_input(frame, luma);
    if (luma.size() == size) return luma;
    resized.create(size, CV_8UC1);
    if (!detail::area_downscale_integer(luma, resized)) cv::resize(luma, resized, size, 0, 0, cv::INTER_AREA);
    return resized;
  }

  // The planes scaled to the analysis size (even) and converted to BGR with the limited-range BT.601 matrix
  // decoders use, so the model sees what a BGR decode of the stream would show.
  cv::Mat color_input(const Frame& frame, const cv::Mat& luma) {
    const int w = size.width, h = size.height;
    i420.create(h * 3 / 2, w, CV_8UC1);
    scale_into(luma, i420(cv::Rect(0, 0, w, h)));
    const int cw = (frame.width + 1) / 2, ch = (frame.height + 1) / 2;
    std::uint8_t* chroma = i420.ptr(h);
    const std::size_t quarter = static_cast<std::size_t>(w / 2) * static_cast<std::size_t>(h / 2);
    for (int p = 1; p <= 2; ++p) {
      const cv::Mat plane(ch, cw, CV_8UC1, const_cast<std::uint8_t*>(frame.plane[p]),
                          static_cast<std::size_t>(frame.stride[p]));
      scale_into(plane, cv::Mat(h / 2, w / 2, CV_8UC1, chroma + (p - 1) * quarter));
    }
    cv::cvtColor(i420, bgr, cv::COLOR_YUV2BGR_I420);
    return bgr;
  }

  // Thresholds the model's output (shadows are background) and returns the foreground share of the frame
  // before morphology (masked areas excluded), then cleans the mask.
  double clean_foreground() {
    cv::threshold(foreground, foreground, kForegroundLevel, 255, cv::THRESH_BINARY);
    if (!keep_mask.empty()) cv::bitwise_and(foreground, keep_mask, foreground);
    const double raw = static_cast<double>(cv::countNonZero(foreground)) / size.area();
    // The thresholded mask is 0 / 255, where counting gives the median bit for bit and far more cheaply.
    if (median_kernel > 1 && !detail::binary_median(foreground, foreground, median_kernel, median_counts, median_out))
      cv::medianBlur(foreground, foreground, median_kernel);
    // Mask before closing so masked motion cannot bridge two real regions, and after it so closing
    // cannot grow foreground back into a mask.
    if (!keep_mask.empty()) cv::bitwise_and(foreground, keep_mask, foreground);
    if (!close_element.empty()) cv::morphologyEx(foreground, foreground, cv::MORPH_CLOSE, close_element);
    if (!keep_mask.empty()) cv::bitwise_and(foreground, keep_mask, foreground);
    return raw;
  }

  static void to_gray_f32(const cv::Mat& in, cv::Mat& gray, cv::Mat& out) {
    if (in.channels() == 3) {
      cv::cvtColor(in, gray, cv::COLOR_BGR2GRAY);
      gray.convertTo(out, CV_32F);
    } else {
      in.convertTo(out, CV_32F);
    }
  }

  // Has only the light changed? The picture's structure against the background model's.
  bool structure_kept(const cv::Mat& input) {
    model->background_image(background);
    if (background.empty() || background.size() != input.size()) return false;
    to_gray_f32(input, current_gray, now_f);
    to_gray_f32(background, background_gray, bg_f);
    detail::edge_structure(now_f, now_edges, gx, gy, mag);
    detail::edge_structure(bg_f, bg_edges, gx, gy, mag);
    return detail::structure_change(now_edges, bg_edges) < config.veto_structure;
  }

  std::vector<cv::Rect> foreground_boxes() const {
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(foreground, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
    const double frame_area = static_cast<double>(size.area());
    const double min_pixels = config.min_area * frame_area;
    std::vector<cv::Rect> rects;
    rects.reserve(contours.size());
    for (const auto& c : contours) {
      cv::Rect r = cv::boundingRect(c);
      // Specks far below the minimum cannot change a merged box much; skipping them keeps merging cheap.
      if (r.area() * 10.0 < min_pixels) continue;
      rects.push_back(r);
    }
    rects = merge_overlapping(std::move(rects), config.merge_overlap);
    std::erase_if(rects, [&](const cv::Rect& r) { return r.area() < min_pixels || r.area() <= 0; });
    std::sort(rects.begin(), rects.end(), [](const cv::Rect& a, const cv::Rect& b) { return a.area() > b.area(); });
    return rects;
  }

  MotionResult analyse(const Frame& frame) {
    last_input.release();  // before its buffer is overwritten by this frame's conversion
    const bool in_color = config.use_color && has_chroma(frame);
    const cv::Size wanted = analysis_size_for(frame.width, frame.height, config.analysis_width, in_color);
    if (wanted != size || in_color != color || !model) configure_for(wanted, in_color);
    const bool gate = config.still_level > 0;
    // The thumbnails of a processed frame are only needed as the reference if its mask turns out empty; they
    // are built before processing only when this frame may be skipped, else after it when needed.
    bool thumbs_built = false;
    if (gate && still_skip_possible(frame)) {
      make_thumbnails(frame, in_color);
      thumbs_built = true;
      if (still_since_last_processed()) {
        // Nothing changed since a frame whose mask was empty: its result (no motion, an empty mask) stands,
        // and the model is not fed a copy of what it just learnt.
        ++still_skipped;
        ++still_run;
        ++frames_with_skips;
        background_current = false;
        last_gray_f.release();
        return {};
      }
    }
    if (gate) {
      if (thumbs_built)
        for (int p = 0; p < 3; ++p) std::swap(thumb[p], still_ref[p]);
      still_ref_pts = frame.pts;
      still_run = 0;
      still_ref_empty = false;  // set below once this frame's mask is known to be empty
    }
    const cv::Mat input = analysis_input(frame);
    if (frames_seen == 0)
      for (int i = 0; i < config.prime_repeats; ++i) model->apply(input, foreground);
    // KNN's automatic learning rate is 1 / min(2 * frames it has seen, history): with the gate it would see fewer
    // frames and stay young (learning fast) for longer. Count the skipped frames too, as without the gate.
    ++frames_with_skips;
    const double rate =
        gate && frames_with_skips > 1
            ? 1.0 / static_cast<double>(std::min<std::int64_t>(2 * frames_with_skips, std::max(1, config.history)))
            : -1.0;
    model->apply(input, foreground, rate);
    background_current = false;
    last_gray_f.release();
    if (++frames_seen <= config.warmup_frames) return {};
    const double raw = clean_foreground();

    MotionResult result;
    if (config.veto_fraction < 1.0 && raw >= config.veto_fraction && structure_kept(input)) {
      ++global_changes;
      configure_for(size, color);  // a fresh model: the warm-up learns the new light
      foreground.release();
      result.global_change = true;
      return result;
    }
    const std::vector<cv::Rect> rects = foreground_boxes();
    if (!rects.empty()) {
      if (input.data == frame.plane[0])
        to_gray_f32(input, current_gray, last_gray_f);  // a view of the frame
      else
        last_input = input;  // bgr or resized: unchanged until the next frame's analysis
    }
    result.foreground_fraction = static_cast<double>(cv::countNonZero(foreground)) / size.area();
    for (const cv::Rect& r : rects) result.boxes.push_back(normalise(r, size));
    result.motion = !result.boxes.empty();
    still_ref_empty = gate && result.foreground_fraction <= 0.0;
    if (still_ref_empty && !thumbs_built) {
      make_thumbnails(frame, in_color);
      for (int p = 0; p < 3; ++p) std::swap(thumb[p], still_ref[p]);
    }
    if (result.motion) {
      result.score = static_cast<double>(cv::countNonZero(foreground(rects.front()))) / rects.front().area();
    }
    return result;
  }

  double background_match(const Box& region) {
    if (last_gray_f.empty() && !last_input.empty()) to_gray_f32(last_input, current_gray, last_gray_f);
    if (last_gray_f.empty() || !model) return 1.0;
    if (!background_current) {
      model->background_image(background);
      if (background.empty() || background.size() != last_gray_f.size()) return 1.0;
      to_gray_f32(background, background_gray, bg_f);
      background_current = true;
    }
    // A margin of a few pixels: small regions give too few samples for a correlation, and the surface
    // around a region that light crept over was lit the same way.
    constexpr int kMargin = 4;
    const int x0 = static_cast<int>(std::floor(region.x * size.width)) - kMargin;
    const int y0 = static_cast<int>(std::floor(region.y * size.height)) - kMargin;
    const int x1 = static_cast<int>(std::ceil((region.x + region.w) * size.width)) + kMargin;
    const int y1 = static_cast<int>(std::ceil((region.y + region.h) * size.height)) + kMargin;
    const cv::Rect r = cv::Rect(x0, y0, x1 - x0, y1 - y0) & cv::Rect(0, 0, size.width, size.height);
    if (r.area() < 16) return 1.0;
    return detail::gain_consistency(last_gray_f(r), bg_f(r));
  }

  void log_once(const Frame& frame, const char* what) {
    if (error_logged) return;
    error_logged = true;
    camera_logger(frame.camera)
        ->error("motion detection failed on a {}x{} frame, frames give no motion: {}", frame.width, frame.height, what);
  }
};

MotionDetector::MotionDetector(MotionConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
MotionDetector::~MotionDetector() = default;
MotionDetector::MotionDetector(MotionDetector&&) noexcept = default;
MotionDetector& MotionDetector::operator=(MotionDetector&&) noexcept = default;

MotionResult MotionDetector::process(const Frame& frame) {
  if (frame.empty() || frame.stride[0] < frame.width) return {};
  try {
    return impl_->analyse(frame);
  } catch (const cv::Exception& e) {
    impl_->log_once(frame, e.what());
  } catch (const std::exception& e) {
    impl_->log_once(frame, e.what());
  }
  return {};
}

void MotionDetector::reset() {
  impl_->model.reset();
  impl_->size = {};
  impl_->frames_seen = 0;
}

std::vector<std::uint8_t> MotionDetector::last_mask(int& width, int& height) const {
  width = height = 0;
  const cv::Mat& fg = impl_->foreground;
  if (fg.empty() || fg.size() != impl_->size || impl_->frames_seen <= impl_->config.warmup_frames) return {};
  width = fg.cols;
  height = fg.rows;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(fg.total()));
  cv::Mat dst(fg.rows, fg.cols, CV_8UC1, out.data());
  fg.copyTo(dst);
  return out;
}

double MotionDetector::background_match(const Box& region) const {
  try {
    return impl_->background_match(region);
  } catch (const cv::Exception&) {
    return 1.0;
  }
}

std::uint64_t MotionDetector::global_changes() const {
  return impl_->global_changes;
}

std::uint64_t MotionDetector::still_skipped() const {
  return impl_->still_skipped;
}

void MotionDetector::hold_still_gate(bool hold) {
  impl_->still_held = hold;
}

const MotionConfig& MotionDetector::config() const {
  return impl_->config;
}

}  // namespace matthan
