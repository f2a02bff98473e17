// What a config reload changes: cameras added, removed, changed or untouched, and node-level settings
// that differ (those are not applied live; they wait for a restart). Pure: plain values in, plain values out.
#pragma once

#include <string>
#include <vector>

#include "matthan/app/config.hpp"

namespace matthan {

struct ConfigDiff {
  std::vector<CameraConfig> added;         // new ids, in the new file's order
  std::vector<std::string> removed;        // ids no longer in the file
  std::vector<CameraConfig> changed;       // same id, different settings (the new settings)
  std::vector<std::string> unchanged;      // same id, equal settings: left running as they are
  std::vector<std::string> needs_restart;  // node-level keys that differ, e.g. "storage.root", "events.bind"
  bool cameras_differ() const { return !added.empty() || !removed.empty() || !changed.empty(); }
};

ConfigDiff diff_config(const Config& running, const Config& next);

}  // namespace matthan
