#include "auth/claims.hpp"

#include "util/base64.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace kfp::auth {

namespace {

namespace json = boost::json;

// Far beyond any real token, yet near enough that converting to system_clock (nanoseconds, which end
// in 2262) and subtracting from now cannot overflow; larger values are clamped to it.
constexpr std::int64_t kMaxClaimSeconds = 8'000'000'000;

std::chrono::sys_seconds clamped_time(std::int64_t seconds) {
  return std::chrono::sys_seconds{
      std::chrono::seconds{std::clamp(seconds, -kMaxClaimSeconds, kMaxClaimSeconds)}};
}

std::optional<std::chrono::sys_seconds> time_claim(const json::object& payload, std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (!value) return std::nullopt;
  if (value->is_int64()) return clamped_time(value->get_int64());
  if (value->is_uint64()) return clamped_time(kMaxClaimSeconds);
  if (value->is_double() && std::isfinite(value->get_double()) && std::abs(value->get_double()) < 1e15) {
    return clamped_time(static_cast<std::int64_t>(value->get_double()));
  }
  return std::nullopt;
}

std::optional<std::string> string_claim(const json::object& payload, std::string_view name) {
  const auto* value = payload.if_contains(name);
  if (!value || !value->is_string() || value->get_string().empty()) return std::nullopt;
  return std::string(value->get_string());
}

const json::object* object_claim(const json::object* payload, std::string_view name) {
  if (!payload) return nullptr;
  const auto* value = payload->if_contains(name);
  return value && value->is_object() ? &value->get_object() : nullptr;
}

std::string iso8601(std::chrono::sys_seconds time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

// "5 minutes", "1 hour", "3 days": how long ago or ahead, for people.
std::string humanize(std::chrono::seconds span) {
  const auto count = std::abs(span.count());
  auto unit = [](long long n, std::string_view name) {
    return fmt::format("{} {}{}", n, name, n == 1 ? "" : "s");
  };
  if (count < 120) return unit(count, "second");
  if (count < 2LL * 3600) return unit(count / 60, "minute");
  if (count < 2LL * 86400) return unit(count / 3600, "hour");
  return unit(count / 86400, "day");
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_service_account_subject(std::string_view subject) {
  constexpr std::string_view kPrefix = "system:serviceaccount:";
  if (!subject.starts_with(kPrefix)) return std::nullopt;
  subject.remove_prefix(kPrefix.size());
  const auto colon = subject.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == subject.size()) return std::nullopt;
  const std::string_view service_account = subject.substr(colon + 1);
  if (service_account.find(':') != std::string_view::npos) return std::nullopt;
  return std::pair{std::string(subject.substr(0, colon)), std::string(service_account)};
}

util::Result<Claims> decode_claims(std::string_view token, const std::filesystem::path& source) {
  auto not_jwt = [&](std::string_view why) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("the token in {} is not a JWT: {}", source.string(), why),
                      "the token file must hold a Kubernetes service-account token (kubectl create token SA "
                      "--audience=pipelines.kubeflow.org), not a kubeconfig or a password");
  };
  const auto first = token.find('.');
  const auto second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return not_jwt("it does not have three dot-separated parts");
  }
  auto payload_text =
      util::base64url_decode(token.substr(first + 1, second - first - 1), util::ErrorKind::unauthenticated);
  if (!payload_text) return not_jwt("the payload is not base64url");
  boost::system::error_code error;
  const json::value payload_value = json::parse(*payload_text, error);
  if (error || !payload_value.is_object()) return not_jwt("the payload is not a JSON object");
  const json::object& payload = payload_value.get_object();

  Claims claims;
  if (const auto* aud = payload.if_contains("aud")) {
    if (aud->is_string()) {
      claims.audiences.emplace_back(aud->get_string());
    } else if (aud->is_array()) {
      for (const auto& item : aud->get_array()) {
        if (item.is_string()) claims.audiences.emplace_back(item.get_string());
      }
    }
  }
  claims.exp = time_claim(payload, "exp");
  claims.iat = time_claim(payload, "iat");
  claims.nbf = time_claim(payload, "nbf");
  claims.subject = string_claim(payload, "sub").value_or("");
  claims.issuer = string_claim(payload, "iss").value_or("");

  const json::object* kubernetes = object_claim(&payload, "kubernetes.io");
  claims.namespace_name = string_claim(payload, "kubernetes.io.namespace");
  if (!claims.namespace_name && kubernetes) claims.namespace_name = string_claim(*kubernetes, "namespace");
  claims.service_account = string_claim(payload, "kubernetes.io.serviceaccount.name");
  if (!claims.service_account) {
    if (const auto* account = object_claim(kubernetes, "serviceaccount")) {
      claims.service_account = string_claim(*account, "name");
    }
  }
  if (auto parsed = parse_service_account_subject(claims.subject)) {
    if (!claims.namespace_name) claims.namespace_name = parsed->first;
    if (!claims.service_account) claims.service_account = parsed->second;
  }
  return claims;
}

ClaimExpectations service_account_expectations(std::string_view audience) {
  ClaimExpectations expected;
  expected.audience = std::string(audience);
  expected.expired_hint =
      "a projected token is rotated by the kubelet before its expirationSeconds run out: read the "
      "mounted file (do not copy it), raise expirationSeconds, or mint a fresh one with "
      "kubectl create token SA --audience=pipelines.kubeflow.org";
  expected.audience_hint = fmt::format(
      "set `audience: {0}` on the projected service-account token volume, or use kubectl create token SA "
      "--audience={0}",
      audience);
  expected.issuer_hint =
      "check --token-issuer (KFP_TOKEN_ISSUER) against the cluster's service-account issuer";
  return expected;
}

util::Result<void> check_claims(const Claims& claims, std::chrono::system_clock::time_point now,
                                std::string_view required_audience) {
  return check_claims(claims, now, service_account_expectations(required_audience));
}

util::Result<void> check_claims(const Claims& claims, std::chrono::system_clock::time_point now,
                                const ClaimExpectations& expected) {
  const auto now_seconds = std::chrono::floor<std::chrono::seconds>(now);
  if (claims.exp && now_seconds >= *claims.exp) {
    return util::fail(util::ErrorKind::token_expired,
                      fmt::format("the token expired at {}, {} ago", iso8601(*claims.exp),
                                  humanize(now_seconds - *claims.exp)),
                      expected.expired_hint);
  }
  if (claims.nbf && now_seconds + kClockSkew < *claims.nbf) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("the token is not valid before {}, {} from now", iso8601(*claims.nbf),
                                  humanize(*claims.nbf - now_seconds)),
                      "check this machine's clock");
  }
  if (!expected.issuers.empty() &&
      std::find(expected.issuers.begin(), expected.issuers.end(), claims.issuer) == expected.issuers.end()) {
    return util::fail(util::ErrorKind::unauthenticated,
                      fmt::format("the token's issuer is \"{}\", expected {}", claims.issuer,
                                  expected.issuers.size() == 1
                                      ? fmt::format("\"{}\"", expected.issuers.front())
                                      : fmt::format("one of \"{}\"", fmt::join(expected.issuers, "\", \""))),
                      expected.issuer_hint);
  }
  if (expected.audience && std::find(claims.audiences.begin(), claims.audiences.end(), *expected.audience) ==
                               claims.audiences.end()) {
    return util::fail(util::ErrorKind::wrong_audience,
                      fmt::format("the token's audience is [{}], expected {}",
                                  fmt::join(claims.audiences, ", "), *expected.audience),
                      expected.audience_hint);
  }
  return {};
}

}  // namespace kfp::auth
