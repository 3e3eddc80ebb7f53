#pragma once
// RS256 JSON Web Tokens as Kubernetes signs projected service-account tokens: minting (for tests)
// and verification (what the TokenReview does for the real server).

#include "util/error.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace kfp::emulator {

inline constexpr std::string_view kfp_audience = "pipelines.kubeflow.org";
inline constexpr std::string_view kubernetes_issuer = "https://kubernetes.default.svc.cluster.local";

// An RSA key pair read from a PEM private key (as `openssl genrsa` writes); owns the EVP_PKEY.
class RsaKey {
 public:
  // Fails with kind usage naming the file when it cannot be read or is not a private key.
  [[nodiscard]] static util::Result<RsaKey> load(const std::filesystem::path& pem_file);

  [[nodiscard]] std::string sign(std::string_view data) const;  // RS256 signature
  [[nodiscard]] bool verify(std::string_view data, std::string_view signature) const;

 private:
  struct Free {
    void operator()(void* key) const;
  };
  std::shared_ptr<void> key_;
};

struct MintRequest {
  std::string subject;  // system:serviceaccount:NS:SA
  std::string audience{kfp_audience};
  std::chrono::seconds ttl{3600};
};

// A signed compact JWT with the claims Kubernetes projects. Fails (usage) on a malformed subject.
[[nodiscard]] util::Result<std::string> mint_token(const RsaKey& key, const MintRequest& request,
                                                   std::chrono::system_clock::time_point now);

enum class TokenVerdict { valid, malformed, bad_signature, expired, not_yet_valid, wrong_audience };

struct TokenCheck {
  TokenVerdict verdict = TokenVerdict::malformed;
  boost::json::object claims;  // the payload, when it could be decoded
  std::string subject;
};

// Checks the signature, exp/nbf and that aud holds pipelines.kubeflow.org.
[[nodiscard]] TokenCheck verify_token(const RsaKey& key, std::string_view token,
                                      std::chrono::system_clock::time_point now);

// A JWT segment (header or payload) decoded: base64url, then a JSON object; nullopt otherwise.
[[nodiscard]] std::optional<boost::json::object> decode_segment(std::string_view segment);

// The payload without checking anything (the Istio sidecar's view of the caller).
[[nodiscard]] std::string unverified_subject(std::string_view token);

}  // namespace kfp::emulator
