// A GStreamer bus error read once into text and an ErrorCode: the camera source and the probe decide on the code.
#pragma once

#include <gst/gst.h>

#include <string>

#include "matthan/core/result.hpp"

namespace matthan::detail {

struct GstBusError {
  // From the GError's domain and code (401, 404); otherwise from the socket error its text names (refused,
  // unreachable, timed out); kOther when neither says.
  ErrorCode code = ErrorCode::kOther;
  // The GError's message ("unknown error" when there is none), and the last line of the debug detail in brackets
  // when that adds to it.
  std::string text;
};

// msg must be a GST_MESSAGE_ERROR.
GstBusError read_bus_error(GstMessage* msg);

}  // namespace matthan::detail
