#pragma once
// The emulated API server, socket-free: routes a Request to its handler and returns the Reply,
// applying injected faults, the Istio and KFP auth checks, the latency and the request log.

#include "auth.hpp"
#include "control.hpp"
#include "errors.hpp"
#include "message.hpp"
#include "options.hpp"
#include "server.hpp"
#include "store.hpp"

#include <boost/json.hpp>

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace kfp::emulator {

class App;

struct Context {
  App& app;
  const Request& request;
  std::vector<std::string> args;  // path parameters, percent-decoded, in pattern order
};

using RouteHandler = std::function<Reply(Context&)>;

// How a route reports failures: the gateway body, or (the upload endpoints, plain Go handlers)
// whatever the handler returns itself.
enum class ErrorShape { gateway, upload };

class App : public Handler {
 public:
  explicit App(Options options);

  [[nodiscard]] Reply handle(const Request& request);
  // How long the request travels before the server acts on it; the rest of --latency is added to
  // the reply. Control endpoints (/_emulator/) are not delayed.
  [[nodiscard]] std::chrono::milliseconds request_latency(const Request& request) const override;
  void handle(Request request, Respond respond) override { respond(handle(request)); }

  // The plain handlers main.go puts on the top mux before the gateway, under `base`
  // ("/apis/v2beta1"): healthz, upload and upload_version, for any HTTP method.
  void add_plain_handlers(std::string_view base, RouteHandler healthz, RouteHandler upload,
                          RouteHandler upload_version);
  // Registers `pattern` such as "/apis/v2beta1/runs/{}:terminate"; "{}" captures one segment.
  void add(std::string method, std::string pattern, ErrorShape shape, RouteHandler handler);

  [[nodiscard]] const Options& options() const { return options_; }
  [[nodiscard]] ServerVersion version() const { return options_.version; }
  [[nodiscard]] bool multi_user() const { return auth_.multi_user(); }
  [[nodiscard]] Store& store() { return store_; }
  [[nodiscard]] Control& control() { return control_; }
  [[nodiscard]] Time now() const { return Clock::now(); }

  // In multi-user mode: authenticates the caller and checks `verb` on `resource` in `ns` as the
  // release's ResourceManager.IsAuthorized does; throws ApiFailure with its unwrapped error (the
  // caller wraps it as its server does). Single-user: does nothing.
  void authorize(const Request& request, std::string_view resource, std::string_view verb,
                 const std::string& ns, IdentitySources sources = IdentitySources::header_then_token);
  // The same check, returning the failure instead of throwing it.
  [[nodiscard]] std::optional<ApiError> check_access(
      const Request& request, std::string_view resource, std::string_view verb, const std::string& ns,
      IdentitySources sources = IdentitySources::header_then_token);

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    ErrorShape shape;
    RouteHandler handler;
  };

  Reply dispatch(const Request& request);
  Reply control_endpoint(const Request& request);

  Options options_;
  Authenticator auth_;
  Store store_;
  Control control_;
  std::vector<Route> routes_;
};

// 200 with a JSON body.
[[nodiscard]] Reply json_reply(const boost::json::value& body);
// The request body as a JSON object; 400 when unparsable. On gateway-v2 servers, keys outside
// `fields` (snake_case, lowerCamelCase accepted) are refused with 400, as protojson does.
[[nodiscard]] boost::json::object parse_body(const App& app, const std::string& body,
                                             std::initializer_list<std::string_view> fields);
// Same unknown-field check for a nested message.
void check_fields(const App& app, const boost::json::object& object,
                  std::initializer_list<std::string_view> fields);
// A member by its snake_case or lowerCamelCase name (protojson takes both); null when absent.
[[nodiscard]] const boost::json::value* member_of(const boost::json::object& object, std::string_view snake);
// A string member (snake_case or lowerCamelCase), empty when absent.
[[nodiscard]] std::string text_of(const boost::json::object& object, std::string_view snake);

void register_v2_routes(App& app);
void register_v1_routes(App& app);
// GET /apis/v1alpha1/runs/{run_id}/nodes/{node_id}/log (run_logs.cpp).
void register_log_routes(App& app);

}  // namespace kfp::emulator
