#pragma once
// Typed calls over a Connection. An API method states only what differs between API versions and
// releases — the request (built by a named builder), the list field it reads and the parser — and
// these do the plumbing once: send, turn a non-2xx answer into a Failure, parse, page, and for a
// create, look the object up before any re-send (Connection::create_or_find).

#include "api/connection.hpp"
#include "api/multipart.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace kfp::api {

// Named request builders: what a request is, never its position in an initialiser.
[[nodiscard]] ApiRequest get_request(std::string path, QueryParams query = {},
                                     Endpoint endpoint = Endpoint::json_api);
[[nodiscard]] ApiRequest post_json_request(std::string path, boost::json::value body);
// A POST without a body: :terminate, :enable and the like.
[[nodiscard]] ApiRequest action_request(std::string path);
[[nodiscard]] ApiRequest delete_request(std::string path);
// A multipart upload to one of the upload endpoints (their own error bodies, Endpoint::upload).
[[nodiscard]] ApiRequest upload_request(std::string path, QueryParams query, MultipartBody multipart);

// A run or recurring-run create's refinement: the template's refusal of the parameters
// (v2_template.go's input checks, argo_template.go's VerifyParameters) reads as invalid_parameters,
// whether the release answers it with 400 or, wrapped as internal, with 500.
[[nodiscard]] FailureRefinement parameter_refusal();

// The request with more query parameters appended.
[[nodiscard]] ApiRequest with_query(ApiRequest request, const QueryParams& more);

template <class Parse>
using Parsed = std::decay_t<std::invoke_result_t<Parse&, const boost::json::value&>>;

// Sends a request whose answer does not matter beyond its 2xx status.
[[nodiscard]] util::Result<void> perform(Connection& connection, const ApiRequest& request,
                                         std::string_view what);

// The object the request answers with, parsed.
template <class Parse>
[[nodiscard]] util::Result<Parsed<Parse>> get_object(Connection& connection, const ApiRequest& request,
                                                     std::string_view what, Parse&& parse) {
  auto reply = connection.call(request, what);
  if (!reply) return reply.error();
  return parse(reply->json);
}

// As get_object, but a 404 is "not there" (nullopt) rather than a failure: get-by-name.
template <class Parse>
[[nodiscard]] util::Result<std::optional<Parsed<Parse>>> find_object(Connection& connection,
                                                                     const ApiRequest& request,
                                                                     std::string_view what, Parse&& parse) {
  auto reply = connection.call(request, what);
  if (!reply) {
    if (reply.error().kind == util::ErrorKind::not_found) return std::optional<Parsed<Parse>>();
    return reply.error();
  }
  return std::optional<Parsed<Parse>>(parse(reply->json));
}

// The items of the list field `list_key` in a list answer; empty when the server omitted it (it
// omits empty lists).
[[nodiscard]] const boost::json::array& list_items(const boost::json::value& answer,
                                                   std::string_view list_key);

// The first item of the list the request answers with, parsed; nullopt for an empty list.
template <class Parse>
[[nodiscard]] util::Result<std::optional<Parsed<Parse>>> first_of(Connection& connection,
                                                                  const ApiRequest& request,
                                                                  std::string_view list_key,
                                                                  std::string_view what, Parse&& parse) {
  auto reply = connection.call(request, what);
  if (!reply) return reply.error();
  const auto& items = list_items(reply->json, list_key);
  if (items.empty()) return std::optional<Parsed<Parse>>();
  return std::optional<Parsed<Parse>>(parse(items.front()));
}

// What to do with each listed item: true to stop paging.
using ItemVisitor = std::function<bool(const boost::json::value& item)>;

// The most pages a listing reads before it gives up (with kind server): a bound on a server that
// keeps answering with a next page.
inline constexpr int max_list_pages = 100;

// Pages through the list the request answers with (page_token, the request's own query repeated on
// every page as the server requires), giving each item to `visit` until it says stop or the list ends.
[[nodiscard]] util::Result<void> for_each_item(Connection& connection, const ApiRequest& request,
                                               std::string_view list_key, std::string_view what,
                                               const ItemVisitor& visit);

// Sends a create and parses the object it made. When the outcome is unknown (lost response, 5xx)
// or the server answers 409, `lookup` (returning Result<optional<T>>) is asked first and an object it
// finds is the result: a create is never blindly re-sent.
template <class Parse, class Lookup>
[[nodiscard]] util::Result<Parsed<Parse>> create_object(Connection& connection, const ApiRequest& request,
                                                        std::string_view what, Parse&& parse,
                                                        Lookup&& lookup) {
  std::optional<Parsed<Parse>> found;
  auto reply = connection.create_or_find(request, what, [&]() -> util::Result<bool> {
    auto result = lookup();
    if (!result) return result.error();
    if (*result) found = std::move(**result);
    return found.has_value();
  });
  if (!reply) return reply.error();
  if (!*reply) {
    // Pipeline, PipelineVersion, Experiment and Run say so (kfp_api.hpp): the caller may have to
    // tell its own object from another process's.
    if constexpr (requires { found->found_existing; }) found->found_existing = true;
    return std::move(*found);
  }
  return parse((*reply)->json);
}

// A duplicate name on an upload endpoint answered with 500 rather than 409: KFP 1.8 and 2.0 have
// no 409 branch there (kfp-1.8.5 server/pipeline_upload_server.go:119-122,200-203; kfp-2.0.5
// :133-136,224-227), the store's "Already exist error" is in the message (2.0.5
// storage/pipeline_store.go:663,757).
[[nodiscard]] bool is_masked_duplicate(const util::Failure& failure);

// create_object on an upload endpoint: a masked duplicate is treated as the 409 it means, so the
// object the look-up finds (our own lost attempt, or a race) is the result; a kind conflict
// failure when the look-up finds nothing.
template <class Parse, class Lookup>
[[nodiscard]] util::Result<Parsed<Parse>> create_upload(Connection& connection, const ApiRequest& request,
                                                        std::string_view what, Parse&& parse,
                                                        Lookup&& lookup) {
  auto created = create_object(connection, request, what, parse, lookup);
  if (created || !is_masked_duplicate(created.error())) return created;
  auto found = lookup();
  if (found && *found) {
    if constexpr (requires { (*found)->found_existing; }) (*found)->found_existing = true;
    return std::move(**found);
  }
  util::Failure failure = created.error();
  failure.kind = util::ErrorKind::conflict;
  return failure;
}

}  // namespace kfp::api
