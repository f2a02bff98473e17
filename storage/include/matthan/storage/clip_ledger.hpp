// ClipLedger: the index rows of the clips being written. A clip is in the index as `writing` the moment its file
// opens, so that after a crash the start-up reconcile finds it and its incidents keep their clip; it becomes
// complete or partial when it finishes, and deleted (never complete) when it fails. Storage thread only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "matthan/storage/clip_book.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/storage/recorder.hpp"

namespace matthan {

class ClipLedger {
 public:
  explicit ClipLedger(Index& index) : index_(index) {}

  // Clips a recorder opened (rows `writing`) and the incidents whose start lies in them.
  void note(const std::string& camera, const RecorderNotes& notes);
  // A finished clip's row, and where its incidents' `end`s will say it is (no place when it failed).
  std::optional<ClipPlace> finished(const std::string& camera, const FinishedClip& clip);

 private:
  std::optional<std::int64_t> record_finished(const std::string& camera, const FinishedClip& clip);
  void record_failed(const std::string& camera, const FinishedClip& clip);

  Index& index_;
  std::map<std::string, std::int64_t> writing_;  // index id of each clip being written, by relative path
};

}  // namespace matthan
