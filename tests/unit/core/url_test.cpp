// URL parsing and credential redaction.
#include "matthan/core/url.hpp"

#include <gtest/gtest.h>

namespace matthan {
namespace {

TEST(Url, ParsesRtspWithCredentialsAndPort) {
  auto u = parse_url("rtsp://user:pa:ss@127.0.0.1:8554/vtest?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "rtsp");
  EXPECT_EQ(u->userinfo, "user:pa:ss");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 8554);
  EXPECT_EQ(u->path, "/vtest?x=1");
}

TEST(Url, RejectsBadForms) {
  std::string why;
  EXPECT_FALSE(parse_url("127.0.0.1/x", &why));
  EXPECT_NE(why.find("scheme"), std::string::npos);
  EXPECT_FALSE(parse_url("ftp://h/x", &why));
  EXPECT_FALSE(parse_url("rtsp://h:99999/x", &why));
  EXPECT_NE(why.find("port"), std::string::npos);
  EXPECT_FALSE(parse_url("rtsp:///x", &why));
  EXPECT_FALSE(parse_url("rtsp://h x/", &why));
  EXPECT_FALSE(parse_url("test:", &why));
}

TEST(Url, AcceptsTestAndFile) {
  auto t = parse_url("test:ball");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->path, "ball");
  auto f = parse_url("file:///tmp/a.mp4");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->path, "/tmp/a.mp4");
}

TEST(Url, RedactsPasswords) {
  EXPECT_EQ(redact_url("rtsp://user:secret@10.0.0.5:554/stream1"), "rtsp://***@10.0.0.5:554/stream1");
  EXPECT_EQ(redact_url("rtsp://u:p@h/a@b"), "rtsp://***@h/a@b");
  EXPECT_EQ(redact_url("rtsp://host/x"), "rtsp://host/x");
  EXPECT_EQ(redact_url("test:ball"), "test:ball");
  // mask_password keeps the user name (a suggested config an operator completes), hides only the secret.
  EXPECT_EQ(mask_password("rtsp://user:secret@10.0.0.5:554/stream1"), "rtsp://user:***@10.0.0.5:554/stream1");
  EXPECT_EQ(mask_password("rtsp://u:p@h/a@b"), "rtsp://u:***@h/a@b");
  EXPECT_EQ(mask_password("rtsp://user@host/x"), "rtsp://user@host/x") << "a user name alone is not a secret";
  EXPECT_EQ(mask_password("rtsp://host:554/x"), "rtsp://host:554/x") << "a port is not a password";
}

TEST(Url, StripsUserinfoForClientsThatTakeCredentialsApart) {
  EXPECT_EQ(strip_userinfo("http://admin:s3cr@t@10.0.0.7:8080/video.mjpg?x=1"), "http://10.0.0.7:8080/video.mjpg?x=1");
  EXPECT_EQ(strip_userinfo("http://user@cam/mjpg"), "http://cam/mjpg");
  EXPECT_EQ(strip_userinfo("http://cam/a@b"), "http://cam/a@b") << "an @ in the path is not userinfo";
  EXPECT_EQ(strip_userinfo("https://[::1]:8443/x"), "https://[::1]:8443/x");
  const auto c = credentials_of(*parse_url("http://admin:pa:ss@cam/x"));
  EXPECT_EQ(c.user, "admin");
  EXPECT_EQ(c.password, "pa:ss") << "the password is everything after the first colon";
  EXPECT_EQ(credentials_of(*parse_url("http://viewer@cam/x")).user, "viewer");
  EXPECT_EQ(credentials_of(*parse_url("http://viewer@cam/x")).password, "");
}

// Cameras' passwords hold '/', '@', ':' and '#', pasted unescaped: the userinfo runs to the last '@' before
// the host, in parsing and in every redaction alike (issue 19, D7).
TEST(Url, APasswordMayHoldSlashAtColonAndHash) {
  auto u = parse_url("rtsp://admin:1234/5678@cam.local");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->userinfo, "admin:1234/5678");
  EXPECT_EQ(u->host, "cam.local");
  EXPECT_EQ(u->port, 0);
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(redact_url("rtsp://admin:1234/5678@host"), "rtsp://***@host");
  EXPECT_EQ(mask_password("rtsp://admin:1234/5678@host"), "rtsp://admin:***@host");
  EXPECT_EQ(strip_userinfo("rtsp://admin:1234/5678@host"), "rtsp://host");

  const std::string url = "rtsp://admin:p@ss/w:rd#1@10.0.0.5:554/Streaming/Channels/101?transport=tcp";
  u = parse_url(url);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->userinfo, "admin:p@ss/w:rd#1");
  EXPECT_EQ(u->host, "10.0.0.5");
  EXPECT_EQ(u->port, 554);
  EXPECT_EQ(u->path, "/Streaming/Channels/101?transport=tcp");
  EXPECT_EQ(credentials_of(*u).user, "admin");
  EXPECT_EQ(credentials_of(*u).password, "p@ss/w:rd#1");
  EXPECT_EQ(redact_url(url), "rtsp://***@10.0.0.5:554/Streaming/Channels/101?transport=tcp");
  EXPECT_EQ(mask_password(url), "rtsp://admin:***@10.0.0.5:554/Streaming/Channels/101?transport=tcp");
  EXPECT_EQ(strip_userinfo(url), "rtsp://10.0.0.5:554/Streaming/Channels/101?transport=tcp");

  u = parse_url("http://viewer:a/b@c@[fe80::1]:8080/video.mjpg");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->userinfo, "viewer:a/b@c");
  EXPECT_EQ(u->host, "[fe80::1]");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(redact_url("http://viewer:a/b@c@[fe80::1]:8080/video.mjpg"), "http://***@[fe80::1]:8080/video.mjpg");
}

TEST(Url, AnAtInThePathOfAUrlWithoutAPasswordIsNotUserinfo) {
  auto u = parse_url("rtsp://10.0.0.1/cam@night");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->userinfo, "");
  EXPECT_EQ(u->host, "10.0.0.1");
  EXPECT_EQ(u->path, "/cam@night");
  u = parse_url("rtsp://u:p@h/a@b");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->userinfo, "u:p") << "the host a path follows ends the userinfo";
  EXPECT_EQ(u->host, "h");
  EXPECT_EQ(u->path, "/a@b");
  EXPECT_EQ(redact_url("http://cam/x?mail=a@b.c"), "http://cam/x?mail=a@b.c");
}

TEST(Url, KnowsEachSchemesKindAndDefaultPort) {
  auto at = [](const char* text) {
    auto u = parse_url(text);
    EXPECT_TRUE(u) << text;
    return u.value_or(ParsedUrl{});
  };
  EXPECT_TRUE(is_rtsp_url(at("rtsp://cam/x")));
  EXPECT_TRUE(is_rtsp_url(at("RTSPS://cam/x")));
  EXPECT_FALSE(is_rtsp_url(at("http://cam/x")));
  EXPECT_TRUE(is_http_url(at("https://cam/x")));
  EXPECT_FALSE(is_http_url(at("file:///tmp/x.mp4")));
  EXPECT_FALSE(is_http_url(at("test:ball")));

  EXPECT_EQ(port_or_default(at("rtsp://cam/x")), 554);
  EXPECT_EQ(port_or_default(at("rtsps://cam/x")), 322);
  EXPECT_EQ(port_or_default(at("http://cam/x")), 80);
  EXPECT_EQ(port_or_default(at("https://cam/x")), 443);
  EXPECT_EQ(port_or_default(at("rtsp://u:p@cam:8554/x")), 8554);
  EXPECT_EQ(port_or_default(at("file:///tmp/x.mp4")), 0);

  EXPECT_EQ(bare_host(at("rtsp://[fe80::1]:554/x")), "fe80::1");
  EXPECT_EQ(bare_host(at("rtsp://cam.local/x")), "cam.local");
}

}  // namespace
}  // namespace matthan
