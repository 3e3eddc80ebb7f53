#pragma once
// `doctor`: checks the chain of programmatic access link by link (token file, claims, DNS, TCP,
// TLS, healthz, namespace, an authenticated read, the permissions publishing needs) and names the
// fix of each broken link. Unlike publish::Session it never stops at the first problem: it records
// every step, skipping only the checks that depend on a broken one.

#include "api/kfp_api.hpp"
#include "doctor/check.hpp"
#include "publish/flows.hpp"
#include "publish/session.hpp"
#include "util/log.hpp"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kfp::doctor {

// A token expiring sooner than this is a warning: a long run or wait may outlive it.
inline constexpr std::chrono::minutes kTokenExpiryWarning{10};

// The name and content of the permission probe upload: not a pipeline, so the server refuses it
// after its authorization check and nothing is created.
inline constexpr std::string_view kProbeName = "kfp-publish-doctor-probe";
inline constexpr std::string_view kProbeContent =
    "# kfp-publish doctor: a permission probe, deliberately not a pipeline (the server must refuse it)\n";

// How --host reaches KFP; doctor's advice on a refused or dropped connection and on an Istio denial
// depends on it (README, "3. Choose how the Job reaches KFP").
enum class Route {
  api_server,  // the Service ml-pipeline (port 8888): in-cluster
  ui_proxy,    // the Service ml-pipeline-ui, or healthz answered in the UI server's shape: through-ui
  unknown,     // a gateway, an IP address, another name
};

// The route of `host` by its first DNS label (the Kubernetes Service's name), or the UI proxy when
// healthz answered in its shape.
[[nodiscard]] Route route_of(std::string_view host, bool healthz_via_ui_proxy);

struct DoctorResult {
  std::vector<Check> checks;
  std::optional<api::ServerInfo> server;
  std::string namespace_name;
};

// Runs every check in order over the session's own parts (publish::make_session_parts). Never
// throws for a broken link (that is a failed check); each token obtained is registered with
// services.secrets. `scope` says where publishing puts pipelines (--shared-pipeline), so the
// pipelines/create probe asks about that place.
[[nodiscard]] DoctorResult run_doctor(const publish::SessionOptions& options,
                                      const publish::SessionServices& services,
                                      publish::PipelineScope scope = publish::PipelineScope::namespaced);

}  // namespace kfp::doctor
