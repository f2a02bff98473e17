// Unit tests for review's building blocks: passwords, tokens, sessions, the login limiter, strict
// parsing of request values, safe path resolution, the tar bundle and the event feed.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "api_json.hpp"
#include "http_util.hpp"
#include "matthan/review/auth.hpp"
#include "matthan/review/live.hpp"
#include "matthan/test/paths.hpp"
#include "tar_bundle.hpp"

namespace matthan {
namespace {

using namespace review_detail;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(ReviewAuth, PasswordHashVerifiesOnlyTheRightPassword) {
  auto h = hash_password("correct horse");
  ASSERT_TRUE(h.ok());
  EXPECT_TRUE(looks_like_password_hash(h.value()));
  EXPECT_TRUE(verify_password(h.value(), "correct horse"));
  EXPECT_FALSE(verify_password(h.value(), "correct hors"));
  EXPECT_FALSE(verify_password("not a hash", "correct horse"));
  EXPECT_NE(hash_password("correct horse").value(), h.value()) << "salted";
}

TEST(ReviewAuth, TokensPlainAndSha256) {
  auto set = TokenSet::from({{"a", Role::kOfficer, "plain-token-123456"},
                             {"b", Role::kViewer, "sha256:" + sha256_hex("hashed-token-123456")}});
  ASSERT_TRUE(set.ok());
  auto a = set->find("plain-token-123456");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "a");
  EXPECT_EQ(a->role, Role::kOfficer);
  EXPECT_TRUE(a->via_token);
  auto b = set->find("hashed-token-123456");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->role, Role::kViewer);
  EXPECT_FALSE(set->find("sha256:" + sha256_hex("hashed-token-123456"))) << "the digest itself is not a token";
  EXPECT_FALSE(set->find(""));
  EXPECT_FALSE(TokenSet::from({{"bad", Role::kViewer, "sha256:abc"}}).ok());
}

TEST(ReviewAuth, SessionsExpireAndAreRemoved) {
  SessionStore store(60s, 2);
  const auto t0 = std::chrono::steady_clock::now();
  const std::string id = store.create("u", Role::kViewer, t0);
  EXPECT_EQ(id.size(), 64u);
  auto s = store.find(id, t0 + 59s);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_FALSE(store.find(id, t0 + 61s));
  const std::string a = store.create("a", Role::kViewer, t0);
  store.create("b", Role::kViewer, t0 + 1s);
  store.create("c", Role::kViewer, t0 + 2s);
  EXPECT_FALSE(store.find(a, t0 + 3s)) << "the oldest session goes when the store is full";
  EXPECT_EQ(store.size(), 2u);
}

TEST(ReviewAuth, LimiterLocksOutAfterFailuresAndForgivesOnSuccess) {
  LoginLimiter lim(3, 10s);
  const auto t = std::chrono::steady_clock::now();
  lim.failed("1.2.3.4", t);
  lim.failed("1.2.3.4", t);
  EXPECT_EQ(lim.blocked_for("1.2.3.4", t), 0);
  lim.failed("1.2.3.4", t);
  EXPECT_GT(lim.blocked_for("1.2.3.4", t), 0);
  EXPECT_EQ(lim.blocked_for("5.6.7.8", t), 0) << "per address";
  EXPECT_EQ(lim.blocked_for("1.2.3.4", t + 11s), 0);
  lim.failed("5.6.7.8", t);
  lim.failed("5.6.7.8", t);
  lim.succeeded("5.6.7.8");
  lim.failed("5.6.7.8", t);
  EXPECT_EQ(lim.blocked_for("5.6.7.8", t), 0);
}

TEST(ReviewCameraJson, DetectStreamIsNullOrItsStateAndOnlyAdminsSeeItsReason) {
  CameraStatus c;
  c.id = "gate";
  c.state = "streaming";
  auto j = review_detail::camera_json(c, false, false);
  EXPECT_TRUE(j["detect_stream"].is_null()) << j.dump();
  c.detect_stream = StreamStatus{"backoff", "not found (404)"};
  j = review_detail::camera_json(c, false, false);
  EXPECT_EQ(j["detect_stream"]["state"], "backoff");
  EXPECT_EQ(j["detect_stream"]["online"], false);
  EXPECT_TRUE(j["online"].get<bool>()) << "online is the recording stream's";
  EXPECT_FALSE(j.contains("details"));
  j = review_detail::camera_json(c, false, true);
  EXPECT_EQ(j["details"]["detect_reason"], "not found (404)");
}

TEST(ReviewParse, IdsTimesNumbersCursorsCookies) {
  EXPECT_EQ(check_incident_id("vtest-20261128T123012Z-345a1b2c3d4"), IdCheck::kOk);
  EXPECT_EQ(check_incident_id(".."), IdCheck::kTraversal);
  EXPECT_EQ(check_incident_id("a/b"), IdCheck::kTraversal);
  EXPECT_EQ(check_incident_id("a b"), IdCheck::kMalformed);
  EXPECT_EQ(check_incident_id(std::string(129, 'a')), IdCheck::kMalformed);
  auto t = parse_iso_time("2026-11-28T19:30:12.5+07:00");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(to_ms(t.value()), to_ms(parse_iso_time("2026-11-28T12:30:12.500Z").value()));
  for (const char* bad : {"2026-11-28", "2026-11-28T19:30", "2026-13-01T00:00:00Z", "2026-11-28T19:30:00+7",
                          "2026-11-28T19:30:00Zjunk", "2999-01-01T00:00:00Z", ""})
    EXPECT_FALSE(parse_iso_time(bad).ok()) << bad;
  EXPECT_EQ(parse_int("42", 1, 50).value(), 42);
  EXPECT_FALSE(parse_int("42x", 1, 50).ok());
  EXPECT_FALSE(parse_int("51", 1, 50).ok());
  WallTime w;
  std::string id;
  ASSERT_TRUE(decode_cursor(encode_cursor(t.value(), "cam_1-x"), w, id));
  EXPECT_EQ(id, "cam_1-x");
  EXPECT_EQ(to_ms(w), to_ms(t.value()));
  EXPECT_FALSE(decode_cursor("12_../x", w, id));
  EXPECT_FALSE(decode_cursor("zz", w, id));
  EXPECT_EQ(cookie_value("a=1; matthan_session=abc; b=2", "matthan_session").value(), "abc");
  EXPECT_FALSE(cookie_value("xmatthan_session=abc", "matthan_session"));
}

TEST(ReviewParse, ResolveUnderStaysInsideTheRoot) {
  const fs::path root = test::make_temp_dir("matthan-review-unit");
  fs::create_directories(root / "clips");
  std::ofstream(root / "clips" / "a.mp4") << "x";
  fs::create_directories(root.string() + "-evil");
  fs::create_symlink("/etc", root / "clips" / "link");
  EXPECT_TRUE(resolve_under(root, "clips/a.mp4"));
  EXPECT_TRUE(resolve_under(root.string() + "/", "clips/a.mp4"));
  const std::vector<std::string> bads{"",
                                      "/etc/passwd",
                                      "../x",
                                      "clips/../../etc/passwd",
                                      "clips/link/passwd",
                                      "../" + root.filename().string() + "-evil/x",
                                      "."};
  for (const auto& bad : bads) EXPECT_FALSE(resolve_under(root, bad)) << bad;
  fs::remove_all(root);
  fs::remove_all(root.string() + "-evil");
}

TEST(ReviewTar, BundleReadsBackWithTar) {
  const fs::path dir = test::make_temp_dir("matthan-review-tar");
  std::string big(70000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  std::ofstream(dir / "big.bin", std::ios::binary) << big;
  TarBundle b;
  b.add_file("x/big.bin", dir / "big.bin", big.size());
  b.add_text("x/note.txt", "xin chào\n");
  EXPECT_EQ(b.size() % 512, 0u);
  std::string all, chunk;
  // Odd chunk sizes cross every part boundary.
  for (std::uint64_t off = 0; off < b.size(); off += chunk.size()) {
    ASSERT_TRUE(b.read(off, 999, chunk));
    ASSERT_FALSE(chunk.empty());
    all += chunk;
  }
  ASSERT_EQ(all.size(), b.size());
  std::ofstream(dir / "out.tar", std::ios::binary) << all;
  fs::create_directories(dir / "out");
  ASSERT_EQ(std::system(("tar -xf " + (dir / "out.tar").string() + " -C " + (dir / "out").string()).c_str()), 0);
  EXPECT_EQ(::matthan::test::read_file(dir / "out" / "x" / "big.bin"), big);
  EXPECT_EQ(::matthan::test::read_file(dir / "out" / "x" / "note.txt"), "xin chào\n");
  fs::remove_all(dir);
}

// Issue 19 D5: names were cut at 99 bytes. Long ones go into ustar's prefix field, or a pax header when no
// '/' splits them into 155 + 100; GNU tar lists and extracts every member under its full name.
TEST(ReviewTar, LongNamesReadBackWhole) {
  const fs::path dir = test::make_temp_dir("matthan-review-tar-long");
  const std::string camera(64, 'c');
  const std::string id = camera + "-20261208T014114Z-12300abcdef";
  const std::string no_slash(180, 'n');                                                     // no split possible: pax
  const std::string deep = std::string(150, 'd') + "/" + std::string(120, 'e') + "/f.txt";  // rest > 100: pax
  const std::vector<std::string> names{
      id + "/clip.mp4", id + "/manifest.json", std::string(100, 'x'), no_slash, deep, "x/" + std::string(100, 'y')};
  TarBundle b;
  for (const auto& n : names) b.add_text(n, "content of " + n.substr(0, 8));
  std::string all, chunk;
  for (std::uint64_t off = 0; off < b.size(); off += chunk.size()) {
    ASSERT_TRUE(b.read(off, 4096, chunk));
    ASSERT_FALSE(chunk.empty());
    all += chunk;
  }
  std::ofstream(dir / "out.tar", std::ios::binary) << all;
  const std::string list = (dir / "list.txt").string();
  ASSERT_EQ(std::system(("tar -tf " + (dir / "out.tar").string() + " > " + list).c_str()), 0);
  std::vector<std::string> listed;
  std::istringstream in(::matthan::test::read_file(list));
  for (std::string line; std::getline(in, line);) listed.push_back(line);
  EXPECT_EQ(listed, names);
  fs::create_directories(dir / "out");
  ASSERT_EQ(std::system(("tar -xf " + (dir / "out.tar").string() + " -C " + (dir / "out").string()).c_str()), 0);
  EXPECT_EQ(::matthan::test::read_file(dir / "out" / id / "clip.mp4"), "content of " + id.substr(0, 8));
  EXPECT_EQ(::matthan::test::read_file(dir / "out" / deep), "content of " + deep.substr(0, 8));
  fs::remove_all(dir);
}

// Issue 19 D12: a generated member (the manifest) is made from the hashes of the bytes streamed, and refuses
// to be made when a file member was not streamed whole and in order.
TEST(ReviewTar, GeneratedMemberGetsTheHashesOfTheBytesSent) {
  const fs::path dir = test::make_temp_dir("matthan-review-tar-hash");
  const std::string data(100000, 'q');
  std::ofstream(dir / "f.bin", std::ios::binary) << data;
  const auto make_bundle = [&] {
    auto b = std::make_unique<TarBundle>();
    b->add_file("x/f.bin", dir / "f.bin", data.size());
    b->add_generated("x/sums.txt", 64, [](const TarBundle::Hashes& sent) {
      auto it = sent.find("x/f.bin");
      return it == sent.end() ? std::string() : it->second;
    });
    return b;
  };
  auto b = make_bundle();
  std::string all, chunk;
  for (std::uint64_t off = 0; off < b->size(); off += chunk.size()) {
    ASSERT_TRUE(b->read(off, 7777, chunk));
    all += chunk;
  }
  EXPECT_NE(all.find(sha256_hex(data)), std::string::npos);
  // Skipping part of the file leaves its hash unknown: the generated member is not made, the read fails.
  auto skipped = make_bundle();
  ASSERT_TRUE(skipped->read(0, 512, chunk));  // the header only
  ASSERT_TRUE(skipped->read(512 + 5000, 1000, chunk));
  EXPECT_FALSE(skipped->read(512 + data.size() + 352, 512 + 64, chunk));
  fs::remove_all(dir);
}

TEST(ReviewFeed, WaitersGetEventsAfterTheirSeqAndSeeGaps) {
  EventFeed feed(3);
  std::thread pusher([&] {
    std::this_thread::sleep_for(50ms);
    feed.push({1, "incident.a.start", "{}"});
  });
  auto got = feed.wait_after(0, 5s);
  pusher.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].seq, 1u);
  for (std::uint64_t s = 2; s <= 6; ++s) feed.push({s, "t", "{}"});
  bool gap = false;
  got = feed.wait_after(1, 0ms, &gap);
  EXPECT_TRUE(gap) << "seq 2 and 3 left the 3-deep buffer";
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got.front().seq, 4u);
  got = feed.wait_after(4, 0ms, &gap);
  EXPECT_FALSE(gap);
  EXPECT_EQ(got.size(), 2u);
  feed.close();
  EXPECT_TRUE(feed.wait_after(6, 10s).empty()) << "close wakes waiters at once";
}

}  // namespace
}  // namespace matthan
