#pragma once
// Who is calling and what they may do: the Istio sidecar's principal check, KFP's TokenReview
// (RS256 signature, expiry, audience) and SubjectAccessReview (RBAC rules or the profile default).

#include "jwt.hpp"
#include "message.hpp"
#include "options.hpp"
#include "timeutil.hpp"

#include <optional>
#include <string>
#include <vector>

namespace kfp::emulator {

struct Identity {
  std::string subject;  // system:serviceaccount:NS:SA; empty in single-user mode
  std::string ns;       // the subject's own namespace
};

struct RbacRule {
  std::string subject;
  std::string ns;                  // "*" matches every namespace
  std::vector<std::string> allow;  // "*" or "resource/verb"
};

// The namespace KFP itself runs in; writes to shared pipelines are checked against it (2.17).
inline constexpr std::string_view kfp_install_namespace = "kubeflow";

class Authenticator {
 public:
  // Loads the token key and the RBAC file named in `options`. Throws util::Error (usage).
  explicit Authenticator(const Options& options);

  [[nodiscard]] bool multi_user() const { return multi_user_; }
  // True when the mesh would refuse the request (its token subject is not an allowed principal).
  [[nodiscard]] bool istio_denies(const Request& request) const;
  // The caller; throws ApiFailure 401 saying why (missing, bad signature, expired, audience).
  [[nodiscard]] Identity authenticate(const Request& request, Time now) const;
  // Throws ApiFailure 403 naming the subject unless it may `verb` `resource` in `ns`.
  void authorize(const Identity& identity, std::string_view resource, std::string_view verb,
                 const std::string& ns) const;

 private:
  bool multi_user_ = false;
  ServerVersion version_;
  std::optional<RsaKey> key_;
  std::optional<std::vector<RbacRule>> rules_;
  std::vector<std::string> principals_;
};

}  // namespace kfp::emulator
