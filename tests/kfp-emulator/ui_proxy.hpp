#pragma once
// `kfp-emulator --ui-proxy URL`: the KFP UI server (frontend/server, the process behind the
// ml-pipeline-ui Service) in front of the API server at URL, as far as an API client meets it: its
// own healthz, the proxy to /apis/v1beta1 and /apis/v2beta1 (also under /pipeline), the 504 when
// the API server cannot be reached, the blocked internal endpoints, Express's own answers and
// headers. FIDELITY.md section 11 cites app.ts, handlers/healthz.ts and the http-proxy packages of
// 2.3.0 and 2.17.0.

#include "options.hpp"
#include "server.hpp"

#include <boost/asio/io_context.hpp>

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kfp::emulator {

class UiProxy : public Handler {
 public:
  // `options.ui_proxy` is the API server's "http://HOST:PORT"; throws util::Error (usage) otherwise.
  UiProxy(boost::asio::io_context& io, const Options& options);

  [[nodiscard]] std::chrono::milliseconds request_latency(const Request& request) const override;
  void handle(Request request, Respond respond) override;

  // The API server's answer, or the connection error (Node's code: ECONNREFUSED, ECONNRESET, ...).
  struct Upstream {
    int status = 0;
    std::string reason;
    std::vector<std::pair<std::string, std::string>> headers;  // as received
    std::string body;
    std::string error;
  };

 private:
  // handlers/healthz.ts keeps one stats object per route: fields the API server last reported stay
  // when it stops answering.
  struct HealthzStats {
    std::vector<std::pair<std::string, std::optional<std::string>>> fields;  // JSON values, in order
    void set(const std::string& key, std::optional<std::string> json_value);
  };

  Reply healthz(HealthzStats& stats, const Upstream& upstream);
  Reply proxied(const Request& request, const Upstream& upstream) const;
  Reply express_reply(const Request& request, int status, std::string content_type, std::string body,
                      bool etag) const;

  boost::asio::io_context& io_;
  Options options_;
  std::string host_, port_;
  std::mutex mutex_;
  HealthzStats v1_stats_, v2_stats_;
};

}  // namespace kfp::emulator
