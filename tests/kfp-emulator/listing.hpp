#pragma once
// List requests as the server reads them (NOTES.md B.4): the twice-unescaped JSON filter, sort_by,
// page_size limits and base64 JSON page tokens that must match the filter and sort they came from.

#include "errors.hpp"
#include "message.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace kfp::emulator {

// A model field's value: text, or a number (timestamps as Unix seconds).
using FieldValue = std::variant<std::string, std::int64_t>;

enum class Operation { equals, not_equals, greater, greater_equals, less, less_equals, in, substring };

struct Predicate {
  std::string key;
  Operation operation = Operation::equals;
  std::vector<FieldValue> values;  // one value, or several for IN
};

// Which API dialect the filter is in: v1beta1 spells the operation `op`.
enum class FilterDialect { v2beta1, v1beta1 };

struct ListRequest {
  std::vector<Predicate> predicates;
  std::string sort_key;
  bool descending = false;
  std::size_t offset = 0;
  std::size_t page_size = 20;
  std::string filter_text, sort_text;
};

inline constexpr std::size_t default_page_size = 20;
inline constexpr std::size_t max_page_size = 200;

// Reads filter, sort_by, page_size and page_token; `keys` are the model's filter/sort keys
// ("tags." prefix allowed when `tags` is true). Throws ApiFailure (400) as the server does.
[[nodiscard]] ListRequest parse_list_request(const Request& request, const std::set<std::string>& keys,
                                             FilterDialect dialect, bool tags);

// Returns the model field named by a filter/sort key; nullopt when the object has none.
template <class T>
using FieldGetter = std::function<std::optional<FieldValue>(const T&, const std::string& key)>;

[[nodiscard]] bool matches(const std::vector<Predicate>& predicates,
                           const std::function<std::optional<FieldValue>(const std::string&)>& field);

struct Page {
  std::size_t total = 0;
  std::string next_page_token;
};

[[nodiscard]] std::string page_token(const ListRequest& request, std::size_t next_offset);

// Filters, sorts (key, then creation order) and slices `items`.
template <class T>
std::vector<const T*> apply_list(const ListRequest& request, std::vector<const T*> items,
                                 const FieldGetter<T>& field, Page& page) {
  std::erase_if(items, [&](const T* item) {
    return !matches(request.predicates, [&](const std::string& key) { return field(*item, key); });
  });
  std::stable_sort(items.begin(), items.end(), [&](const T* a, const T* b) {
    auto fa = field(*a, request.sort_key);
    auto fb = field(*b, request.sort_key);
    if (fa != fb) return request.descending ? fb < fa : fa < fb;
    return request.descending ? b->seq < a->seq : a->seq < b->seq;
  });
  page.total = items.size();
  std::vector<const T*> slice;
  for (std::size_t i = request.offset; i < items.size() && slice.size() < request.page_size; ++i)
    slice.push_back(items[i]);
  auto next = request.offset + slice.size();
  page.next_page_token = next < items.size() ? page_token(request, next) : std::string{};
  return slice;
}

// One list endpoint: its response key, filter/sort keys, filter dialect, field getter and item
// shape. Every list endpoint of both APIs goes through list_json with one of these.
template <class T>
struct Listing {
  const char* items_key;
  const std::set<std::string>& keys;
  FilterDialect dialect;
  bool tags;
  FieldGetter<T> field;
  std::function<boost::json::object(const T&)> shape;
};

// Parses the request's list options, filters, sorts and pages `items`, and returns the list
// response: {items_key: [...], "total_size": N, "next_page_token": "..."} with zero values omitted.
template <class T>
boost::json::object list_json(const Request& request, const Listing<T>& listing,
                              std::vector<const T*> items) {
  auto list = parse_list_request(request, listing.keys, listing.dialect, listing.tags);
  Page page;
  auto slice = apply_list<T>(list, std::move(items), listing.field, page);
  boost::json::object out;
  if (!slice.empty()) {
    boost::json::array array;
    for (const auto* item : slice) array.push_back(listing.shape(*item));
    out[listing.items_key] = std::move(array);
  }
  if (page.total != 0) out["total_size"] = page.total;
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return out;
}

// The stored objects of `map` (id -> object) that `keep` accepts, as list_json takes them.
template <class Map, class Keep>
auto select(const Map& map, Keep keep) {
  std::vector<const typename Map::mapped_type*> items;
  for (const auto& [id, item] : map)
    if (keep(item)) items.push_back(&item);
  return items;
}

}  // namespace kfp::emulator
