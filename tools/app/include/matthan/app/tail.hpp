// `matthan tail`: a ZeroMQ subscriber that prints each event payload as one JSON line.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace matthan {

// Returns the process exit code. Stops on SIGINT/SIGTERM (blocked and polled), after `count` events,
// or when `stop()` says so.
int run_tail(const std::string& endpoint, const std::string& topic_prefix, std::optional<int> count,
             const std::function<bool()>& stop);

}  // namespace matthan
