#include "http/retry.hpp"

#include "util/interrupt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace kfp::http {

SystemClock::SystemClock() : interrupted_([] { return util::interrupted(); }) {}

SystemClock::SystemClock(std::function<bool()> interrupted) : interrupted_(std::move(interrupted)) {}

Clock::TimePoint SystemClock::now() const {
  return std::chrono::steady_clock::now();
}

bool SystemClock::interrupted() const {
  return interrupted_ && interrupted_();
}

SleepOutcome SystemClock::sleep_for(util::Milliseconds duration) {
  const auto end = now() + duration;
  for (;;) {
    if (interrupted()) return SleepOutcome::interrupted;
    const auto left = std::chrono::duration_cast<util::Milliseconds>(end - now());
    if (left <= util::Milliseconds{0}) return SleepOutcome::completed;
    std::this_thread::sleep_for(std::min(left, kInterruptPoll));
  }
}

util::Milliseconds Backoff::ceiling(int retry) const {
  const double base = static_cast<double>(policy_.base_delay.count());
  const double cap = static_cast<double>(policy_.max_delay.count());
  // pow may overflow to inf for large retry counts; min() with the cap absorbs it.
  const double grown = base * std::pow(std::max(policy_.multiplier, 1.0), std::max(retry - 1, 0));
  const double bounded = std::isfinite(grown) ? std::min(grown, cap) : cap;
  return util::Milliseconds{static_cast<util::Milliseconds::rep>(bounded)};
}

util::Milliseconds Backoff::delay(int retry) {
  const auto top = ceiling(retry).count();
  const auto half = top / 2;
  std::uniform_int_distribution<util::Milliseconds::rep> jitter(0, top - half);
  return util::Milliseconds{half + jitter(random_)};
}

bool is_retryable(const util::Failure& failure) {
  return failure.kind == util::ErrorKind::network;
}

bool is_retryable_status(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

std::optional<util::Milliseconds> retry_after(const Response& response, util::Milliseconds cap) {
  if (response.status != 429 && response.status != 503) return std::nullopt;
  const auto value = response.headers.get("Retry-After");
  if (!value) return std::nullopt;
  std::string_view text = *value;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  long long seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc{} || end != text.data() + text.size() || seconds < 0) return std::nullopt;
  if (seconds > cap.count() / 1000) return cap;
  return std::min(util::Milliseconds{seconds * 1000}, cap);
}

util::Result<Response> retry(const RetryPolicy& policy, Clock& clock, std::mt19937_64& random,
                             const Operation& operation, const RetryHooks& hooks) {
  Backoff backoff(policy, random);
  const auto start = clock.now();
  util::Result<Response> result = operation();
  for (int attempt = 1; attempt <= policy.max_retries; ++attempt) {
    std::optional<util::Milliseconds> asked;
    std::string reason;
    if (result.has_value()) {
      if (!is_retryable_status(result->status)) return result;
      asked = retry_after(*result, policy.max_retry_after);
      reason = fmt::format("HTTP {}", result->status);
    } else {
      if (!is_retryable(result.error())) return result;
      reason = result.error().message;
    }
    const util::Milliseconds delay = asked ? *asked : backoff.delay(attempt);
    if (policy.give_up_after) {
      const auto elapsed = std::chrono::duration_cast<util::Milliseconds>(clock.now() - start);
      if (elapsed + delay > *policy.give_up_after) return result;
    }
    if (hooks.on_retry) hooks.on_retry(RetryEvent{attempt, policy.max_retries, delay, reason});
    if (clock.sleep_for(delay) == SleepOutcome::interrupted) {
      return util::fail(util::ErrorKind::interrupted,
                        fmt::format("interrupted while waiting to retry after: {}", reason));
    }
    if (hooks.before_retry) {
      if (auto settled = hooks.before_retry(attempt)) return std::move(*settled);
    }
    result = operation();
  }
  return result;
}

}  // namespace kfp::http
