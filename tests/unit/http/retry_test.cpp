#include "http/retry.hpp"

#include "util/interrupt.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <deque>
#include <vector>

using namespace kfp;
using namespace std::chrono_literals;
using http::Response;
using util::Milliseconds;

namespace {

class FakeClock final : public http::Clock {
 public:
  [[nodiscard]] TimePoint now() const override { return now_; }
  http::SleepOutcome sleep_for(Milliseconds duration) override {
    sleeps.push_back(duration);
    now_ += duration;
    return interrupt_on_sleep ? http::SleepOutcome::interrupted : http::SleepOutcome::completed;
  }
  std::vector<Milliseconds> sleeps;
  bool interrupt_on_sleep = false;

 private:
  TimePoint now_{};
};

Response status(int code) {
  Response response;
  response.status = code;
  return response;
}

// An operation that plays back a script of results and counts calls.
struct Script {
  std::deque<util::Result<Response>> results;
  int calls = 0;
  util::Result<Response> operator()() {
    ++calls;
    auto next = results.front();
    if (results.size() > 1) results.pop_front();
    return next;
  }
};

util::Result<Response> network_failure() {
  return util::fail(util::ErrorKind::network, "connection reset");
}

}  // namespace

TEST_CASE("backoff ceilings grow exponentially up to max_delay") {
  http::RetryPolicy policy;
  std::mt19937_64 random(7);
  http::Backoff backoff(policy, random);
  CHECK(backoff.ceiling(1) == 200ms);
  CHECK(backoff.ceiling(2) == 400ms);
  CHECK(backoff.ceiling(3) == 800ms);
  CHECK(backoff.ceiling(6) == 6400ms);
  CHECK(backoff.ceiling(7) == 10'000ms);
  CHECK(backoff.ceiling(500) == 10'000ms);
}

TEST_CASE("equal jitter keeps every delay within [ceiling/2, ceiling] and varies") {
  http::RetryPolicy policy;
  std::mt19937_64 random(42);
  http::Backoff backoff(policy, random);
  for (int retry = 1; retry <= 8; ++retry) {
    std::vector<Milliseconds> seen;
    for (int i = 0; i < 200; ++i) {
      const auto delay = backoff.delay(retry);
      CHECK(delay >= backoff.ceiling(retry) / 2);
      CHECK(delay <= backoff.ceiling(retry));
      seen.push_back(delay);
    }
    CHECK(std::adjacent_find(seen.begin(), seen.end(), std::not_equal_to<>()) != seen.end());
  }
}

TEST_CASE("which failures and statuses are retried") {
  CHECK(http::is_retryable(util::fail(util::ErrorKind::network, "x")));
  CHECK_FALSE(http::is_retryable(util::fail(util::ErrorKind::tls, "x")));
  CHECK_FALSE(http::is_retryable(util::fail(util::ErrorKind::usage, "x")));
  CHECK_FALSE(http::is_retryable(util::fail(util::ErrorKind::unauthenticated, "x")));
  for (int code : {429, 502, 503, 504}) CHECK(http::is_retryable_status(code));
  for (int code : {200, 201, 400, 401, 403, 404, 409, 500, 501}) CHECK_FALSE(http::is_retryable_status(code));
}

TEST_CASE("Retry-After is read on 429 and 503 only, in seconds, capped") {
  auto with = [](int code, std::string value) {
    Response response = status(code);
    response.headers.set("retry-after", std::move(value));
    return response;
  };
  CHECK(http::retry_after(with(429, "3"), 60s) == Milliseconds{3000});
  CHECK(http::retry_after(with(503, " 0 "), 60s) == Milliseconds{0});
  CHECK(http::retry_after(with(503, "3600"), 60s) == Milliseconds{60'000});
  CHECK(http::retry_after(with(503, "99999999999999999"), 60s) == Milliseconds{60'000});
  CHECK_FALSE(http::retry_after(with(502, "3"), 60s));
  CHECK_FALSE(http::retry_after(with(503, "Wed, 21 Oct 2015 07:28:00 GMT"), 60s));
  CHECK_FALSE(http::retry_after(with(503, "-1"), 60s));
  CHECK_FALSE(http::retry_after(status(503), 60s));
}

TEST_CASE("retry returns at once on success or a final status") {
  FakeClock clock;
  std::mt19937_64 random(1);
  for (int code : {200, 404, 500}) {
    Script script{{status(code)}};
    auto result = http::retry({}, clock, random, std::ref(script));
    REQUIRE(result.has_value());
    CHECK(result->status == code);
    CHECK(script.calls == 1);
  }
  Script tls{{util::fail(util::ErrorKind::tls, "bad cert")}};
  auto result = http::retry({}, clock, random, std::ref(tls));
  CHECK(result.has_error());
  CHECK(tls.calls == 1);
  CHECK(clock.sleeps.empty());
}

TEST_CASE("retry spends the budget of max_retries and returns the last outcome") {
  FakeClock clock;
  std::mt19937_64 random(3);
  http::RetryPolicy policy;
  policy.max_retries = 3;
  Script script{{status(503)}};
  std::vector<http::RetryEvent> events;
  http::RetryHooks hooks;
  hooks.on_retry = [&](const http::RetryEvent& event) { events.push_back(event); };
  auto result = http::retry(policy, clock, random, std::ref(script), hooks);
  REQUIRE(result.has_value());
  CHECK(result->status == 503);
  CHECK(script.calls == 4);
  REQUIRE(clock.sleeps.size() == 3);
  REQUIRE(events.size() == 3);
  CHECK(events[0].reason == "HTTP 503");
  CHECK(events[2].retry == 3);
  http::Backoff reference(policy, random);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(events[i].delay == clock.sleeps[i]);
    CHECK(clock.sleeps[i] >= reference.ceiling(static_cast<int>(i) + 1) / 2);
    CHECK(clock.sleeps[i] <= reference.ceiling(static_cast<int>(i) + 1));
  }
}

TEST_CASE("retry recovers after network failures") {
  FakeClock clock;
  std::mt19937_64 random(5);
  Script script{{network_failure(), status(502), status(201)}};
  auto result = http::retry({}, clock, random, std::ref(script));
  REQUIRE(result.has_value());
  CHECK(result->status == 201);
  CHECK(script.calls == 3);
  CHECK(clock.sleeps.size() == 2);
}

TEST_CASE("a failure that outlasts the retries is returned as is") {
  FakeClock clock;
  std::mt19937_64 random(5);
  http::RetryPolicy policy;
  policy.max_retries = 2;
  Script script{{network_failure()}};
  auto result = http::retry(policy, clock, random, std::ref(script));
  REQUIRE(result.has_error());
  CHECK(result.error().kind == util::ErrorKind::network);
  CHECK(script.calls == 3);
}

TEST_CASE("retry honours Retry-After instead of the backoff") {
  FakeClock clock;
  std::mt19937_64 random(5);
  Response busy = status(429);
  busy.headers.set("Retry-After", "7");
  Script script{{busy, status(200)}};
  auto result = http::retry({}, clock, random, std::ref(script));
  REQUIRE(result.has_value());
  REQUIRE(clock.sleeps.size() == 1);
  CHECK(clock.sleeps[0] == 7000ms);
}

TEST_CASE("give_up_after stops before a wait that would overrun it") {
  FakeClock clock;
  std::mt19937_64 random(5);
  http::RetryPolicy policy;
  policy.max_retries = 10;
  policy.base_delay = 1000ms;
  policy.multiplier = 1;
  policy.give_up_after = 3500ms;
  Script script{{status(504)}};
  auto result = http::retry(policy, clock, random, std::ref(script));
  REQUIRE(result.has_value());
  CHECK(result->status == 504);
  Milliseconds slept{0};
  for (auto delay : clock.sleeps) slept += delay;
  CHECK(slept <= 3500ms);
  CHECK(script.calls >= 4);
  CHECK(script.calls <= 8);
}

TEST_CASE("before_retry may stop the loop with its own result") {
  FakeClock clock;
  std::mt19937_64 random(5);
  Script script{{network_failure(), status(201)}};
  std::vector<int> lookups;
  http::RetryHooks hooks;
  hooks.before_retry = [&](int retry) -> std::optional<util::Result<Response>> {
    lookups.push_back(retry);
    return status(200);
  };
  auto result = http::retry({}, clock, random, std::ref(script), hooks);
  REQUIRE(result.has_value());
  CHECK(result->status == 200);
  CHECK(script.calls == 1);
  CHECK(lookups == std::vector<int>{1});

  Script again{{network_failure(), status(201)}};
  hooks.before_retry = [](int) -> std::optional<util::Result<Response>> { return std::nullopt; };
  auto resent = http::retry({}, clock, random, std::ref(again), hooks);
  REQUIRE(resent.has_value());
  CHECK(resent->status == 201);
  CHECK(again.calls == 2);
}

TEST_CASE("an interrupted wait ends the loop with kind interrupted") {
  FakeClock clock;
  clock.interrupt_on_sleep = true;
  std::mt19937_64 random(5);
  Script script{{status(503), status(200)}};
  auto result = http::retry({}, clock, random, std::ref(script));
  REQUIRE(result.has_error());
  CHECK(result.error().kind == util::ErrorKind::interrupted);
  CHECK(script.calls == 1);
}

TEST_CASE("SystemClock::sleep_for returns early when interrupted") {
  std::atomic<bool> flag{true};
  http::SystemClock clock([&] { return flag.load(); });
  CHECK(clock.sleep_for(Milliseconds{60'000}) == http::SleepOutcome::interrupted);
  flag = false;
  CHECK(clock.sleep_for(Milliseconds{1}) == http::SleepOutcome::completed);
}

TEST_CASE("the default SystemClock listens to the SIGINT/SIGTERM flag") {
  http::SystemClock clock;
  util::set_interrupted(true);
  const auto outcome = clock.sleep_for(Milliseconds{60'000});
  util::set_interrupted(false);
  CHECK(outcome == http::SleepOutcome::interrupted);
}

TEST_CASE("a request abandoned on SIGINT/SIGTERM is not retried") {
  FakeClock clock;
  std::mt19937_64 random(5);
  Script script{
      {util::fail(util::ErrorKind::interrupted, "interrupted: the request in progress was abandoned"),
       status(200)}};
  auto result = http::retry({}, clock, random, std::ref(script));
  REQUIRE(result.has_error());
  CHECK(result.error().kind == util::ErrorKind::interrupted);
  CHECK(script.calls == 1);
  CHECK(clock.sleeps.empty());
  CHECK_FALSE(http::is_retryable(util::fail(util::ErrorKind::interrupted, "x")));
}
