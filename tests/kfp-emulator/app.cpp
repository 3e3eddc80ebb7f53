#include "app.hpp"

#include "resources.hpp"

#include <algorithm>

#include "util/error.hpp"

namespace kfp::emulator {

namespace json = boost::json;

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> segments;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    segments.push_back(path.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return segments;
}

// Matches one pattern segment ("runs", "{}", "{}:terminate") against a raw path segment.
bool match_segment(const std::string& pattern, const std::string& segment, std::vector<std::string>& args) {
  if (!pattern.starts_with("{}")) return pattern == segment;
  std::string suffix = pattern.substr(2);
  if (segment.size() <= suffix.size() || !segment.ends_with(suffix)) return false;
  auto value = path_unescape(segment.substr(0, segment.size() - suffix.size()));
  if (!value) return false;
  args.push_back(*value);
  return true;
}

std::string camel_case(std::string_view snake) {
  std::string out;
  bool upper = false;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    out.push_back(upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c);
    upper = false;
  }
  return out;
}

}  // namespace

App::App(Options options) : options_(std::move(options)), auth_(options_) {
  register_v2_routes(*this);
  register_v1_routes(*this);
  register_log_routes(*this);
  // main.go: single-user servers create "Default" at start-up; 1.8 creates it in every mode.
  if (!multi_user() || is_v1_server(options_.version)) create_default_experiment(*this);
}

void App::add(std::string method, std::string pattern, ErrorShape shape, RouteHandler handler) {
  routes_.push_back(Route{std::move(method), split_path(pattern), shape, std::move(handler)});
}

void App::add_plain_handlers(std::string_view base, RouteHandler healthz, RouteHandler upload,
                             RouteHandler upload_version) {
  add("*", std::string(base) + "/healthz", ErrorShape::gateway, std::move(healthz));
  add("*", std::string(base) + "/pipelines/upload", ErrorShape::upload, std::move(upload));
  add("*", std::string(base) + "/pipelines/upload_version", ErrorShape::upload, std::move(upload_version));
}

std::optional<ApiError> App::check_access(const Request& request, std::string_view resource,
                                          std::string_view verb, const std::string& ns,
                                          IdentitySources sources) {
  if (!auth_.multi_user()) return std::nullopt;
  auto identity = auth_.identify(request, now(), sources);
  if (const auto* failure = std::get_if<AuthFailure>(&identity)) {
    // 1.8 (server/util.go isAuthorized) returns the authenticators' aggregate as a plain error;
    // 2.x (resource_manager.go IsAuthorized) wraps it in one generic Unauthenticated error.
    if (is_v1_server(options_.version)) return plain_go_error(failure->aggregate);
    return unauthenticated(failure->aggregate,
                           "Failed to check authorization. User identity is empty in the request header");
  }
  return auth_.review(std::get<Identity>(identity), resource, verb, ns);
}

void App::authorize(const Request& request, std::string_view resource, std::string_view verb,
                    const std::string& ns, IdentitySources sources) {
  if (auto failure = check_access(request, resource, verb, ns, sources))
    throw ApiFailure(std::move(*failure));
}

std::chrono::milliseconds App::request_latency(const Request& request) const {
  if (request.path.starts_with("/_emulator/")) return std::chrono::milliseconds{0};
  return options_.latency / 2;
}

Reply App::handle(const Request& request) {
  if (request.path.starts_with("/_emulator/")) {
    try {
      return control_endpoint(request);
    } catch (const ApiFailure& failure) {
      return gateway_error(ServerVersion::v2_17_0, failure.error());
    }
  }
  LoggedRequest entry{request.method, request.path, request.query, 0, {}};
  auto fault = control_.take_fault(request.method, request.path);
  if (fault) entry.fault = std::string(to_string(fault->kind));
  Reply reply;
  if (fault && fault->kind == FaultKind::reset) {
    reply.disposition = Disposition::reset;
  } else if (fault && fault->kind == FaultKind::status) {
    auto code = fault->status == 503 ? Code::unavailable : Code::internal;
    auto error = api_error(code, "injected fault: HTTP " + std::to_string(fault->status));
    error.status_override = fault->status;
    reply = gateway_error(options_.version, error);
  } else {
    reply = dispatch(request);
    if (fault && fault->kind == FaultKind::lost_response) reply.disposition = Disposition::lose;
    if (fault && fault->kind == FaultKind::delay) reply.delay += fault->delay;
  }
  // The request's half of --latency passed before handling (request_latency); this is the reply's.
  if (!request.path.starts_with("/_emulator/")) reply.delay += options_.latency - options_.latency / 2;
  entry.status = reply.disposition == Disposition::send ? reply.status : 0;
  control_.log(std::move(entry));
  return reply;
}

Reply App::dispatch(const Request& request) {
  if (request.path.starts_with("/apis/") && auth_.istio_denies(request)) {
    Reply reply = text_reply(403, "RBAC: access denied");
    reply.content_type = "text/plain";
    reply.headers.emplace_back("server", "istio-envoy");
    return reply;
  }
  auto segments = split_path(request.path);
  bool path_matched = false;
  for (const auto& route : routes_) {
    if (route.segments.size() != segments.size()) continue;
    std::vector<std::string> args;
    bool ok = true;
    for (std::size_t i = 0; ok && i < segments.size(); ++i)
      ok = match_segment(route.segments[i], segments[i], args);
    if (!ok) continue;
    path_matched = true;
    if (route.method != "*" && route.method != request.method) continue;
    Context context{*this, request, std::move(args)};
    try {
      return route.handler(context);
    } catch (const ApiFailure& failure) {
      const auto& error = failure.error();
      auto status = error.status_override != 0 ? error.status_override : http_status(error.code);
      if (error.plain_text) return http_error(status, error.message);
      if (route.shape == ErrorShape::upload) return upload_error(status, error.message, true, false);
      Reply reply = gateway_error(options_.version, error);
      // grpc-gateway v2 sends the message as WWW-Authenticate on 401 (runtime/errors.go).
      if (error.code == Code::unauthenticated && is_gateway_v2(options_.version))
        reply.headers.emplace_back("WWW-Authenticate", error.message);
      return reply;
    } catch (const std::exception& error) {
      return gateway_error(options_.version, plain_go_error(error.what()));
    }
  }
  if (path_matched) return gateway_method_not_allowed(options_.version);
  // main.go: only /apis/ goes to the gateway; gorilla/mux answers anything else itself.
  if (!request.path.starts_with("/apis/")) return text_reply(404, "404 page not found\n");
  return gateway_not_found(options_.version);
}

Reply App::control_endpoint(const Request& request) {
  auto body_object = [&]() {
    boost::system::error_code ec;
    auto value = json::parse(request.body, ec);
    if (ec || !value.is_object()) throw ApiFailure(Code::invalid_argument, "body must be a JSON object");
    return value.as_object();
  };
  const auto& path = request.path;
  const auto& method = request.method;
  if (path == "/_emulator/faults") {
    if (method == "POST")
      control_.add_fault(body_object());
    else if (method == "DELETE")
      control_.clear_faults();
    else if (method != "GET")
      return text_reply(405, "Method Not Allowed\n");
    return json_reply(json::object{{"faults", control_.faults_json()}});
  }
  if (path == "/_emulator/outcomes") {
    if (method == "POST")
      control_.add_outcome(body_object());
    else if (method == "DELETE")
      control_.clear_outcomes();
    else if (method != "GET")
      return text_reply(405, "Method Not Allowed\n");
    return json_reply(json::object{{"outcomes", control_.outcomes_json()}});
  }
  if (path == "/_emulator/requests") {
    if (method == "DELETE")
      control_.clear_log();
    else if (method != "GET")
      return text_reply(405, "Method Not Allowed\n");
    return json_reply(json::object{{"requests", control_.log_json()}});
  }
  if (path == "/_emulator/state" && method == "GET") {
    json::array pipelines, versions, experiments, runs, recurring, workflows, scheduled;
    for (const auto& [id, item] : store_.pipelines) pipelines.push_back(to_v2(item, options_.version));
    for (const auto& [id, item] : store_.versions) versions.push_back(to_v2(item, options_.version));
    for (const auto& [id, item] : store_.experiments) experiments.push_back(to_v2(item));
    for (const auto& [id, item] : store_.runs) runs.push_back(to_v2(item, now()));
    for (const auto& [id, item] : store_.recurring_runs) recurring.push_back(to_v2(item));
    std::vector<const Workflow*> ordered;
    for (const auto& [name, item] : store_.workflows) ordered.push_back(&item);
    std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) { return a->seq < b->seq; });
    for (const auto* item : ordered) workflows.push_back(to_json(*item));
    for (const auto& [name, item] : store_.scheduled_workflows) scheduled.push_back(to_json(item));
    return json_reply(json::object{{"pipelines", pipelines},
                                   {"pipeline_versions", versions},
                                   {"experiments", experiments},
                                   {"runs", runs},
                                   {"recurring_runs", recurring},
                                   {"workflows", workflows},
                                   {"scheduled_workflows", scheduled},
                                   {"server_version", to_string(options_.version)},
                                   {"multi_user", multi_user()}});
  }
  return text_reply(404, "unknown emulator control endpoint\n");
}

Reply json_reply(const json::value& body) {
  Reply reply;
  reply.body = json::serialize(body);
  return reply;
}

void check_fields(const App& app, const json::object& object,
                  std::initializer_list<std::string_view> fields) {
  if (!is_gateway_v2(app.version())) return;
  for (const auto& [key, value] : object) {
    bool known = false;
    for (auto field : fields)
      if (key == field || key == camel_case(field)) known = true;
    if (!known)
      throw ApiFailure(Code::invalid_argument,
                       "proto: (line 1:2): unknown field \"" + std::string(key) + "\"");
  }
}

json::object parse_body(const App& app, const std::string& body,
                        std::initializer_list<std::string_view> fields) {
  boost::system::error_code ec;
  auto value = json::parse(body.empty() ? std::string("{}") : body, ec);
  if (ec || !value.is_object())
    throw ApiFailure(Code::invalid_argument,
                     "proto: syntax error (line 1:1): unexpected token " + std::string(body.substr(0, 20)));
  check_fields(app, value.as_object(), fields);
  return value.as_object();
}

const json::value* member_of(const json::object& object, std::string_view snake) {
  const auto* value = object.if_contains(snake);
  return value != nullptr ? value : object.if_contains(camel_case(snake));
}

std::string text_of(const json::object& object, std::string_view snake) {
  const auto* value = member_of(object, snake);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string{};
}

}  // namespace kfp::emulator
