#include "doctor/doctor.hpp"

#include "api/calls.hpp"
#include "api/multipart.hpp"
#include "api/upload_errors.hpp"
#include "auth/claims.hpp"
#include "auth/token_endpoint.hpp"
#include "doctor/fixes.hpp"
#include "doctor/network.hpp"
#include "http/proxy.hpp"
#include "util/interrupt.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <array>

namespace kfp::doctor {

namespace {

using util::ErrorKind;

constexpr const char* token_fix =
    "mount a projected service-account token with audience pipelines.kubeflow.org at that path (see "
    "manifests/base/job), or point --token-file / KF_PIPELINES_SA_TOKEN_PATH at it; for a one-off: kubectl "
    "create token SA -n NS --audience=pipelines.kubeflow.org > FILE";

std::string humanize(std::chrono::seconds left) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(left);
  if (minutes.count() >= 120) return fmt::format("{} hours", minutes.count() / 60);
  if (minutes.count() >= 1) return fmt::format("{} minutes", minutes.count());
  return fmt::format("{} seconds", left.count());
}

std::string iso8601(std::chrono::sys_seconds time) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(time)));
}

// Who we are, with placeholders where the token does not say.
struct Who {
  std::string namespace_name;  // the service account's own namespace
  std::string service_account;
};

Who who(const api::Identity& identity) {
  return Who{identity.namespace_name.empty() ? "NAMESPACE" : identity.namespace_name,
             identity.service_account.empty() ? "SERVICE_ACCOUNT" : identity.service_account};
}

class Doctor {
 public:
  Doctor(const publish::SessionOptions& options, const publish::SessionServices& services,
         publish::PipelineScope scope)
      : options_(options),
        scope_(scope),
        log_(services.log),
        now_(services.now),
        parts_(publish::make_session_parts(options, services)) {}

  DoctorResult run() {
    if (!parts_) {
      add(fail("token source", parts_.error(), parts_.error().hint));
      for (const char* name : {"token file", "token audience", "token issuer", "token expiry",
                               "token subject", "issuer discovery"})
        add(skip(name, "no usable token source"));
      check_network();
      add(skip("healthz", "no usable token source"));
      return std::move(result_);
    }
    const bool token_present = check_token_file();
    check_claims(token_present);
    const bool reachable = check_network();
    check_issuer_discovery();
    if (!reachable) add(skip("healthz", "the server is not reachable"));
    const bool healthy = reachable && check_healthz();
    const bool namespace_known = check_namespace(healthy);
    if (!healthy || !namespace_known) add(skip("authenticated read", "no healthy server or no namespace"));
    const bool can_read = healthy && namespace_known && check_read();
    check_permissions(can_read);
    return std::move(result_);
  }

 private:
  void add(Check check) {
    log_.debug("doctor: {} {}: {}", check.name, to_string(check.status), check.detail);
    result_.checks.push_back(std::move(check));
  }

  [[nodiscard]] bool from_file() const { return options_.token.source == auth::TokenSourceKind::file; }

  // 1. The token: the file present, readable, non-empty, not a directory (read_token_file's rules),
  // or a token obtained from GitHub or Entra ID.
  bool check_token_file() {
    auto token = parts_->tokens->token();
    if (!from_file()) {
      const std::string name = "token source";
      if (!token) {
        add(fail(name, token.error(), token.error().hint));
        return false;
      }
      token_ = token->value_or("");
      add(ok(name, fmt::format("{}: obtained a token of {} bytes", auth::to_string(options_.token.source),
                               token_.size())));
      return !token_.empty();
    }
    const std::string path = options_.token.file.string();
    if (!token) {
      add(fail("token file", token.error(), token_fix));
      return false;
    }
    if (!*token) {
      if (options_.token.requirement == auth::TokenRequirement::required_file) {
        add(fail("token file", util::fail(ErrorKind::unauthenticated, fmt::format("{} does not exist", path)),
                 token_fix));
      } else {
        add(warn("token file",
                 fmt::format("no token file at {}: requests carry no Authorization header, which only a "
                             "single-user server accepts",
                             path),
                 token_fix));
      }
      return false;
    }
    token_ = **token;
    add(ok("token file", fmt::format("{}: readable, {} bytes", path, token_.size())));
    return true;
  }

  // 2. The claims: a JWT, the audience, the issuer, the expiry, the subject.
  void check_claims(bool token_present) {
    const auth::ClaimExpectations& expected = parts_->expectations;
    if (!token_present) {
      for (const char* name : {"token audience", "token issuer", "token expiry", "token subject"}) {
        add(skip(name, "no token"));
      }
      return;
    }
    auto claims = auth::decode_claims(token_, auth::token_origin(options_.token));
    if (!claims) {
      add(fail("token claims", claims.error(),
               from_file() ? "the file must hold a Kubernetes service-account token (a JWT: "
                             "header.payload.signature); " +
                                 std::string(token_fix)
                           : std::string("the token endpoint did not answer with a JWT: check its URL")));
      return;
    }
    const auto now = now_();
    // Each facet is judged by auth::check_claims alone, with the other facets neutralised.
    auth::ClaimExpectations audience_expected = expected;
    audience_expected.issuers.clear();
    auth::Claims audience_only = *claims;
    audience_only.exp.reset();
    audience_only.nbf.reset();
    if (auto checked = auth::check_claims(audience_only, now, audience_expected); !checked) {
      add(fail("token audience", checked.error(),
               checked.error().hint +
                   (from_file() ? " (a plain default service-account token fails the audience check)" : "")));
    } else if (!expected.audience) {
      add(ok("token audience",
             fmt::format("aud [{}] (no --token-audience: not checked)", fmt::join(claims->audiences, ", "))));
    } else {
      add(ok("token audience",
             fmt::format("aud [{}] holds {}", fmt::join(claims->audiences, ", "), *expected.audience)));
    }
    if (expected.issuers.empty()) {
      add(ok("token issuer", fmt::format("iss \"{}\" (no --token-issuer: not checked)", claims->issuer)));
    } else {
      auth::ClaimExpectations issuer_expected = expected;
      issuer_expected.audience.reset();
      auth::Claims issuer_only = *claims;
      issuer_only.exp.reset();
      issuer_only.nbf.reset();
      if (auto checked = auth::check_claims(issuer_only, now, issuer_expected); !checked) {
        add(fail("token issuer", checked.error(), checked.error().hint));
      } else {
        add(ok("token issuer", fmt::format("iss \"{}\"", claims->issuer)));
      }
    }
    auth::ClaimExpectations time_expected = expected;
    time_expected.audience.reset();
    time_expected.issuers.clear();
    if (auto checked = auth::check_claims(*claims, now, time_expected); !checked) {
      add(fail("token expiry", checked.error(), checked.error().hint));
    } else if (!claims->exp) {
      add(warn("token expiry", "the token has no exp claim: it never expires",
               "prefer a projected token with expirationSeconds, which the kubelet rotates"));
    } else {
      const auto left = *claims->exp - std::chrono::floor<std::chrono::seconds>(now);
      std::string detail = fmt::format("expires at {}, in {}", iso8601(*claims->exp), humanize(left));
      if (!from_file()) {
        add(ok("token expiry", detail + "; a new one is obtained before it expires"));
      } else if (left < kTokenExpiryWarning) {
        add(warn(
            "token expiry", detail + ": a long run or wait may outlive it",
            "read the mounted projected token afresh (the kubelet rotates it), or raise expirationSeconds"));
      } else {
        add(ok("token expiry", detail));
      }
    }
    identity_ = api::identity_of(*claims);
    if (auth::parse_service_account_subject(claims->subject)) {
      add(ok("token subject", fmt::format("{}: service account {} in namespace {}", claims->subject,
                                          identity_.service_account, identity_.namespace_name)));
    } else if (!from_file()) {
      add(ok("token subject",
             fmt::format("sub \"{}\": through the Kubeflow gateway KFP authorizes this subject as a User "
                         "(the gateway writes it into kubeflow-userid)",
                         claims->subject)));
    } else {
      add(warn(
          "token subject",
          fmt::format("sub \"{}\" is not a service account (system:serviceaccount:NS:SA): the namespace and "
                      "the Istio principal cannot be derived from it",
                      claims->subject),
          "use a service-account token, or pass --namespace"));
    }
  }

  // A token whose subject is not a Kubernetes service account reaches KFP only through the gateway,
  // which writes the subject into kubeflow-userid.
  [[nodiscard]] bool through_gateway() const {
    return !identity_.subject.empty() && !auth::parse_service_account_subject(identity_.subject);
  }

  // The token's issuer as the gateway finds it: istiod reads the issuer's discovery document for the
  // jwksUri of a jwtRule without one (Istio RequestAuthentication, jwtRules.jwksUri), and the document's
  // issuer must be the token's iss (OpenID Connect Discovery 1.0, 4.3). Only on the way through a
  // gateway (--host is neither ml-pipeline nor ml-pipeline-ui): in the cluster nothing verifies the
  // token against its issuer but the API server's TokenReview.
  void check_issuer_discovery() {
    const std::string name = "issuer discovery";
    if (token_.empty() || identity_.issuer.empty()) {
      add(skip(name, "no token issuer known"));
      return;
    }
    if (route_ != Route::unknown) {
      add(skip(name, "in-cluster route: KFP checks the token by TokenReview, not against its issuer"));
      return;
    }
    std::string issuer = identity_.issuer;
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    const std::string url = issuer + "/.well-known/openid-configuration";
    if (auto allowed = auth::check_token_endpoint(url, "the token's issuer"); !allowed) {
      add(warn(name, fmt::format("not fetched: {}", allowed.error().message),
               "the gateway must reach the issuer's keys: give the jwtRule a jwksUri"));
      return;
    }
    http::Request request;
    request.url = url;
    request.headers.set("Accept", "application/json");
    request.max_response_bytes = auth::kMaxTokenAnswerBytes;
    auto response = auth::send_token_request(*parts_->token_transport, *parts_->clock, request);
    const std::string unreachable_fix = fmt::format(
        "the gateway (istiod) fetches the keys of {} from its discovery document unless the jwtRule names a "
        "jwksUri: make {} reachable from the cluster, or set jwksUri",
        identity_.issuer, url);
    if (!response) {
      add(warn(name, fmt::format("GET {} failed from here: {}", url, response.error().message),
               unreachable_fix));
      return;
    }
    auto document = auth::json_object_of(*response);
    if (response->status != 200 || !document) {
      add(warn(name,
               fmt::format("GET {} answered HTTP {}{}", url, response->status,
                           document ? "" : ", not a JSON object"),
               unreachable_fix));
      return;
    }
    const std::string stated = auth::string_field(*document, "issuer");
    const std::string jwks = auth::string_field(*document, "jwks_uri");
    if (stated != identity_.issuer) {
      add(fail(
          name,
          util::fail(
              ErrorKind::unauthenticated,
              fmt::format("the discovery document at {} states issuer \"{}\", the token's iss is \"{}\"", url,
                          stated, identity_.issuer)),
          "the gateway's jwtRule issuer must equal the token's iss byte for byte (a trailing slash counts): "
          "use the issuer the token carries, and a token source whose issuer publishes that document"));
      return;
    }
    add(ok(name, fmt::format("{} states issuer \"{}\" (the token's iss), jwks_uri {}", url, stated,
                             jwks.empty() ? std::string("(none)") : jwks)));
  }

  // 3. DNS, TCP and TLS, each on its own.
  bool check_network() {
    auto target = http::parse_target(options_.host);
    if (!target) {
      add(fail("dns", target.error(), "fix --host (KFP_HOST): scheme://host[:port][/prefix]"));
      add(skip("tcp", "no valid host"));
      add(skip("tls", "no valid host"));
      return false;
    }
    auto proxy = http::select_proxy(options_.transport, *target);
    if (proxy && *proxy) {
      const std::string through =
          fmt::format("requests go through the proxy {}: healthz tests that path", (*proxy)->host_header);
      for (const char* name : {"dns", "tcp", "tls"}) add(skip(name, through));
      return true;
    }
    NetworkOptions network;
    network.timeout = options_.transport.timeout;
    network.ca_file = options_.transport.ca_file;
    network.insecure_skip_tls_verify = options_.transport.insecure_skip_tls_verify;
    route_ = route_of(target->host, false);
    if (route_ == Route::ui_proxy) {
      network.refused_fix = network.dropped_fix = ui_network_policy_fix();
    } else if (route_ == Route::api_server) {
      network.dropped_fix = api_network_policy_fix();
    }
    bool reachable = true;
    for (auto& check : probe_network(*target, network)) {
      if (check.status == Status::fail) reachable = false;
      add(std::move(check));
    }
    return reachable;
  }

  // 4. healthz: server version, API version, multi-user mode, API server or UI proxy.
  bool check_healthz() {
    connection_ = parts_->connect(options_, identity_, log_);

    auto server = api::detect_server(*connection_, options_.api);
    if (!server) {
      // The mesh refuses healthz too: an Istio denial shows here first.
      std::string fix = fix_for(server.error());
      if (fix.empty()) {
        fix =
            "check that --host is the KFP API (http://ml-pipeline.kubeflow.svc.cluster.local:8888) or the "
            "Kubeflow gateway with its /pipeline prefix";
      }
      add(fail("healthz", server.error(), fix));
      return false;
    }
    result_.server = *server;
    if (server->via_ui_proxy) route_ = Route::ui_proxy;
    if (server->multi_user) require_token();
    const std::string who_answered = server->via_ui_proxy
                                         ? "answered by the ml-pipeline-ui proxy (the UI's own healthz, "
                                           "which says the API server behind it is "
                                           "ready)"
                                         : "answered by the API server itself";
    std::string detail = fmt::format("KFP {}, API {}, {}; {}", server->version, server->api,
                                     server->multi_user ? "multi-user" : "single-user", who_answered);
    if (server->api == "v1beta1" && !api::version_at_least(server->version, 2, 0)) {
      add(warn("healthz",
               detail + "; this server serves only v1beta1: kfp-publish speaks v1beta1 to it, and v2 YAML "
                        "packages cannot be read there (compile to JSON or to a v1 Argo workflow)",
               "upgrade to KFP 2.x for the v2beta1 API (tags, get-by-name, v2 YAML packages)"));
    } else {
      add(ok("healthz", detail));
    }
    return true;
  }

  // A multi-user server authenticates every request: an absent default token file was only a
  // warning until now, and is the first broken link.
  void require_token() {
    for (auto& check : result_.checks) {
      if (check.name == "token file" && check.status == Status::warn) {
        check.status = Status::fail;
        check.kind = ErrorKind::unauthenticated;
        check.detail += "; the server is multi-user, so it needs one";
      }
    }
  }

  bool check_namespace(bool healthy) {
    result_.namespace_name = publish::resolve_namespace(options_, identity_);
    const std::string& ns = result_.namespace_name;
    if (healthy && !result_.server->multi_user) {
      result_.namespace_name.clear();
      add(ok("namespace", "single-user server: namespaces are not used"));
      return true;
    }
    if (ns.empty()) {
      if (!healthy) {
        add(skip("namespace", "none known, and the server's mode is unknown"));
        return false;
      }
      add(fail("namespace",
               util::fail(ErrorKind::usage, "the server is multi-user and no namespace is known"),
               "pass --namespace (KFP_NAMESPACE), or use a service-account token, whose namespace is used"));
      return false;
    }
    if (!identity_.namespace_name.empty() && ns != identity_.namespace_name) {
      add(warn(
          "namespace",
          fmt::format("using {} (from --namespace), but the token's service account lives in {}: it needs a "
                      "RoleBinding in {}",
                      ns, identity_.namespace_name, ns),
          fmt::format("drop --namespace to use {}, or: kubectl create rolebinding {}-kubeflow-edit "
                      "--clusterrole=kubeflow-edit --serviceaccount={}:{} -n {}",
                      identity_.namespace_name, identity_.service_account, identity_.namespace_name,
                      identity_.service_account, ns)));
      return true;
    }
    const char* source = !options_.namespace_name.empty() ? "from --namespace"
                         : ns == identity_.namespace_name ? "from the token"
                                                          : "from the service-account namespace file";
    add(ok("namespace", fmt::format("{} ({})", ns, source)));
    return true;
  }

  // The fix for a failed request: the AuthorizationPolicy or RoleBinding as YAML, or the token.
  std::string fix_for(const util::Failure& failure) const {
    const Who me = who(identity_);
    const std::string& ns = result_.namespace_name.empty() ? me.namespace_name : result_.namespace_name;
    switch (failure.kind) {
      case ErrorKind::istio_denied:
        // Through the gateway with a machine token, the classifier's hint names the gateway's policies.
        if (through_gateway()) return failure.hint;
        return istio_fix();
      case ErrorKind::forbidden: {
        // Through the gateway KFP authorizes a User (the token's sub): the hint holds its RoleBinding.
        if (through_gateway()) return failure.hint;
        const std::string yaml = rolebinding_fix(ns, me.namespace_name, me.service_account);
        return fmt::format(
            "KFP authorization (SubjectAccessReview) denied {}: bind it to the ClusterRole kubeflow-edit in "
            "namespace {}.\nkubectl apply -f - <<'EOF'\n{}EOF",
            identity_.subject.empty() ? "the caller" : identity_.subject, ns, yaml);
      }
      case ErrorKind::unauthenticated:
        if (token_.empty()) return std::string("the server needs a token: ") + token_fix;
        return failure.hint;
      case ErrorKind::not_found:
        if (!failure.hint.empty()) return failure.hint;
        return "the KFP API is not at this URL: --host must be the API server "
               "(http://ml-pipeline.kubeflow.svc.cluster.local:8888) or the gateway with its prefix "
               "(https://HOST/pipeline)";
      default: return failure.hint;
    }
  }

  // The profile namespace the Job's pod runs in: what NetworkPolicies and Istio principals name.
  std::string pod_namespace() const {
    if (!identity_.namespace_name.empty()) return identity_.namespace_name;
    if (!options_.namespace_name.empty()) return options_.namespace_name;
    return "NAMESPACE";
  }

  // Kubeflow's ml-pipeline-ui NetworkPolicy admits only istio-system on every release
  // (kubeflow/manifests v1.9.0 to v1.11.0 common/networkpolicies/base/ml-pipeline-ui.yaml:13-20):
  // a pod of a profile namespace reaches the UI server only through one more NetworkPolicy.
  std::string ui_network_policy_fix() const {
    const std::string ns = pod_namespace();
    return fmt::format(
        "Kubeflow's NetworkPolicy ml-pipeline-ui (namespace kubeflow) admits only istio-system, on every "
        "release (kubeflow/manifests v1.9.0 to v1.11.0, common/networkpolicies/base/ml-pipeline-ui.yaml), "
        "so pods of {} reach the UI server only with the NetworkPolicy {} admitting {} on its port 3000 "
        "(what manifests/setup/through-ui applies; NetworkPolicies add up). Check first that the UI runs: "
        "kubectl -n kubeflow get pods -l app=ml-pipeline-ui\nkubectl apply -f - <<'EOF'\n{}EOF",
        ns, network_policy_name(), ns, network_policy_fix(ns));
  }

  // Kubeflow's ml-pipeline NetworkPolicy admits profile namespaces and istio-system (kubeflow/manifests
  // v1.9.0 to v1.11.0 common/networkpolicies/base/ml-pipeline.yaml:13-26).
  std::string api_network_policy_fix() const {
    const std::string ns = pod_namespace();
    return fmt::format(
        "Kubeflow's NetworkPolicy ml-pipeline (namespace kubeflow) admits only namespaces labelled "
        "app.kubernetes.io/part-of=kubeflow-profile, and istio-system (kubeflow/manifests v1.9.0 to "
        "v1.11.0, common/networkpolicies/base/ml-pipeline.yaml): run the Job in a Kubeflow profile's "
        "namespace, which the profile controller labels (manifests/setup/profile); see kubectl get "
        "namespace {} --show-labels. Otherwise a firewall or security group drops the packets",
        ns);
  }

  // An Istio denial, read by route against the installer's AuthorizationPolicies (kubeflow/manifests
  // apps/pipeline/upstream/base/installs/multi-user/istio-authorization-config.yaml up to v1.9.1,
  // applications/pipeline/... from v1.10): ml-pipeline admits any request without kubeflow-userid on
  // every release (v1.9.1 :46-49); ml-pipeline-ui admits only istio-system on v1.9.0 (:11-14) and,
  // from v1.9.1, also any request with an authorization header and no kubeflow-userid (:17-25).
  std::string istio_fix() const {
    const Who me = who(identity_);
    const std::string ui = fmt::format(
        "In front of ml-pipeline-ui: from Kubeflow 1.9.1 the installer's own AuthorizationPolicy "
        "ml-pipeline-ui admits any request with an Authorization header and no kubeflow-userid header, so "
        "there no extra policy is needed: send the token (the token checks above) and no kubeflow-userid. "
        "Kubeflow 1.9.0's admits only sources in istio-system: use the in-cluster path there (--host "
        "http://ml-pipeline.kubeflow.svc.cluster.local:8888), or, only if it must be the UI, an Istio "
        "sidecar in the Job (a native sidecar: overlays/through-ui-mesh, istiod with "
        "ENABLE_NATIVE_SIDECARS=true) and, for Kubeflow 1.9.0 only, the AuthorizationPolicy {} for its "
        "principal cluster.local/ns/{}/sa/{} (manifests/setup/through-ui-mesh)",
        authorization_policy_name(), me.namespace_name, me.service_account);
    const std::string api =
        "In front of ml-pipeline (port 8888): the installer's AuthorizationPolicy ml-pipeline admits any "
        "request without a kubeflow-userid header on every Kubeflow release, so this request carried one "
        "(kfp-publish never sends it: a proxy or sidecar added it) or that policy was changed";
    const std::string yaml = fmt::format("\nkubectl apply -f - <<'EOF'\n{}EOF",
                                         authorization_policy_fix(me.namespace_name, me.service_account));
    switch (route_) {
      case Route::api_server:
        return fmt::format("the Istio mesh refused the request before KFP saw it. {}", api);
      case Route::ui_proxy:
        return fmt::format("the Istio mesh refused the request before KFP saw it. {}.{}", ui, yaml);
      case Route::unknown: break;
    }
    return fmt::format(
        "the Istio mesh refused the request before KFP saw it (through the Kubeflow gateway, your ingress's "
        "policies decide). {}. {}.{}",
        api, ui, yaml);
  }

  api::QueryParams namespace_query() const {
    const std::string& ns = result_.namespace_name;
    api::QueryParams query;
    if (result_.server->api == "v1beta1") {
      if (!ns.empty()) {
        query.emplace_back("resource_reference_key.type", "NAMESPACE");
        query.emplace_back("resource_reference_key.id", ns);
      }
    } else if (!ns.empty()) {
      query.emplace_back("namespace", ns);
    }
    query.emplace_back("page_size", "1");
    return query;
  }

  // A list call in the namespace; the check passes when the server answers 2xx.
  bool check_list(const std::string& name, const std::string& collection, const std::string& what) {
    api::ApiRequest request;
    request.path = fmt::format("/apis/{}/{}", result_.server->api, collection);
    request.query = namespace_query();
    auto reply = connection_->call(request, what);
    if (!reply) {
      add(fail(name, reply.error(), fix_for(reply.error())));
      return false;
    }
    const std::string where = result_.namespace_name.empty() ? std::string("(no namespace)")
                                                             : "in namespace " + result_.namespace_name;
    add(ok(name, fmt::format("GET {} {} answered HTTP {}", request.path, where, reply->status)));
    return true;
  }

  // 5. An authenticated read in the namespace: tells 401, Istio 403 and KFP RBAC 403 apart.
  bool check_read() {
    connection_->set_namespace(result_.namespace_name);  // the permission hints name it
    return check_list("authenticated read", "pipelines", "list pipelines (authenticated read)");
  }

  // 6. What publishing and running need, without creating anything lasting.
  void check_permissions(bool can_read) {
    const std::array<const char*, 4> names{"permission experiments/list", "permission runs/list",
                                           "permission pipelines/create",
                                           "permission experiments,runs/create"};
    if (!can_read) {
      for (const char* name : names) add(skip(name, "the authenticated read did not pass"));
      return;
    }
    if (!result_.server->multi_user) {
      for (const char* name : names) add(ok(name, "single-user server: KFP checks no permissions"));
      return;
    }
    check_list(names[0], "experiments", "list experiments");
    check_list(names[1], "runs", "list runs");
    probe_pipeline_create(names[2]);
    add(warn(
        names[3],
        "not probed: KFP has no dry run, and an experiment or run create that passed authorization would "
        "leave the object behind; the kubeflow-edit ClusterRole that grants the probed verbs grants these "
        "too",
        fmt::format("if `run` fails with HTTP 403, bind the account to kubeflow-edit in {} "
                    "(manifests/base/rbac/rolebinding.yaml)",
                    result_.namespace_name)));
  }

  // What a probe upload found: refused by the authorization check, past it, or neither for sure.
  struct UploadProbe {
    enum class Outcome { accepted, past_authorization, refused, inconclusive } outcome;
    util::Result<api::ApiReply> reply;
    api::UploadRefusal refusal = api::UploadRefusal::other;
  };

  // The upload endpoint reads the file, then checks authorization, then reads the template
  // (pipeline_upload_server.go at every release), so a .yaml that is not a pipeline probes
  // pipelines/create in `ns` ("": a shared pipeline) and creates nothing. How each release words the
  // two outcomes decides the check (api/upload_errors.hpp): refused by the authorization check (1.8:
  // from kubeflow-userid only; 2.0-2.5: named; 2.15+: the generic "Failed to create a pipeline"), or
  // past it with the template refused (a 500 up to 2.16, a 400 in the template's words from 2.17).
  UploadProbe probe_upload(const std::string& ns) {
    const api::ServerInfo& server = *result_.server;
    api::QueryParams query{{"name", std::string(kProbeName)}};
    if (!ns.empty()) query.emplace_back("namespace", ns);
    auto request = api::upload_request(
        fmt::format("/apis/{}/pipelines/upload", server.api), std::move(query),
        api::upload_body(fmt::format("{}.yaml", kProbeName), http::BodyPiece{std::string(kProbeContent)}));
    UploadProbe probe{UploadProbe::Outcome::inconclusive, util::Result<api::ApiReply>(api::ApiReply{}),
                      api::UploadRefusal::other};
    request.refine_failure = api::upload_failure_refinement(server, api::UploadEndpoint::pipeline,
                                                            api::Caller{identity_, ns}, probe.refusal);
    probe.reply = connection_->call(request, "probe pipelines/create (upload of a non-pipeline)");
    if (probe.reply) {
      probe.outcome = UploadProbe::Outcome::accepted;
      return probe;
    }
    const int status = probe.reply.error().http_status.value_or(0);
    if (probe.refusal == api::UploadRefusal::invalid_package ||
        (probe.refusal == api::UploadRefusal::other && (status == 500 || status == 409))) {
      probe.outcome = UploadProbe::Outcome::past_authorization;
    } else if (probe.refusal == api::UploadRefusal::not_authorized ||
               probe.refusal == api::UploadRefusal::unauthenticated ||
               probe.refusal == api::UploadRefusal::userid_header_missing) {
      probe.outcome = UploadProbe::Outcome::refused;
    }
    return probe;
  }

  void probe_pipeline_create(const std::string& name) {
    const api::ServerInfo& server = *result_.server;
    const bool shared = scope_ == publish::PipelineScope::shared;
    const std::string ns = shared ? std::string() : result_.namespace_name;
    const std::string where =
        shared ? std::string("shared pipelines (--shared-pipeline)") : "namespace " + ns;
    UploadProbe probe = probe_upload(ns);
    if (probe.outcome == UploadProbe::Outcome::accepted) {
      add(warn(
          name,
          fmt::format("the server accepted a probe that is not a pipeline (HTTP {}): pipelines/create is "
                      "allowed for {}, but a pipeline named {} may now exist there",
                      probe.reply->status, where, kProbeName),
          fmt::format("delete the pipeline {} ({})", kProbeName, where)));
      return;
    }
    if (probe.outcome == UploadProbe::Outcome::past_authorization) {
      const std::string detail = fmt::format(
          "allowed for {}: KFP {} got past its authorization check and refused the deliberate "
          "non-pipeline (HTTP {}); nothing was created",
          where, server.version, probe.reply.error().http_status.value_or(0));
      if (shared && api::version_at_least(server.version, 2, 17)) {
        // The upload endpoint does not authorize shared pipelines (pipeline_upload_server.go:401-403
        // @2.17.0), but the create of a new one does (pipeline_server.go:1290-1305).
        add(warn(name,
                 detail +
                     "; but KFP 2.17+ authorizes the create of a new shared pipeline as pipelines/create "
                     "in its own namespace (kubeflow), which this probe cannot test without creating one",
                 "if publishing a new pipeline fails with HTTP 403, ask a Kubeflow admin to create it once; "
                 "later versions need no such right"));
        return;
      }
      add(ok(name, detail));
      return;
    }
    const auto& failure = probe.reply.error();
    if (probe.refusal == api::UploadRefusal::userid_header_missing) {
      // KFP 1.8: only a shared pipeline gets through with a token; show that it does.
      util::Failure refused = failure;
      if (probe_upload("").outcome == UploadProbe::Outcome::past_authorization)
        refused.message +=
            "; a probe of a shared pipeline (no namespace) got past the check: --shared-pipeline works here";
      add(fail(name, refused, refused.hint));
      return;
    }
    if (probe.outcome == UploadProbe::Outcome::refused) {
      add(fail(name, failure, fix_for(failure)));
      return;
    }
    if (failure.kind == ErrorKind::istio_denied || failure.kind == ErrorKind::unauthenticated ||
        failure.kind == ErrorKind::token_expired || failure.kind == ErrorKind::wrong_audience ||
        failure.kind == ErrorKind::forbidden) {
      add(fail(name, failure, fix_for(failure)));
      return;
    }
    add(warn(name, fmt::format("inconclusive: {}", failure.message),
             "the answer does not say whether authorization passed; a real publish will tell"));
  }

  const publish::SessionOptions& options_;
  publish::PipelineScope scope_;
  Route route_ = Route::unknown;
  util::Log& log_;
  auth::WallClock now_;
  util::Result<publish::SessionParts> parts_;
  std::string token_;
  api::Identity identity_;
  std::unique_ptr<api::Connection> connection_;
  DoctorResult result_;
};

}  // namespace

Route route_of(std::string_view host, bool healthz_via_ui_proxy) {
  if (healthz_via_ui_proxy) return Route::ui_proxy;
  // The Service's name is the first label of every in-cluster name of it (ml-pipeline-ui,
  // ml-pipeline-ui.kubeflow, ….svc.cluster.local).
  const std::string_view service = host.substr(0, host.find('.'));
  if (service == "ml-pipeline-ui") return Route::ui_proxy;
  if (service == "ml-pipeline") return Route::api_server;
  return Route::unknown;
}

DoctorResult run_doctor(const publish::SessionOptions& options, const publish::SessionServices& services,
                        publish::PipelineScope scope) {
  return Doctor(options, services, scope).run();
}

}  // namespace kfp::doctor
