// The camera pipeline description: what is cut where, and which URLs are refused.
#include "pipeline.hpp"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include "matthan/core/url.hpp"
#include "matthan/ingest/gst_ptr.hpp"
#include "matthan/ingest/gst_source.hpp"

namespace matthan {
namespace {

SourceOptions rtsp_options() {
  SourceOptions o;
  o.url = "rtsp://user:pw@10.0.0.5:554/stream1";
  o.width = 320;
  o.height = 180;
  o.fps = 4;
  o.latency_ms = 350;
  return o;
}

std::size_t pos(const std::string& text, const std::string& what) {
  const auto p = text.find(what);
  EXPECT_NE(p, std::string::npos) << "'" << what << "' missing from: " << text;
  return p;
}

TEST(Pipeline, RtspChainCarriesUrlLatencyAndBothSinks) {
  const auto d = describe_pipeline(rtsp_options());
  // The depayloader and parser follow the camera's codec (parsebin), only the video stream is taken.
  EXPECT_LT(pos(d, "rtspsrc"), pos(d, "application/x-rtp,media=video ! parsebin name=parse"));
  pos(d, "location=\"rtsp://user:pw@10.0.0.5:554/stream1\"");
  pos(d, "latency=350");
  // The camera's RTP clock times the packets, not their arrival (which a starved process reads late).
  pos(d, "buffer-mode=synced");
  EXPECT_LT(pos(d, "parsebin"), pos(d, "video/x-h264,stream-format=avc,alignment=au;"));
  EXPECT_LT(pos(d, "video/x-h264,stream-format=avc,alignment=au;"),
            pos(d, "video/x-h265,stream-format=hvc1,alignment=au ! tee name=t"));
  pos(d, "appsink name=packets sync=false");
  pos(d, "appsink name=frames sync=false max-buffers=2 drop=true");
  EXPECT_EQ(d.find("h264parse"), std::string::npos) << "nothing hard-wired to H.264: " << d;
  EXPECT_EQ(d.find("avdec_h264"), std::string::npos) << d;
  // auto (the default) picks the transport per try at run time, not in the description.
  EXPECT_EQ(d.find("protocols="), std::string::npos);
}

TEST(Pipeline, ExplicitTransportRestrictsRtspsrc) {
  SourceOptions o = rtsp_options();
  o.transport = RtspTransport::kTcp;
  EXPECT_NE(describe_pipeline(o).find("protocols=tcp"), std::string::npos);
  o.transport = RtspTransport::kUdp;
  EXPECT_NE(describe_pipeline(o).find("protocols=udp"), std::string::npos);
  EXPECT_EQ(to_string(RtspTransport::kAuto), "auto");
}

// `matthan probe` builds its rtspsrc from the same text as the camera pipeline (one element, so
// gst_parse_launch gives the element itself), so it asks the camera as the engine does.
TEST(Pipeline, ProbeAndCameraPipelineShareOneRtspSource) {
  SourceOptions o = rtsp_options();
  o.transport = RtspTransport::kTcp;
  const std::string src = detail::rtsp_source_description(o.latency_ms, o.transport);
  const std::string location = " location=\"rtsp://user:pw@10.0.0.5:554/stream1\"";
  const std::string with_location = detail::rtsp_source_description(o.latency_ms, o.transport, location);
  EXPECT_EQ(describe_pipeline(o).rfind(with_location, 0), 0u) << describe_pipeline(o);

  ensure_gstreamer_initialized();
  GError* raw = nullptr;
  auto element = gst::adopt(gst_parse_launch(src.c_str(), &raw));
  gst::ErrorPtr error(raw);
  ASSERT_FALSE(error) << error->message;
  ASSERT_TRUE(element);
  EXPECT_STREQ(GST_OBJECT_NAME(gst_element_get_factory(element.get())), "rtspsrc");
  guint latency = 0;
  g_object_get(element.get(), "latency", &latency, nullptr);
  EXPECT_EQ(latency, 350u);
  // The property as GStreamer writes it: an enum by its nick, flags by their names.
  const auto serialized = [&](const char* property) {
    GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element.get()), property);
    EXPECT_NE(spec, nullptr) << property;
    if (spec == nullptr) return std::string();
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_PARAM_SPEC_VALUE_TYPE(spec));
    g_object_get_property(G_OBJECT(element.get()), property, &v);
    gst::CharPtr text(gst_value_serialize(&v));
    g_value_unset(&v);
    return std::string(text ? text.get() : "");
  };
  EXPECT_EQ(serialized("buffer-mode"), "synced");
  EXPECT_EQ(serialized("protocols"), "GST_RTSP_LOWER_TRANS_TCP");
  // auto: the camera source sets `protocols` per try; the probe keeps rtspsrc's own order.
  EXPECT_EQ(detail::rtsp_source_description(200, RtspTransport::kAuto).find("protocols"), std::string::npos);
}

TEST(Pipeline, DecoderIsNamedSoItsWarningsCountAsDecodeErrors) {
  const auto d = describe_pipeline(rtsp_options());
  EXPECT_NE(d.find("! decodebin name=dec ! videorate name=rate"), std::string::npos) << d;
}

TEST(Pipeline, RateIsReducedBeforeScalingAndConverting) {
  const auto d = describe_pipeline(rtsp_options());
  const auto decode = pos(d, "name=dec");
  const auto rate = pos(d, "videorate name=rate drop-only=true");
  const auto rate_caps = pos(d, "framerate=4/1");
  const auto scale = pos(d, "videoconvertscale");
  const auto size_caps = pos(d, "width=320,height=180");
  EXPECT_LT(decode, rate);
  EXPECT_LT(rate, rate_caps);
  EXPECT_LT(rate_caps, scale);
  EXPECT_LT(scale, size_caps);
  EXPECT_LT(size_caps, pos(d, "appsink name=frames"));
}

TEST(Pipeline, WithoutADetectSizeNothingIsScaled) {
  SourceOptions o = rtsp_options();
  o.width = 0;
  o.height = 0;
  const auto d = describe_pipeline(o);
  EXPECT_EQ(d.find("videoconvertscale"), std::string::npos) << d;
  EXPECT_EQ(d.find("width="), std::string::npos) << d;
  // videoconvert only guarantees the format (a passthrough for H.264's I420), after the rate cut.
  EXPECT_LT(pos(d, "framerate=4/1"), pos(d, "videoconvert ! video/x-raw,format=I420 ! appsink name=frames"));
  o.format = PixelFormat::kGray8;
  pos(describe_pipeline(o), "videoconvert ! video/x-raw,format=GRAY8 ! appsink name=frames");
  EXPECT_EQ(SourceOptions{}.width, 0);  // the default
}

TEST(Pipeline, HttpUrlIsAnMjpegCameraDecodedWithoutVideorate) {
  SourceOptions o;
  o.url = "http://cam:pw@127.0.0.1:8080/video.mjpg";
  o.fps = 5;
  const auto d = describe_pipeline(o);
  const auto src = pos(d, "souphttpsrc name=src");
  const auto demux = pos(d, "multipartdemux");
  const auto parse = pos(d, "jpegparse");
  const auto caps = pos(d, "image/jpeg,parsed=true ! tee name=t");
  EXPECT_LT(src, demux);
  EXPECT_LT(demux, parse);
  EXPECT_LT(parse, caps);
  EXPECT_LT(caps, pos(d, "appsink name=packets"));
  EXPECT_LT(pos(d, "jpegdec name=dec"), pos(d, "appsink name=frames"));
  // videorate cannot take JPEG (nor MJPEG's unknown rate): the rate is cut by a probe before `dec`.
  EXPECT_EQ(d.find("videorate"), std::string::npos) << d;
  EXPECT_EQ(d.find("decodebin"), std::string::npos) << d;
  o.decode = false;
  EXPECT_EQ(describe_pipeline(o).find("jpegdec"), std::string::npos);
  o.url = "ftp://h/x";
  EXPECT_TRUE(describe_pipeline(o).empty()) << "an unsupported scheme has no pipeline";
}

TEST(Pipeline, RecordOnlyStreamDecodesNothing) {
  SourceOptions o = rtsp_options();
  o.decode = false;
  const auto d = describe_pipeline(o);
  EXPECT_NE(d.find("appsink name=packets"), std::string::npos) << d;
  EXPECT_EQ(d.find("avdec_h264"), std::string::npos) << d;
  EXPECT_EQ(d.find("appsink name=frames"), std::string::npos) << d;
  EXPECT_NE(describe_pipeline(rtsp_options()).find("appsink name=frames"), std::string::npos);
}

TEST(Pipeline, FrameBranchQueueLeaksSoPacketsAreNeverHeldBack) {
  const auto d = describe_pipeline(rtsp_options());
  const auto frames_branch = d.find("t. ! queue leaky=downstream");
  ASSERT_NE(frames_branch, std::string::npos) << d;
  EXPECT_LT(frames_branch, pos(d, "name=dec"));
}

TEST(Pipeline, PixelFormatChoosesI420OrGray) {
  auto o = rtsp_options();
  EXPECT_NE(describe_pipeline(o).find("format=I420,width=320"), std::string::npos);
  o.format = PixelFormat::kGray8;
  const auto d = describe_pipeline(o);
  EXPECT_NE(d.find("format=GRAY8,width=320"), std::string::npos) << d;
  EXPECT_EQ(d.find("I420"), std::string::npos);
}

TEST(Pipeline, FileUrlsPlayInRealTime) {
  SourceOptions o;
  o.url = "file:///var/media/a\"b\".mp4";
  const auto d = describe_pipeline(o);
  pos(d, "filesrc name=src location=\"/var/media/a\\\"b\\\".mp4\"");
  EXPECT_LT(pos(d, "parsebin"), pos(d, "identity sync=true"));
  EXPECT_EQ(d.find("rtspsrc"), std::string::npos);
}

TEST(Pipeline, RtspsIsAccepted) {
  auto o = rtsp_options();
  o.url = "rtsps://cam.local/x";
  EXPECT_NE(describe_pipeline(o).find("rtspsrc"), std::string::npos);
}

// rtspsrc's own parser ends the userinfo at the first '/', so a password "1234/5678" would make "1234" a port:
// the credentials go to user-id and user-pw, unescaped as rtspsrc did, and the location holds no secret.
TEST(Pipeline, RtspCredentialsGoToTheirOwnPropertiesWhateverThePasswordHolds) {
  ensure_gstreamer_initialized();
  const auto read = [](GstElement* e, const char* property) {
    gchar* raw = nullptr;
    g_object_get(e, property, &raw, nullptr);
    std::string out = raw ? raw : "(null)";
    g_free(raw);
    return out;
  };
  const auto source_for = [](const std::string& url) {
    auto src = gst::adopt(gst_element_factory_make("rtspsrc", nullptr));
    const auto parsed = parse_url(url);
    EXPECT_TRUE(parsed) << url;
    if (src && parsed) detail::set_source_location(src.get(), url, *parsed);
    return src;
  };
  auto src = source_for("rtsp://admin:p@ss/w:rd#1@10.0.0.5:554/Streaming/Channels/101");
  ASSERT_TRUE(src);
  EXPECT_EQ(read(src.get(), "location"), "rtsp://10.0.0.5:554/Streaming/Channels/101");
  EXPECT_EQ(read(src.get(), "user-id"), "admin");
  EXPECT_EQ(read(src.get(), "user-pw"), "p@ss/w:rd#1");

  src = source_for("rtsp://admin:1234/5678@cam.local");
  EXPECT_EQ(read(src.get(), "location"), "rtsp://cam.local");
  EXPECT_EQ(read(src.get(), "user-pw"), "1234/5678");

  src = source_for("rtsp://us%65r:p%40ss%2Fx@cam.local/x");
  EXPECT_EQ(read(src.get(), "user-id"), "user") << "escapes are undone as rtspsrc undid them";
  EXPECT_EQ(read(src.get(), "user-pw"), "p@ss/x");

  src = source_for("rtsp://cam.local:8554/x");
  EXPECT_EQ(read(src.get(), "location"), "rtsp://cam.local:8554/x");
  EXPECT_EQ(read(src.get(), "user-id"), "(null)") << "no credentials, nothing set";
}

TEST(Pipeline, UnsupportedSchemesGiveNoPipelineAndAClearError) {
  for (const std::string url : {"ftp://cam/x.mjpg", "test:ball", "not a url"}) {
    SourceOptions o;
    o.url = url;
    EXPECT_EQ(describe_pipeline(o), "") << url;
    auto source = make_gst_source("cam", o, {});
    std::stop_source stop;
    const Status s = source->run(stop.get_token());
    ASSERT_FALSE(s.ok()) << url;
    EXPECT_NE(s.error().message.find(url == "not a url" ? "URL" : "unsupported"), std::string::npos)
        << s.error().message;
  }
}

}  // namespace
}  // namespace matthan
