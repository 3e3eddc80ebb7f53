#pragma once
// Who is calling and what they may do: the Istio sidecar's principal check, KFP's authenticators
// (the kubeflow-userid header, then a TokenReview of the bearer token) and the
// SubjectAccessReview (RBAC rules or the profile default). Failures carry the release's own
// messages and codes (FIDELITY.md "Authentication").

#include "errors.hpp"
#include "jwt.hpp"
#include "message.hpp"
#include "options.hpp"
#include "timeutil.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kfp::emulator {

struct Identity {
  std::string subject;  // system:serviceaccount:NS:SA, or the kubeflow-userid header's user
  std::string ns;       // a service account's own namespace; empty for users
};

struct RbacRule {
  std::string subject;
  std::string ns;                  // "*" matches every namespace
  std::vector<std::string> allow;  // "*" or "resource/verb"
};

// The namespace KFP itself runs in; writes to shared pipelines are checked against it (2.17).
inline constexpr std::string_view kfp_install_namespace = "kubeflow";
// KUBEFLOW_USERID_HEADER as the Kubeflow multi-user install sets it (prefix "").
inline constexpr std::string_view user_id_header = "kubeflow-userid";

// Which authenticators a check uses: the gRPC API tries the header then the token; KFP 1.8's
// upload endpoints read only the header.
enum class IdentitySources { header_then_token, header_only };

// Why authentication failed, before a caller wraps it: `aggregate` is what the release's
// authenticators reported (utilerrors.NewAggregate).
struct AuthFailure {
  std::string aggregate;
};

class Authenticator {
 public:
  // Loads the token key and the RBAC file named in `options`. Throws util::Error (usage).
  explicit Authenticator(const Options& options);

  [[nodiscard]] bool multi_user() const { return multi_user_; }
  // True when the mesh would refuse the request (its token subject is not an allowed principal).
  [[nodiscard]] bool istio_denies(const Request& request) const;
  [[nodiscard]] std::variant<Identity, AuthFailure> identify(const Request& request, Time now,
                                                             IdentitySources sources) const;
  // The SubjectAccessReview: an empty optional when allowed, else the PermissionDenied error.
  [[nodiscard]] std::optional<ApiError> review(const Identity& identity, std::string_view resource,
                                               std::string_view verb, const std::string& ns) const;

 private:
  bool multi_user_ = false;
  ServerVersion version_;
  std::optional<RsaKey> key_;
  std::optional<std::vector<RbacRule>> rules_;
  std::vector<std::string> principals_;
};

// k8s.io/api ResourceAttributes as %+v prints it: "&ResourceAttributes{Namespace:…,Verb:…,…}".
[[nodiscard]] std::string resource_attributes(std::string_view ns, std::string_view verb,
                                              std::string_view resource, std::string_view name = {});

}  // namespace kfp::emulator
