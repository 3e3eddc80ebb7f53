#pragma once
// The claims of a Kubernetes service-account JWT, decoded without verifying the signature (the KFP
// server verifies through a TokenReview), to default the namespace and to fail early and clearly on
// an expired token or a wrong audience.

#include "util/error.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kfp::auth {

constexpr std::string_view kPipelinesAudience = "pipelines.kubeflow.org";
// Tolerated difference between our clock and the token issuer's, for nbf.
constexpr std::chrono::seconds kClockSkew{30};

struct Claims {
  std::vector<std::string> audiences;  // "aud", a string or an array in the token
  std::optional<std::chrono::sys_seconds> exp;
  std::optional<std::chrono::sys_seconds> iat;
  std::optional<std::chrono::sys_seconds> nbf;
  std::string subject;  // "sub"
  std::string issuer;   // "iss"
  // "kubernetes.io.namespace" (flat) or "kubernetes.io": {"namespace"}, else from the subject.
  std::optional<std::string> namespace_name;
  // "kubernetes.io.serviceaccount.name" or the nested form, else from the subject.
  std::optional<std::string> service_account;
};

// "system:serviceaccount:NS:SA" -> {NS, SA}; nullopt for any other subject.
[[nodiscard]] std::optional<std::pair<std::string, std::string>> parse_service_account_subject(
    std::string_view subject);

// Decodes the payload of a JWT (header.payload.signature, base64url). Fails with kind
// unauthenticated "the token in SOURCE is not a JWT: WHY"; no message contains the token.
[[nodiscard]] util::Result<Claims> decode_claims(std::string_view token, const std::filesystem::path& source);

// What a token must say before it is sent, and how to fix each kind of mismatch for its source.
struct ClaimExpectations {
  std::optional<std::string> audience;  // aud must hold it; nullopt: not checked
  std::vector<std::string> issuers;     // iss must equal one of them; empty: not checked
  std::string expired_hint;
  std::string audience_hint;
  std::string issuer_hint;
};

// A Kubernetes service-account token's expectations: `audience`, any issuer, kubectl hints.
[[nodiscard]] ClaimExpectations service_account_expectations(std::string_view audience = kPipelinesAudience);

// Fails with kind token_expired when exp has passed, unauthenticated when nbf is still ahead (beyond
// kClockSkew) or iss is none of the expected issuers, wrong_audience when the audiences lack the
// expected one. Each message says what was expected and what was found, never the token.
[[nodiscard]] util::Result<void> check_claims(const Claims& claims, std::chrono::system_clock::time_point now,
                                              const ClaimExpectations& expected);
// The same with service_account_expectations(required_audience).
[[nodiscard]] util::Result<void> check_claims(const Claims& claims, std::chrono::system_clock::time_point now,
                                              std::string_view required_audience = kPipelinesAudience);

}  // namespace kfp::auth
