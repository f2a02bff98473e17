// A clip's life in the index: the enum the code decides on, and the words the SQLite column and the API carry.
#pragma once

#include <optional>
#include <string_view>

namespace matthan {

enum class ClipState {
  kWriting,   // the writer has it open
  kComplete,  // finished and verified
  kPartial,   // recovered after a crash, or found on disk with no row: playable, maybe short
  kDeleted,   // the file is gone (retention, reconcile, operator); the row stays for the record
};

// "writing", "complete", "partial", "deleted": the clips.state column's words (001_initial.sql's CHECK) and
// the review API's.
std::string_view to_string(ClipState state);
std::optional<ClipState> parse_clip_state(std::string_view text);

}  // namespace matthan
