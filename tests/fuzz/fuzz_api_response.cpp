// libFuzzer target: arbitrary bytes as the body of every KFP API response, through the response
// classification (api::classify_response) and the typed v2beta1/v1beta1 decoding (api::make_api).
// Any outcome is fine except a crash, a sanitizer report or an exception escaping the API.

#include "api/connection.hpp"
#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "package/package.hpp"
#include "util/log.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace {

using namespace kfp;

constexpr std::array<int, 10> kStatuses{200, 200, 200, 400, 401, 403, 404, 409, 500, 503};

// Answers every request with the same status, content type and body.
class ReplayTransport final : public http::Transport {
 public:
  ReplayTransport(int status, std::string content_type, std::string body)
      : status_(status), content_type_(std::move(content_type)), body_(std::move(body)) {}
  util::Result<http::Response> send(const http::Request& /*request*/,
                                    const http::ProgressCallback& /*progress*/) override {
    http::Response response;
    response.status = status_;
    response.headers.set("Content-Type", content_type_);
    response.body = body_;
    return response;
  }

 private:
  int status_;
  std::string content_type_;
  std::string body_;
};

class NoWaitClock final : public http::Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return now_; }
  http::SleepOutcome sleep_for(util::Milliseconds duration) override {
    now_ += duration;
    return http::SleepOutcome::completed;
  }

 private:
  TimePoint now_{};
};

class NoTokens final : public api::TokenProvider {
 public:
  util::Result<std::optional<std::string>> token() override {
    return std::optional<std::string>("fuzz-token");
  }
};

void exercise(api::KfpApi& kfp, unsigned selector) {
  switch (selector % 10) {
    case 0: (void)kfp.find_pipeline("hello", "team-a"); break;
    case 1: (void)kfp.create_pipeline("hello", "d", "team-a"); break;
    case 2: (void)kfp.find_version_by_name("p", "v1"); break;
    case 3: (void)kfp.find_version_by_digest("p", "sha256:00"); break;
    case 4: (void)kfp.latest_version("p"); break;
    case 5:
      if (auto version = kfp.get_version("p", "v"); version && version->pipeline_spec.is_object()) {
        (void)package::parse_api_pipeline_spec(version->pipeline_spec, "fuzz");
      }
      break;
    case 6: (void)kfp.find_experiment("ci", "team-a"); break;
    case 7: (void)kfp.create_experiment("ci", "team-a"); break;
    case 8: (void)kfp.find_run("e", "team-a", "kfp-publish-run-key:x"); break;
    default: (void)kfp.get_run("r"); break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const unsigned mode = data[0];
  const unsigned selector = data[1];
  std::string body(reinterpret_cast<const char*>(data) + 2, size - 2);
  const int status = kStatuses[mode % kStatuses.size()];
  const std::string content_type = (mode & 0x10) != 0 ? "text/plain" : "application/json";

  http::Response response;
  response.status = status;
  response.headers.set("Content-Type", content_type);
  response.body = body;
  const auto endpoint = (mode & 0x20) != 0 ? api::Endpoint::upload : api::Endpoint::json_api;
  (void)api::classify_response(response, endpoint, api::Caller{}, "fuzz");

  ReplayTransport transport(status, content_type, std::move(body));
  NoTokens tokens;
  NoWaitClock clock;
  util::NullLog log;
  api::ConnectionOptions options;
  options.base_url = "http://127.0.0.1:1";
  options.retry.max_retries = 0;
  api::Connection connection(transport, tokens, clock, log, options);
  api::ServerInfo server;
  const bool v1 = (mode & 0x40) != 0;
  server.api = v1 ? "v1beta1" : "v2beta1";
  server.version = v1 ? "1.8.5" : "2.17.0";
  server.supports_tags = !v1;
  server.multi_user = (mode & 0x80) != 0;
  auto kfp = api::make_api(connection, server);
  if (kfp) exercise(**kfp, selector);
  return 0;
}
