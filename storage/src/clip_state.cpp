// ClipState's words, one table for both directions.
#include "matthan/storage/clip_state.hpp"

#include <array>
#include <utility>

namespace matthan {
namespace {

constexpr std::array<std::pair<ClipState, std::string_view>, 4> kWords{{
    {ClipState::kWriting, "writing"},
    {ClipState::kComplete, "complete"},
    {ClipState::kPartial, "partial"},
    {ClipState::kDeleted, "deleted"},
}};

}  // namespace

std::string_view to_string(ClipState state) {
  for (const auto& [s, word] : kWords) {
    if (s == state) return word;
  }
  return {};  // not a ClipState: no word, and the column's CHECK refuses the empty one
}

std::optional<ClipState> parse_clip_state(std::string_view text) {
  for (const auto& [s, word] : kWords) {
    if (word == text) return s;
  }
  return std::nullopt;
}

}  // namespace matthan
