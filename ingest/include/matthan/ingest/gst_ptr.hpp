// RAII owners for GStreamer/GLib handles. Include only where GStreamer headers are available.
#pragma once

#include <glib-object.h>
#include <gst/gst.h>

#include <memory>
#include <utility>

namespace matthan::gst {

struct ObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
struct MiniObjectUnref {
  void operator()(gpointer p) const { gst_mini_object_unref(GST_MINI_OBJECT_CAST(p)); }
};
struct ErrorFree {
  void operator()(GError* e) const { g_error_free(e); }
};
struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};
struct MainContextUnref {
  void operator()(GMainContext* c) const { g_main_context_unref(c); }
};
struct MainLoopUnref {
  void operator()(GMainLoop* l) const { g_main_loop_unref(l); }
};
struct SourceUnref {
  void operator()(GSource* s) const { g_source_unref(s); }
};

// Any GObject (GstElement, GstBus, GstPad, GstRTSPServer, ...).
template <class T>
using ObjectPtr = std::unique_ptr<T, ObjectUnref>;
// Any GstMiniObject (GstMessage, GstSample, GstBuffer, GstCaps, ...).
template <class T>
using MiniPtr = std::unique_ptr<T, MiniObjectUnref>;

using ElementPtr = ObjectPtr<GstElement>;
using BusPtr = ObjectPtr<GstBus>;
using MessagePtr = MiniPtr<GstMessage>;
using SamplePtr = MiniPtr<GstSample>;
using BufferPtr = MiniPtr<GstBuffer>;
using CapsPtr = MiniPtr<GstCaps>;
using ErrorPtr = std::unique_ptr<GError, ErrorFree>;
using CharPtr = std::unique_ptr<gchar, GFree>;
using MainContextPtr = std::unique_ptr<GMainContext, MainContextUnref>;
using MainLoopPtr = std::unique_ptr<GMainLoop, MainLoopUnref>;
using SourcePtr = std::unique_ptr<GSource, SourceUnref>;

// Takes over a reference the caller already owns ("transfer full"), sinking a floating one first so
// the owner ends up with exactly one normal reference (OBSRefAutoRelease's job).
template <class T>
ObjectPtr<T> adopt(T* p) {
  if (p != nullptr && g_object_is_floating(p)) g_object_ref_sink(p);
  return ObjectPtr<T>(p);
}

// Adds a reference to a borrowed pointer ("transfer none"), as OBSRef does.
template <class T>
ObjectPtr<T> share(T* p) {
  if (p != nullptr) g_object_ref(p);
  return ObjectPtr<T>(p);
}

// Mini objects have no floating state: adopt takes over an owned reference, share adds one.
template <class T>
MiniPtr<T> adopt_mini(T* p) {
  return MiniPtr<T>(p);
}
template <class T>
MiniPtr<T> share_mini(T* p) {
  if (p != nullptr) gst_mini_object_ref(GST_MINI_OBJECT_CAST(p));
  return MiniPtr<T>(p);
}

// Owns a pipeline and sets it to NULL before its last reference goes, so no streaming thread outlives its
// owner (the camera source's run, the probe).
class PipelineGuard {
 public:
  explicit PipelineGuard(ElementPtr pipeline) : pipeline_(std::move(pipeline)) {}
  PipelineGuard(const PipelineGuard&) = delete;
  PipelineGuard& operator=(const PipelineGuard&) = delete;
  ~PipelineGuard() {
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }
  GstElement* get() const { return pipeline_.get(); }

 private:
  ElementPtr pipeline_;
};

}  // namespace matthan::gst
