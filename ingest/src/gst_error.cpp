// Reading a GStreamer bus error into text and an ErrorCode, once for the camera source and the probe.
#include "gst_error.hpp"

#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/stream_probe.hpp"

namespace matthan::detail {
namespace {

// Drops gst's "file.c(123): function (): /Pipeline/Element:\n" prefix, keeping the human part.
std::string debug_tail(const gchar* debug) {
  if (debug == nullptr) return {};
  std::string d(debug);
  const auto nl = d.rfind('\n');
  return nl == std::string::npos ? d : d.substr(nl + 1);
}

}  // namespace

GstBusError read_bus_error(GstMessage* msg) {
  GError* raw = nullptr;
  gchar* raw_debug = nullptr;
  gst_message_parse_error(msg, &raw, &raw_debug);
  gst::ErrorPtr error(raw);
  gst::CharPtr debug(raw_debug);
  GstBusError out;
  out.text = error ? error->message : "unknown error";
  if (const auto tail = debug_tail(debug.get()); !tail.empty() && tail != out.text) out.text += " (" + tail + ")";
  if (error && g_error_matches(error.get(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED)) {
    out.code = ErrorCode::kUnauthorized;
  } else if (error && g_error_matches(error.get(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND)) {
    out.code = ErrorCode::kNotFound;
  } else {
    out.code = classify_connection_text(out.text);
  }
  return out;
}

}  // namespace matthan::detail
