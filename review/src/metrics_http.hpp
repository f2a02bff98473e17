// Serving a metrics scrape over cpp-httplib (shared by the review server's /metrics and MetricsServer).
#pragma once

#include <httplib.h>

#include "matthan/review/metrics.hpp"

namespace matthan {

void send_metrics(httplib::Response& res, const MetricsSource& source);

}  // namespace matthan
