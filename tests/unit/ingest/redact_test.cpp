// Credentials never survive into reasons and log text.
#include "matthan/ingest/redact.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

TEST(Redact, HidesUserinfoOfEveryEmbeddedUrl) {
  const auto out = redact_credentials("Could not open rtsp://admin:hunter22@10.0.0.1/x and http://a:b@h:80/y.");
  EXPECT_EQ(out, "Could not open rtsp://***@10.0.0.1/x and http://***@h:80/y.");
}

TEST(Redact, HidesTheKnownPasswordWhereverItAppears) {
  const std::string url = "rtsp://admin:hunter22@10.0.0.1:554/cam";
  const auto out = redact_credentials("auth failed for admin:hunter22 (password hunter22)", url);
  EXPECT_EQ(out.find("hunter22"), std::string::npos) << out;
  EXPECT_NE(out.find("auth failed"), std::string::npos);
}

// A password holding '/', '@', ':' or '#' is hidden whole, with or without the URL it came from (issue 19, D7).
TEST(Redact, HidesAPasswordThatHoldsSlashAtColonAndHash) {
  EXPECT_EQ(redact_credentials("Could not open rtsp://admin:1234/5678@host: refused"),
            "Could not open rtsp://***@host: refused");
  EXPECT_EQ(redact_credentials("opening (rtsp://admin:p@ss/w:rd#1@10.0.0.5:554/stream1)"),
            "opening (rtsp://***@10.0.0.5:554/stream1)");
  const std::string url = "rtsp://admin:p@ss/w:rd#1@10.0.0.5:554/stream1";
  const auto out = redact_credentials("rtspsrc: " + url + " said 401 for p@ss/w:rd#1", url);
  EXPECT_EQ(out.find("p@ss"), std::string::npos) << out;
  EXPECT_EQ(out.find("w:rd#1"), std::string::npos) << out;
  EXPECT_NE(out.find("10.0.0.5:554/stream1"), std::string::npos) << out;
}

TEST(Redact, LeavesTextWithoutCredentialsAlone) {
  const std::string text = "Not found (rtsp://10.0.0.1/cam@night)";
  EXPECT_EQ(redact_credentials(text, "rtsp://10.0.0.1/cam@night"), text);
  EXPECT_EQ(redact_credentials("stream ended"), "stream ended");
}

}  // namespace
}  // namespace matthan
