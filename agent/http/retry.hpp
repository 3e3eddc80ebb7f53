#pragma once
// When and how long to wait before sending a request again. Pure logic over an injected clock and
// random source, so it is unit-tested without sleeping; the transport itself never retries.

#include "http/transport.hpp"
#include "util/duration.hpp"
#include "util/error.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <random>
#include <string>

namespace kfp::http {

enum class SleepOutcome { completed, interrupted };

// Time as the retry loop sees it; tests use a fake that records sleeps instead of waiting.
class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  [[nodiscard]] virtual TimePoint now() const = 0;
  // Waits for `duration`, or less when interrupted (then says so).
  virtual SleepOutcome sleep_for(util::Milliseconds duration) = 0;
};

// The real clock. sleep_for wakes up every kInterruptPoll to ask interrupted() and returns early
// when it says yes. By default it asks util::interrupted() (SIGINT/SIGTERM); tests or callers may
// pass another predicate or override interrupted().
class SystemClock : public Clock {
 public:
  static constexpr util::Milliseconds kInterruptPoll{50};
  SystemClock();
  explicit SystemClock(std::function<bool()> interrupted);
  [[nodiscard]] TimePoint now() const override;
  SleepOutcome sleep_for(util::Milliseconds duration) override;
  [[nodiscard]] virtual bool interrupted() const;

 private:
  std::function<bool()> interrupted_;
};

struct RetryPolicy {
  int max_retries = 5;                         // attempts = 1 + max_retries
  util::Milliseconds base_delay{200};          // ceiling of the first delay
  util::Milliseconds max_delay{10'000};        // no backoff delay exceeds this
  double multiplier = 2.0;                     // ceiling growth per retry
  util::Milliseconds max_retry_after{60'000};  // a server's Retry-After is honoured up to this
  // Give up instead of waiting when the next delay would end past this much time since the start.
  std::optional<util::Milliseconds> give_up_after;
};

// Exponential backoff with "equal jitter": for retry n (1-based) the ceiling is
// min(max_delay, base_delay * multiplier^(n-1)) and the delay is uniform in [ceiling/2, ceiling].
// Half of it is fixed so an overloaded or restarting server always gets a growing pause; the random
// half spreads the retries of many CI jobs that failed together.
class Backoff {
 public:
  Backoff(const RetryPolicy& policy, std::mt19937_64& random) : policy_(policy), random_(random) {}
  [[nodiscard]] util::Milliseconds ceiling(int retry) const;
  [[nodiscard]] util::Milliseconds delay(int retry);

 private:
  const RetryPolicy& policy_;
  std::mt19937_64& random_;
};

// Failures worth another attempt: network trouble (DNS, refused, reset, timeout). TLS, auth and
// usage failures are not: the same request would fail the same way.
[[nodiscard]] bool is_retryable(const util::Failure& failure);
// 429, 502, 503 and 504; every other status is an answer.
[[nodiscard]] bool is_retryable_status(int status);
// The delay a 429 or 503 response asks for in Retry-After (delta-seconds form only), capped at
// `cap`; nullopt for other statuses or an absent/unparsable header.
[[nodiscard]] std::optional<util::Milliseconds> retry_after(const Response& response, util::Milliseconds cap);

// What the retry loop tells its logger before each wait.
struct RetryEvent {
  int retry = 0;  // 1 for the first retry
  int max_retries = 0;
  util::Milliseconds delay{0};
  std::string reason;  // "HTTP 503" or the failure's message
};

struct RetryHooks {
  std::function<void(const RetryEvent&)> on_retry;
  // Called after the wait and before attempt `retry` is sent. Returning a result ends the loop
  // with it (e.g. a look-up found that the previous create took effect); nullopt sends again.
  std::function<std::optional<util::Result<Response>>(int retry)> before_retry;
};

using Operation = std::function<util::Result<Response>()>;

// Runs `operation` until it returns a non-retryable response or failure, or the policy is spent;
// returns the last response or failure. An interrupted wait fails with kind interrupted.
[[nodiscard]] util::Result<Response> retry(const RetryPolicy& policy, Clock& clock, std::mt19937_64& random,
                                           const Operation& operation, const RetryHooks& hooks = {});

}  // namespace kfp::http
