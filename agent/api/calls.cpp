#include "api/calls.hpp"

#include "api/json_fields.hpp"

#include <fmt/format.h>
#include <boost/algorithm/string/predicate.hpp>

#include <cctype>

namespace kfp::api {

ApiRequest get_request(std::string path, QueryParams query, Endpoint endpoint) {
  ApiRequest request;
  request.path = std::move(path);
  request.query = std::move(query);
  request.endpoint = endpoint;
  return request;
}

ApiRequest post_json_request(std::string path, boost::json::value body) {
  ApiRequest request;
  request.method = http::Method::post;
  request.path = std::move(path);
  request.json = std::move(body);
  return request;
}

ApiRequest action_request(std::string path) {
  ApiRequest request;
  request.method = http::Method::post;
  request.path = std::move(path);
  return request;
}

ApiRequest delete_request(std::string path) {
  ApiRequest request;
  request.method = http::Method::del;
  request.path = std::move(path);
  return request;
}

ApiRequest upload_request(std::string path, QueryParams query, MultipartBody multipart) {
  ApiRequest request;
  request.method = http::Method::post;
  request.path = std::move(path);
  request.query = std::move(query);
  request.body = std::move(multipart.body);
  request.content_type = std::move(multipart.content_type);
  request.endpoint = Endpoint::upload;
  return request;
}

ApiRequest with_query(ApiRequest request, const QueryParams& more) {
  request.query.insert(request.query.end(), more.begin(), more.end());
  return request;
}

bool is_masked_duplicate(const util::Failure& failure) {
  constexpr int internal_server_error = 500;
  return failure.http_status == internal_server_error &&
         boost::algorithm::icontains(failure.message, "already exist");
}

FailureRefinement parameter_refusal() {
  return [](util::Failure& failure, const ServerAnswer& answer) {
    if (answer.status != 400 && answer.status != 500) return;
    std::string lower = answer.message;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const bool about_parameters = lower.find("input parameter") != std::string::npos ||
                                  lower.find("parameter(s) provided") != std::string::npos ||
                                  (lower.find("parameter") != std::string::npos &&
                                   (lower.find("invalid input error") != std::string::npos ||
                                    lower.find("is not optional") != std::string::npos));
    if (!about_parameters) return;
    failure.kind = util::ErrorKind::invalid_parameters;
    failure.hint =
        "check the parameters against the pipeline's declared inputs (kfp-publish validate PACKAGE)";
  };
}

util::Result<void> perform(Connection& connection, const ApiRequest& request, std::string_view what) {
  auto reply = connection.call(request, what);
  if (!reply) return reply.error();
  return {};
}

const boost::json::array& list_items(const boost::json::value& answer, std::string_view list_key) {
  static const boost::json::array none;
  const auto& object = object_of(answer);
  auto it = object.find(list_key);
  return it != object.end() && it->value().is_array() ? it->value().as_array() : none;
}

util::Result<void> for_each_item(Connection& connection, const ApiRequest& request, std::string_view list_key,
                                 std::string_view what, const ItemVisitor& visit) {
  std::string token;
  for (int page = 0; page < max_list_pages; ++page) {
    // The server refuses a page token whose filter or sort differ from the first page's
    // (list_request_util.go), so every page repeats the request's query exactly.
    ApiRequest next = request;
    if (!token.empty()) next.query.emplace_back("page_token", token);
    auto reply = connection.call(next, what);
    if (!reply) return reply.error();
    for (const auto& item : list_items(reply->json, list_key)) {
      if (visit(item)) return {};
    }
    token = string_field(object_of(reply->json), "next_page_token");
    if (token.empty()) return {};
  }
  return util::fail(util::ErrorKind::server,
                    fmt::format("{}: the list has more than {} pages", what, max_list_pages));
}

}  // namespace kfp::api
