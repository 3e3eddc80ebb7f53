#include "errors.hpp"

#include <boost/json.hpp>

namespace kfp::emulator {

namespace json = boost::json;

int http_status(Code code) {
  switch (code) {
    case Code::invalid_argument: return 400;
    case Code::not_found: return 404;
    case Code::already_exists: return 409;
    case Code::permission_denied: return 403;
    case Code::failed_precondition: return 400;
    case Code::aborted: return 409;
    case Code::unimplemented: return 501;
    case Code::internal: return 500;
    case Code::unavailable: return 503;
    case Code::unauthenticated: return 401;
  }
  return 500;
}

ApiError api_error(Code code, std::string message, std::string user_message) {
  ApiError error;
  error.code = code;
  if (user_message.empty()) user_message = message;
  error.message = std::move(message);
  error.user_message = std::move(user_message);
  return error;
}

ApiError invalid_input(const std::string& message) {
  return api_error(Code::invalid_argument, "Invalid input error: " + message, message);
}

ApiError resource_not_found(std::string_view type, const std::string& id) {
  std::string external = std::string(type) + " " + id + " not found.";
  return api_error(Code::not_found, "ResourceNotFoundError: " + external, external);
}

ApiError already_exist(const std::string& message) {
  return api_error(Code::already_exists, "Already exist error: " + message, message);
}

ApiError internal_server(const std::string& cause, const std::string& message) {
  return api_error(Code::internal, "InternalServerError: " + message + ": " + cause, "Internal Server Error");
}

ApiError unauthenticated(const std::string& cause, const std::string& external) {
  return api_error(Code::unauthenticated, "Unauthenticated: " + external + ": " + cause, external);
}

ApiError permission_denied(const std::string& cause, const std::string& external) {
  return api_error(Code::permission_denied, "PermissionDenied: " + external + ": " + cause, external);
}

ApiError plain_go_error(const std::string& message) {
  ApiError error = api_error(Code::internal, message);
  error.go_error = true;
  return error;
}

ApiError wrap(ApiError error, std::string_view prefix) {
  if (error.go_error) {
    // github.com/pkg/errors %+v: the cause, then each wrap's message and its stack.
    error.message += "\n" + std::string(prefix) +
                     "\ngithub.com/kubeflow/pipelines/backend/src/common/util.Wrap"
                     "\n\t/go/src/github.com/kubeflow/pipelines/backend/src/common/util/error.go:275";
    return error;
  }
  error.message = std::string(prefix) + ": " + error.message;
  return error;
}

Reply gateway_error(ServerVersion version, const ApiError& original) {
  ApiError error = original;
  if (error.go_error) {
    // util.ToGRPCError's default branch: the same text as message and external message.
    error.message = "Internal error: " + error.message;
    error.user_message = error.message;
  }
  json::object body;
  auto code = static_cast<int>(error.code);
  // grpc-gateway v1.16 (<= 2.5) adds "error" equal to "message"; v2 (2.14+) does not.
  if (!is_gateway_v2(version)) body["error"] = error.message;
  body["code"] = code;
  body["message"] = error.message;
  json::object detail;
  if (is_v1_server(version)) {
    // 1.8's util.ToGRPCError attaches an api.Error {error_message, error_details}.
    detail["@type"] = "type.googleapis.com/api.Error";
    detail["error_message"] = error.user_message;
    detail["error_details"] = error.message;
  } else {
    // 2.x attaches a google.rpc.Status holding the external message.
    detail["@type"] = "type.googleapis.com/google.rpc.Status";
    detail["code"] = code;
    detail["message"] = error.user_message;
  }
  body["details"] = json::array{detail};
  Reply reply;
  reply.status = error.status_override != 0 ? error.status_override : http_status(error.code);
  reply.body = json::serialize(body);
  return reply;
}

Reply gateway_not_found(ServerVersion version) {
  if (is_gateway_v2(version)) {
    Reply reply;
    reply.status = 404;
    reply.body = R"({"code":5,"message":"Not Found"})";
    return reply;
  }
  return text_reply(404, "Not Found\n");
}

Reply gateway_method_not_allowed(ServerVersion version) {
  if (is_gateway_v2(version)) {
    Reply reply;
    reply.status = 501;
    reply.body = R"({"code":12,"message":"Method Not Allowed"})";
    return reply;
  }
  return text_reply(405, "Method Not Allowed\n");
}

Reply upload_error(int status, const std::string& message, bool json_content_type, bool with_stack) {
  std::string details = message;
  if (with_stack)
    details +=
        "\ngithub.com/kubeflow/pipelines/backend/src/apiserver/server.(*PipelineUploadServer).uploadPipeline"
        "\n\t/go/src/github.com/kubeflow/pipelines/backend/src/apiserver/server/pipeline_upload_server.go"
        "\nnet/http.HandlerFunc.ServeHTTP\n\t/usr/local/go/src/net/http/server.go";
  Reply reply;
  reply.status = status;
  // encoding/json writes the struct's fields in declaration order.
  reply.body = json::serialize(json::object{{"error_message", message}, {"error_details", details}});
  reply.content_type = json_content_type ? "application/json" : sniffed_content_type(reply.body);
  return reply;
}

Reply http_error(int status, const std::string& message) {
  Reply reply = text_reply(status, message + "\n");
  reply.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return reply;
}

Reply text_reply(int status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.content_type = "text/plain; charset=utf-8";
  reply.body = std::move(body);
  return reply;
}

std::string sniffed_content_type(std::string_view body) {
  // net/http/sniff.go: leading white space is skipped; '<'-led markup and binary signatures are
  // not reachable here; text without binary bytes is "text/plain; charset=utf-8".
  for (unsigned char c : body)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != 0x1b)
      return "application/octet-stream";
  return "text/plain; charset=utf-8";
}

}  // namespace kfp::emulator
