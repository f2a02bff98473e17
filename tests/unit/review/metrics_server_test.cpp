// /metrics over real loopback HTTP: the review server's route (token or public) and MetricsServer, both
// fed by a fake MetricsSource.
#include "matthan/review/metrics_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "matthan/review/server.hpp"
#include "matthan/storage/index.hpp"
#include "matthan/test/paths.hpp"
#include "matthan/test/prometheus_text.hpp"

namespace matthan {
namespace {

class FakeMetrics : public MetricsSource {
 public:
  MetricsSnapshot metrics() const override {
    MetricsSnapshot s;
    s.node.node = "unit";
    CameraMetrics c;
    c.id = "cam";
    c.name = "cam";
    c.state = "streaming";
    c.frames_analysed = ++calls_;
    s.cameras.push_back(c);
    return s;
  }

 private:
  mutable std::uint64_t calls_ = 0;
};

constexpr const char* kToken = "unit-test-token-0123456789";

struct ReviewFixture {
  std::filesystem::path dir = test::make_temp_dir("matthan-metrics-unit");
  std::unique_ptr<Index> index;
  std::unique_ptr<ReviewServer> server;
  FakeMetrics source;

  explicit ReviewFixture(bool metrics_public) {
    auto ix = Index::open(dir / "index.db");
    if (!ix.ok()) return;
    index = std::move(ix.value());
    ReviewSettings s;
    s.enabled = true;
    s.listen = "127.0.0.1:0";
    s.api_tokens.push_back(ApiToken{"prom", Role::kViewer, kToken});
    s.metrics_public = metrics_public;
    ReviewDeps deps;
    deps.index = index.get();
    deps.storage_root = dir;
    deps.metrics = &source;
    auto srv = ReviewServer::start(s, std::move(deps));
    if (srv.ok()) server = std::move(srv.value());
  }
  ~ReviewFixture() {
    if (server) server->stop();
    std::filesystem::remove_all(dir);
  }
};

TEST(MetricsHttp, ReviewRouteNeedsATokenByDefault) {
  ReviewFixture f(false);
  ASSERT_TRUE(f.server);
  httplib::Client c("127.0.0.1", f.server->port());
  auto anonymous = c.Get("/metrics");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto ok = c.Get("/metrics", {{"Authorization", std::string("Bearer ") + kToken}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->get_header_value("Content-Type"), kPrometheusContentType);
  const auto t = test::parse_prometheus_text(ok->body);
  EXPECT_TRUE(t.errors.empty()) << ::testing::PrintToString(t.errors);
  EXPECT_EQ(t.value("matthan_camera_up", {{"camera", "cam"}}), 1);
}

TEST(MetricsHttp, ReviewRouteCanBePublic) {
  ReviewFixture f(true);
  ASSERT_TRUE(f.server);
  httplib::Client c("127.0.0.1", f.server->port());
  auto r = c.Get("/metrics");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  auto api = c.Get("/api/incidents");  // the rest of the API still needs credentials
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 401);
}

TEST(MetricsHttp, OwnListenerServesEveryScrapeFresh) {
  FakeMetrics source;
  auto srv = MetricsServer::start("127.0.0.1:0", source);
  ASSERT_TRUE(srv.ok()) << srv.error().message;
  httplib::Client c("127.0.0.1", (*srv)->port());
  auto a = c.Get("/metrics");
  auto b = c.Get("/metrics");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->status, 200);
  const auto ta = test::parse_prometheus_text(a->body);
  const auto tb = test::parse_prometheus_text(b->body);
  EXPECT_LT(*ta.value("matthan_camera_frames_analysed_total"), *tb.value("matthan_camera_frames_analysed_total"));
  auto other = c.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  (*srv)->stop();
  // Stopping at once after start (before the listen loop ran) must not hang.
  auto quick = MetricsServer::start("127.0.0.1:0", source);
  ASSERT_TRUE(quick.ok());
  (*quick)->stop();
}

}  // namespace
}  // namespace matthan
