// Tamper detection on the luma plane of analysis frames: a covered or blacked-out view, a turned camera,
// a badly defocused lens. Compared with a slowly updated reference, brightness-normalised, at a low rate.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "matthan/core/types.hpp"

namespace matthan {

struct TamperConfig {
  bool enabled = true;
  // How often the view is evaluated (media time); frames in between cost a timestamp comparison only.
  double interval_s = 0.5;
  // The reference is learnt over this long (after start-up, a size change or a re-baseline) before anything
  // is judged.
  double learn_s = 5;
  // A tamper condition must hold this long before the incident starts ...
  double persist_s = 5;
  // ... and the view must look normal again for this long before it ends (end_reason `restored`).
  double clear_s = 3;
  // Time constant of the reference's slow update while the view is normal: slow drifts (daylight, shadows)
  // are absorbed, sudden changes are not.
  double reference_time_s = 60;
  // A `turned` incident that lasts this long ends (end_reason `rebaselined`) and the new view becomes the
  // reference: the camera was repointed for good. 0: never. Covered and defocused views never re-baseline.
  double rebaseline_s = 300;

  // turned: the share of textured grid cells whose (brightness-normalised) edge pattern no longer matches
  // the reference is above this. Lighting changes keep the edges where they were, so they stay low.
  double structure_change = 0.65;
  // covered: the structure is lost as above and the picture is near-uniform (luma standard deviation below
  // min_stddev, 8-bit levels), or its mean luminance moved by more than brightness_factor (darker or
  // brighter) from the reference, or its contrast fell below contrast_drop of the reference's. A room that
  // goes dark keeps its structure, so it is lighting, not a cover. The reference is only learnt from a view
  // with a standard deviation of at least 2 x min_stddev. A picture that becomes near-uniform in an instant
  // (below contrast_drop of its contrast a few seconds before) is covered even if faint remains of the scene
  // still line up.
  double min_stddev = 6;
  double brightness_factor = 2.5;
  double contrast_drop = 0.25;
  // defocused: the structure is kept but the sharpness (Laplacian energy over gradient energy, a ratio
  // that gain and offset do not change) fell below this fraction of the reference's, without a rise in
  // contrast (a clearer view is never a blur).
  double sharpness_drop = 0.45;
  bool operator==(const TamperConfig&) const = default;  // config reload: an unchanged camera is left alone
};

// What one evaluation measured (exposed for tests, logs and tuning).
struct TamperMeasures {
  double mean = 0;              // luma mean, 0..255
  double stddev = 0;            // luma standard deviation
  double sharpness = 0;         // Laplacian energy / gradient energy on the analysis image
  double structure_change = 0;  // 0..1, share of textured cells that no longer match the reference
  double reference_mean = 0;
  double reference_stddev = 0;
  double reference_sharpness = 0;
  double recent_stddev = 0;  // the highest stddev of the last few seconds (held from before a blackout)
  std::string condition;     // "" when the view looks normal, else covered | turned | defocused
};

enum class TamperPhase { kNone, kStart, kEnd };

struct TamperEvent {
  TamperPhase phase = TamperPhase::kNone;
  std::string reason;      // covered | turned | defocused (start, and repeated on end)
  double score = 0;        // 0..1, how far from normal at the start
  MediaTimeNs since = 0;   // start: when the condition began (pts of the first evaluation that saw it)
  std::string end_reason;  // end: restored | rebaselined
};

class TamperDetector {
 public:
  explicit TamperDetector(TamperConfig config);
  ~TamperDetector();
  TamperDetector(TamperDetector&&) noexcept;
  TamperDetector& operator=(TamperDetector&&) noexcept;
  TamperDetector(const TamperDetector&) = delete;
  TamperDetector& operator=(const TamperDetector&) = delete;

  // Call with every analysed frame (only the luma plane is read, never written). Evaluates at most once per
  // interval_s of media time. Never throws: an OpenCV error gives no event (logged once).
  TamperEvent process(const Frame& frame);
  // Forgets the reference and any open state (learning starts again). Does not report an end.
  void reset();

  bool active() const;                                         // a tamper incident is open
  const std::optional<TamperMeasures>& last_measures() const;  // the latest evaluation's figures
  const TamperConfig& config() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace matthan
