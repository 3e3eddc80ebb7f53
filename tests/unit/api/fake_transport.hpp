#pragma once
// A scripted transport: answers requests from a queue and records what was sent.

#include "api/connection.hpp"
#include "api/kfp_api.hpp"
#include "http/retry.hpp"
#include "http/transport.hpp"
#include "util/log.hpp"

#include <deque>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kfp::test {

class FakeTransport final : public http::Transport {
 public:
  using Handler = std::function<util::Result<http::Response>(const http::Request&)>;
  util::Result<http::Response> send(const http::Request& request,
                                    const http::ProgressCallback& /*progress*/) override {
    sent.push_back(request);
    if (handlers.empty()) return util::fail(util::ErrorKind::internal, "unexpected request " + request.url);
    auto handler = handlers.front();
    handlers.pop_front();
    return handler(request);
  }
  void answer(int status, std::string body, std::string content_type = "application/json") {
    handlers.push_back([=](const http::Request&) -> util::Result<http::Response> {
      http::Response response;
      response.status = status;
      response.body = body;
      response.headers.set("Content-Type", content_type);
      return response;
    });
  }
  void fail_network() {
    handlers.push_back([](const http::Request&) -> util::Result<http::Response> {
      return util::fail(util::ErrorKind::network, "connection reset by peer");
    });
  }
  std::deque<Handler> handlers;
  std::vector<http::Request> sent;
};

// Hands out transports that all send through one transport owned by the test (a FakeTransport), and
// records the options each was made with: the session's composition root is tested through its factory.
class ForwardingFactory {
 public:
  explicit ForwardingFactory(http::Transport& target) : target_(target) {}
  [[nodiscard]] http::TransportFactory factory() {
    return [this](http::TransportOptions options) -> std::unique_ptr<http::Transport> {
      made.push_back(std::move(options));
      return std::make_unique<Forward>(target_);
    };
  }
  std::vector<http::TransportOptions> made;

 private:
  class Forward final : public http::Transport {
   public:
    explicit Forward(http::Transport& target) : target_(target) {}
    util::Result<http::Response> send(const http::Request& request,
                                      const http::ProgressCallback& progress) override {
      return target_.send(request, progress);
    }

   private:
    http::Transport& target_;
  };
  http::Transport& target_;
};

class FakeClock final : public http::Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return now_; }
  http::SleepOutcome sleep_for(util::Milliseconds duration) override {
    slept.push_back(duration);
    now_ += duration;
    return http::SleepOutcome::completed;
  }
  std::vector<util::Milliseconds> slept;

 private:
  TimePoint now_{};
};

class FixedTokens final : public api::TokenProvider {
 public:
  util::Result<std::optional<std::string>> token() override {
    ++reads;
    if (tokens.empty()) return std::optional<std::string>();
    auto token = tokens.front();
    if (tokens.size() > 1) tokens.erase(tokens.begin());
    return std::optional<std::string>(token);
  }
  std::vector<std::string> tokens;
  int reads = 0;
};

// A Connection over the fakes above, with what a test needs to read back.
struct FakeConnection {
  explicit FakeConnection(api::ConnectionOptions options)
      : connection(transport, tokens, clock, log, std::move(options)) {}

  [[nodiscard]] const http::Request& sent(std::size_t index) const {
    if (index >= transport.sent.size()) throw std::out_of_range("no such request was sent");
    return transport.sent[index];
  }

  FakeTransport transport;
  FixedTokens tokens;
  FakeClock clock;
  util::MemoryLog log;
  api::Connection connection;
};

// Options with a base URL and a small retry budget.
inline api::ConnectionOptions connection_options(std::string base_url, int max_retries) {
  api::ConnectionOptions options;
  options.base_url = std::move(base_url);
  options.retry.max_retries = max_retries;
  return options;
}

// A server as healthz would describe it: `api` "v2beta1" or "v1beta1", a release, multi-user.
inline api::ServerInfo server_info(std::string api, std::string version, bool multi_user = true) {
  api::ServerInfo info;
  info.api = std::move(api);
  info.version = std::move(version);
  info.multi_user = multi_user;
  info.supports_tags = info.api == "v2beta1" && api::version_at_least(info.version, 2, 17);
  return info;
}

}  // namespace kfp::test
