// Tamper detection: brightness-normalised features of downscaled luma against a slowly updated reference,
// judged a couple of times a second, with persistence before an incident starts and before it ends.
#include "matthan/detect/tamper_detector.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <exception>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "matthan/core/logging.hpp"
#include "matthan/core/time.hpp"
#include "scene_structure.hpp"

namespace matthan {
namespace {

// Luma is judged at this width: enough for the Laplacian to see a defocus, small enough to cost little.
constexpr int kAnalysisWidth = 320;
// The edge-strength map compared with the reference is half that again: downscaling tolerates the one or
// two pixels of shake a mast gives, and lighting never moves edges.
// (scene_structure.hpp: an 8x6 grid; a cell whose edge pattern correlates less than 0.35 with the
// reference's has changed; only textured cells count, flat sky or wall says nothing about a turn.)
constexpr int kMinLearnSamples = 3;
// "Recent history" for a sudden blackout.
constexpr double kRecentSeconds = 5.0;
// A blur lowers contrast a little; a view whose contrast rose this much is clearer, not defocused.
constexpr double kBlurContrastGain = 1.25;

cv::Size analysis_size(int width, int height) {
  if (width <= kAnalysisWidth) return {width, height};
  const double scale = static_cast<double>(kAnalysisWidth) / width;
  return {kAnalysisWidth, std::max(8, static_cast<int>(std::lround(height * scale)))};
}

MediaTimeNs seconds_to_ns(double s) {
  return static_cast<MediaTimeNs>(s * 1e9);
}

}  // namespace

struct TamperDetector::Impl {
  enum class State { kLearning, kWatching, kTampered };

  explicit Impl(TamperConfig c) : config(std::move(c)) {}

  TamperConfig config;
  State state = State::kLearning;
  cv::Size size;  // analysis size the reference was built for
  bool evaluated_once = false;
  MediaTimeNs last_eval = 0;
  MediaTimeNs learn_started = 0;
  int learn_samples = 0;

  // The reference: slow averages while the view is normal.
  cv::Mat ref_edges;  // sqrt of gradient magnitude at half the analysis size (CV_32F)
  double ref_mean = 0, ref_stddev = 0, ref_sharpness = 0;

  // Working buffers, reused.
  cv::Mat resized, small, gx, gy, mag, lap, edges;

  std::optional<MediaTimeNs> suspect_since;
  std::optional<MediaTimeNs> normal_since;
  MediaTimeNs tampered_since = 0;
  std::string open_reason;
  std::optional<TamperMeasures> last;
  bool error_logged = false;
  // Standard deviations of the last few seconds' evaluations (for a sudden blackout), oldest first; while a
  // blackout lasts the value from before it is held, so it stays sudden.
  std::deque<double> recent_stddevs;
  double blackout_from = 0;  // the contrast before a blackout that is still going on; 0 when none

  void restart_learning(MediaTimeNs now) {
    state = State::kLearning;
    recent_stddevs.clear();
    blackout_from = 0;
    learn_started = now;
    learn_samples = 0;
    suspect_since.reset();
    normal_since.reset();
  }

  struct Features {
    double mean = 0, stddev = 0, sharpness = 0;
  };

  // Fills `edges` and returns the global figures of the frame's luma.
  Features extract(const Frame& frame) {
    // The frame's memory is read-only to us; cv::Mat wants a non-const pointer but we never write.
    const cv::Mat luma(frame.height, frame.width, CV_8UC1, const_cast<std::uint8_t*>(frame.plane[0]),
                       static_cast<std::size_t>(frame.stride[0]));
    const cv::Size s = analysis_size(frame.width, frame.height);
    if (s == luma.size())
      luma.convertTo(small, CV_32F);
    else {
      cv::resize(luma, resized, s, 0, 0, cv::INTER_AREA);
      resized.convertTo(small, CV_32F);
    }
    Features f;
    cv::Scalar m, sd;
    cv::meanStdDev(small, m, sd);
    f.mean = m[0];
    f.stddev = sd[0];
    detail::edge_structure(small, edges, gx, gy, mag);
    cv::Laplacian(small, lap, CV_32F, 1);
    const double grad_energy = cv::mean(gx.mul(gx))[0] + cv::mean(gy.mul(gy))[0];
    const double lap_energy = cv::mean(lap.mul(lap))[0];
    // Both energies scale with the square of the contrast, so the ratio ignores gain and offset; a blur
    // removes fine detail (the Laplacian) much faster than coarse edges (the gradient).
    f.sharpness = grad_energy > 1e-6 ? lap_energy / grad_energy : 0.0;
    return f;
  }

  // Share of textured cells whose edge pattern no longer correlates with the reference's.
  double structure_change() const { return detail::structure_change(edges, ref_edges); }

  TamperMeasures measure(const Features& f) const {
    TamperMeasures m;
    m.mean = f.mean;
    m.stddev = f.stddev;
    m.sharpness = f.sharpness;
    m.reference_mean = ref_mean;
    m.reference_stddev = ref_stddev;
    m.reference_sharpness = ref_sharpness;
    m.structure_change = structure_change();
    return m;
  }

  // Every reason needs evidence that is not plain lighting: a cover or a turn loses the scene's structure
  // (edges compared brightness-normalised, so a dimming room keeps it even when nearly black), and a blur
  // loses sharpness while keeping the structure and never gaining contrast.
  std::string judge(const TamperMeasures& m) const {
    const bool structure_lost = m.structure_change > config.structure_change;
    // +8 keeps a near-black reference from turning noise into huge ratios.
    const double ratio = (m.mean + 8.0) / (m.reference_mean + 8.0);
    const bool far = ratio > config.brightness_factor || ratio < 1.0 / config.brightness_factor ||
                     m.stddev < config.contrast_drop * m.reference_stddev;
    if (structure_lost && (m.stddev < config.min_stddev || far)) return "covered";
    // Blacked out in an instant (the picture's faint remains may still line up with the scene): near-uniform
    // and far below the contrast of a few seconds ago. A room dimming over a minute never is.
    if (m.stddev < config.min_stddev && m.recent_stddev > 0 && m.stddev < config.contrast_drop * m.recent_stddev)
      return "covered";
    if (structure_lost) return "turned";
    // More contrast than the reference means a clearer view (fog lifting, exposure settling): never a blur.
    const bool no_contrast_gain = m.stddev <= kBlurContrastGain * m.reference_stddev;
    if (m.reference_sharpness > 0 && m.sharpness < config.sharpness_drop * m.reference_sharpness && no_contrast_gain)
      return "defocused";
    return "";
  }

  double score_of(const TamperMeasures& m) const {
    double s = 1.0;
    if (m.condition == "covered")
      s = 1.0 - m.stddev / std::max(m.reference_stddev, 1.0);
    else if (m.condition == "turned")
      s = m.structure_change;
    else if (m.condition == "defocused")
      s = 1.0 - m.sharpness / std::max(m.reference_sharpness, 1e-9);
    return std::clamp(s, 0.0, 1.0);
  }

  void learn(const Features& f) {
    ++learn_samples;
    const double a = 1.0 / learn_samples;  // a plain running mean while learning
    blend(f, a);
  }

  void blend(const Features& f, double a) {
    if (ref_edges.empty() || ref_edges.size() != edges.size()) {
      edges.copyTo(ref_edges);
      ref_mean = f.mean;
      ref_stddev = f.stddev;
      ref_sharpness = f.sharpness;
      return;
    }
    cv::accumulateWeighted(edges, ref_edges, a);
    ref_mean += a * (f.mean - ref_mean);
    ref_stddev += a * (f.stddev - ref_stddev);
    ref_sharpness += a * (f.sharpness - ref_sharpness);
  }

  TamperEvent evaluate(const Frame& frame) {
    const MediaTimeNs now = frame.pts;
    const cv::Size s = analysis_size(frame.width, frame.height);
    if (s != size) {  // a new stream size: what we learnt says nothing about it
      size = s;
      ref_edges.release();
      TamperEvent ev = close_if_open(now, "restored");
      restart_learning(now);
      return ev;
    }
    const Features f = extract(frame);
    if (state == State::kLearning) {
      // Only a view with something in it becomes the reference: a camera that starts covered (or grey while
      // its exposure settles) is learnt once it shows a scene.
      if (f.stddev < 2 * config.min_stddev) {
        ref_edges.release();
        restart_learning(now);
        return {};
      }
      learn(f);
      if (learn_samples >= kMinLearnSamples && media_seconds(now - learn_started) >= config.learn_s)
        state = State::kWatching;
      last.reset();
      return {};
    }
    TamperMeasures m = measure(f);
    track_recent(m);
    last = m;
    if (state == State::kWatching) return watch(m, f, now);
    return hold(m, now);
  }

  void track_recent(TamperMeasures& m) {
    double before = 0;
    for (double v : recent_stddevs) before = std::max(before, v);
    if (m.stddev >= config.min_stddev)
      blackout_from = 0;
    else if (blackout_from == 0 && m.stddev < config.contrast_drop * before)
      blackout_from = before;
    m.recent_stddev = blackout_from > 0 ? blackout_from : before;
    m.condition = judge(m);
    recent_stddevs.push_back(m.stddev);
    const auto keep = static_cast<std::size_t>(std::ceil(kRecentSeconds / std::max(config.interval_s, 0.05)));
    while (recent_stddevs.size() > keep) recent_stddevs.pop_front();
  }

  TamperEvent watch(const TamperMeasures& m, const Features& f, MediaTimeNs now) {
    if (m.condition.empty()) {
      suspect_since.reset();
      blend(f, std::clamp(config.interval_s / std::max(config.reference_time_s, 1e-3), 0.0, 1.0));
      return {};
    }
    if (!suspect_since) suspect_since = now;
    if (media_seconds(now - *suspect_since) < config.persist_s) return {};
    state = State::kTampered;
    tampered_since = now;
    open_reason = m.condition;
    normal_since.reset();
    TamperEvent ev;
    ev.phase = TamperPhase::kStart;
    ev.reason = open_reason;
    ev.score = score_of(m);
    ev.since = *suspect_since;
    return ev;
  }

  TamperEvent hold(const TamperMeasures& m, MediaTimeNs now) {
    if (m.condition.empty()) {
      if (!normal_since) normal_since = now;
      if (media_seconds(now - *normal_since) < config.clear_s) return {};
      TamperEvent ev = close_if_open(now, "restored");
      state = State::kWatching;
      suspect_since.reset();
      return ev;
    }
    normal_since.reset();
    if (open_reason == "turned" && m.condition == "turned" && config.rebaseline_s > 0 &&
        media_seconds(now - tampered_since) >= config.rebaseline_s) {
      TamperEvent ev = close_if_open(now, "rebaselined");
      ref_edges.release();  // learn the new view from scratch
      restart_learning(now);
      return ev;
    }
    return {};
  }

  TamperEvent close_if_open(MediaTimeNs, const std::string& why) {
    if (state != State::kTampered) return {};
    TamperEvent ev;
    ev.phase = TamperPhase::kEnd;
    ev.reason = open_reason;
    ev.end_reason = why;
    state = State::kWatching;
    return ev;
  }

  TamperEvent process(const Frame& frame) {
    if (!config.enabled) return {};
    if (evaluated_once && frame.pts >= last_eval && frame.pts - last_eval < seconds_to_ns(config.interval_s)) return {};
    evaluated_once = true;
    last_eval = frame.pts;
    return evaluate(frame);
  }

  void log_once(const Frame& frame, const char* what) {
    if (error_logged) return;
    error_logged = true;
    camera_logger(frame.camera)
        ->error("tamper detection failed on a {}x{} frame, it is off for such frames: {}", frame.width, frame.height,
                what);
  }
};

TamperDetector::TamperDetector(TamperConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
TamperDetector::~TamperDetector() = default;
TamperDetector::TamperDetector(TamperDetector&&) noexcept = default;
TamperDetector& TamperDetector::operator=(TamperDetector&&) noexcept = default;

TamperEvent TamperDetector::process(const Frame& frame) {
  if (frame.empty() || frame.stride[0] < frame.width) return {};
  try {
    return impl_->process(frame);
  } catch (const cv::Exception& e) {
    impl_->log_once(frame, e.what());
  } catch (const std::exception& e) {
    impl_->log_once(frame, e.what());
  }
  return {};
}

void TamperDetector::reset() {
  impl_->ref_edges.release();
  impl_->size = {};
  impl_->evaluated_once = false;
  impl_->last.reset();
  impl_->restart_learning(0);
}

bool TamperDetector::active() const {
  return impl_->state == Impl::State::kTampered;
}
const std::optional<TamperMeasures>& TamperDetector::last_measures() const {
  return impl_->last;
}
const TamperConfig& TamperDetector::config() const {
  return impl_->config;
}

}  // namespace matthan
