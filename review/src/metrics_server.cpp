// The scrape response, and the stand-alone /metrics listener.
#include "matthan/review/metrics_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "http_util.hpp"
#include "listen_thread.hpp"
#include "metrics_http.hpp"

namespace matthan {

void send_metrics(httplib::Response& res, const MetricsSource& source) {
  res.set_header("Cache-Control", "no-store");
  res.set_content(render_metrics(source.metrics()), kPrometheusContentType);
}

struct MetricsServer::Impl {
  httplib::Server server;
  review_detail::ListenThread loop;
  std::string host;
  int port = 0;
  std::atomic<bool> stopping{false};
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& listen, const MetricsSource& source) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return make_error("metrics.listen must be HOST:PORT");
  auto port = review_detail::parse_int(listen.substr(colon + 1), 0, 65535);
  if (!port.ok()) return make_error("metrics.listen port " + port.error().message);
  auto impl = std::make_unique<Impl>();
  impl->host = listen.substr(0, colon);
  impl->server.new_task_queue = [] { return new httplib::ThreadPool(2); };
  impl->server.set_read_timeout(10, 0);
  impl->server.set_write_timeout(10, 0);
  const MetricsSource* src = &source;
  impl->server.Get("/metrics", [src](const httplib::Request&, httplib::Response& res) { send_metrics(res, *src); });
  impl->server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty())
      res.set_content(res.status == 404 ? "not found: only /metrics is served here\n" : "error\n",
                      "text/plain; charset=utf-8");
  });
  if (port.value() == 0) {
    impl->port = impl->server.bind_to_any_port(impl->host);
  } else {
    impl->port =
        impl->server.bind_to_port(impl->host, static_cast<int>(port.value())) ? static_cast<int>(port.value()) : -1;
  }
  if (impl->port <= 0) return make_error(fmt::format("metrics: cannot listen on {}", listen));
  impl->loop.start(impl->server);
  auto server = std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
  spdlog::info("metrics: Prometheus text on {}", server->url());
  return server;
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  stop();
}

void MetricsServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  impl_->loop.stop(impl_->server);
}

int MetricsServer::port() const {
  return impl_->port;
}

std::string MetricsServer::url() const {
  const std::string host = impl_->host == "0.0.0.0" ? "127.0.0.1" : impl_->host;
  return fmt::format("http://{}:{}/metrics", host, impl_->port);
}

}  // namespace matthan
