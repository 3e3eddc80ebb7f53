#include "listing.hpp"

#include "timeutil.hpp"
#include "util/base64.hpp"

#include <charconv>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

[[noreturn]] void invalid(const std::string& message) {
  throw ApiFailure(Code::invalid_argument, "Invalid input error: " + message, message);
}

std::optional<Operation> parse_operation(const json::value& value) {
  static const std::pair<std::string_view, Operation> names[] = {
      {"EQUALS", Operation::equals},
      {"NOT_EQUALS", Operation::not_equals},
      {"GREATER_THAN", Operation::greater},
      {"GREATER_THAN_EQUALS", Operation::greater_equals},
      {"LESS_THAN", Operation::less},
      {"LESS_THAN_EQUALS", Operation::less_equals},
      {"IN", Operation::in},
      {"IS_SUBSTRING", Operation::substring}};
  if (value.is_string()) {
    for (const auto& [name, operation] : names)
      if (value.as_string() == name) return operation;
    return std::nullopt;
  }
  if (value.is_int64()) {
    auto number = value.as_int64();
    if (number >= 1 && number <= 8) return names[number - 1].second;
  }
  return std::nullopt;
}

const json::value* member(const json::object& object, std::string_view snake, std::string_view camel) {
  if (const auto* value = object.if_contains(snake)) return value;
  return object.if_contains(camel);
}

FieldValue scalar(const json::value& value, bool as_timestamp) {
  if (value.is_int64()) return value.as_int64();
  if (value.is_uint64()) return static_cast<std::int64_t>(value.as_uint64());
  if (value.is_double()) return static_cast<std::int64_t>(value.as_double());
  if (value.is_string()) {
    std::string text(value.as_string());
    if (as_timestamp) {
      if (auto time = parse_rfc3339(text)) return unix_seconds(*time);
      invalid("bad timestamp_value " + text);
    }
    return text;
  }
  invalid("unsupported predicate value " + json::serialize(value));
}

Predicate parse_predicate(const json::object& object, FilterDialect dialect) {
  Predicate predicate;
  const auto* key = object.if_contains("key");
  if (key == nullptr || !key->is_string()) invalid("predicate without key");
  predicate.key = std::string(key->as_string());
  const auto* op =
      dialect == FilterDialect::v2beta1 ? object.if_contains("operation") : object.if_contains("op");
  auto operation = op == nullptr ? std::nullopt : parse_operation(*op);
  if (!operation) invalid("invalid predicate operation");
  predicate.operation = *operation;
  bool is_list = false;
  for (auto [snake, camel] : {std::pair{"int_values", "intValues"}, std::pair{"long_values", "longValues"},
                              std::pair{"string_values", "stringValues"}}) {
    if (const auto* list = member(object, snake, camel)) {
      is_list = true;
      const auto* values = list->is_object() ? list->as_object().if_contains("values") : nullptr;
      if (values != nullptr && values->is_array())
        for (const auto& item : values->as_array()) predicate.values.push_back(scalar(item, false));
    }
  }
  for (auto [snake, camel] :
       {std::pair{"int_value", "intValue"}, std::pair{"long_value", "longValue"},
        std::pair{"string_value", "stringValue"}, std::pair{"timestamp_value", "timestampValue"}}) {
    if (const auto* value = member(object, snake, camel))
      predicate.values.push_back(scalar(*value, std::string_view(snake) == "timestamp_value"));
  }
  if (predicate.operation == Operation::in && !is_list)
    invalid("Filter predicate with IN operation needs a list of values (e.g. string_values)");
  if (predicate.operation != Operation::in && is_list)
    invalid("Filter predicate with a list of values needs the IN operation");
  if (predicate.values.empty() && predicate.operation != Operation::in)
    predicate.values.emplace_back(std::string{});
  return predicate;
}

std::vector<Predicate> parse_filter(const std::string& text, FilterDialect dialect) {
  // The server unescapes the (already gateway-decoded) value once more before parsing the JSON.
  auto unescaped = query_unescape(text);
  if (!unescaped) invalid("failed to parse valid filter from \"" + text + "\": invalid URL escape");
  boost::system::error_code ec;
  auto value = json::parse(*unescaped, ec);
  if (ec || !value.is_object())
    invalid("failed to parse valid filter from \"" + *unescaped + "\": " + ec.message());
  std::vector<Predicate> predicates;
  if (const auto* list = value.as_object().if_contains("predicates")) {
    if (!list->is_array()) invalid("predicates must be a list");
    for (const auto& item : list->as_array()) {
      if (!item.is_object()) invalid("predicate must be an object");
      predicates.push_back(parse_predicate(item.as_object(), dialect));
    }
  }
  return predicates;
}

bool known_key(const std::string& key, const std::set<std::string>& keys, bool tags) {
  return keys.contains(key) || (tags && key.starts_with("tags.") && key.size() > 5);
}

std::int64_t to_number(const FieldValue& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value)) return *number;
  const auto& text = std::get<std::string>(value);
  std::int64_t number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end != text.data() + text.size()) {
    if (auto time = parse_rfc3339(text)) return unix_seconds(*time);
    return 0;
  }
  return number;
}

int compare(const FieldValue& field, const FieldValue& value) {
  if (std::holds_alternative<std::int64_t>(field)) {
    auto a = std::get<std::int64_t>(field);
    auto b = to_number(value);
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  std::string b = std::holds_alternative<std::string>(value) ? std::get<std::string>(value)
                                                             : std::to_string(std::get<std::int64_t>(value));
  return std::get<std::string>(field).compare(b);
}

}  // namespace

bool matches(const std::vector<Predicate>& predicates,
             const std::function<std::optional<FieldValue>(const std::string&)>& field) {
  for (const auto& predicate : predicates) {
    auto actual = field(predicate.key);
    if (!actual) actual = FieldValue{std::string{}};
    const auto& first = predicate.values.empty() ? FieldValue{std::string{}} : predicate.values.front();
    bool ok = false;
    switch (predicate.operation) {
      case Operation::equals: ok = compare(*actual, first) == 0; break;
      case Operation::not_equals: ok = compare(*actual, first) != 0; break;
      case Operation::greater: ok = compare(*actual, first) > 0; break;
      case Operation::greater_equals: ok = compare(*actual, first) >= 0; break;
      case Operation::less: ok = compare(*actual, first) < 0; break;
      case Operation::less_equals: ok = compare(*actual, first) <= 0; break;
      case Operation::in:
        ok = std::any_of(predicate.values.begin(), predicate.values.end(),
                         [&](const FieldValue& value) { return compare(*actual, value) == 0; });
        break;
      case Operation::substring: {
        const auto* text = std::get_if<std::string>(&*actual);
        const auto* needle = std::get_if<std::string>(&first);
        ok = text != nullptr && needle != nullptr && text->find(*needle) != std::string::npos;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

std::string page_token(const ListRequest& request, std::size_t next_offset) {
  json::object token{{"offset", next_offset},
                     {"filter", request.filter_text},
                     {"sort_by", request.sort_text},
                     {"page_size", request.page_size}};
  return util::base64_encode(json::serialize(token));
}

ListRequest parse_list_request(const Request& request, const std::set<std::string>& keys,
                               FilterDialect dialect, bool tags) {
  ListRequest list;
  auto filter = request.param("filter");
  auto sort = request.param("sort_by");
  auto size = request.param("page_size");
  auto token = request.param("page_token");
  if (size && !size->empty()) {
    long long number = 0;
    auto [end, ec] = std::from_chars(size->data(), size->data() + size->size(), number);
    if (ec != std::errc{} || end != size->data() + size->size())
      invalid("page_size must be an integer: " + *size);
    if (number < 0) invalid("The page size should be greater than 0. Got " + *size);
    list.page_size = number == 0 ? default_page_size
                                 : std::min<std::size_t>(static_cast<std::size_t>(number), max_page_size);
  }
  if (token && !token->empty()) {
    auto decoded = util::base64_decode(*token);
    boost::system::error_code ec;
    json::value value = decoded ? json::parse(*decoded, ec) : json::value{};
    if (!decoded || ec || !value.is_object()) invalid("Invalid input error: Invalid package token.");
    const auto& object = value.as_object();
    auto text_of = [&](std::string_view name) {
      const auto* item = object.if_contains(name);
      return item != nullptr && item->is_string() ? std::string(item->as_string()) : std::string{};
    };
    auto token_filter = text_of("filter");
    auto token_sort = text_of("sort_by");
    if ((filter && !filter->empty() && *filter != token_filter) ||
        (sort && !sort->empty() && *sort != token_sort))
      invalid(
          "page token does not match the supplied sort by and/or filtering criteria. Either "
          "specify the same criteria or leave the latter empty if page token is specified");
    filter = token_filter;
    sort = token_sort;
    const auto* offset = object.if_contains("offset");
    if (offset != nullptr && offset->is_number()) list.offset = offset->to_number<std::size_t>();
    if (!size || size->empty()) {
      const auto* saved = object.if_contains("page_size");
      if (saved != nullptr && saved->is_number()) list.page_size = saved->to_number<std::size_t>();
    }
  }
  list.filter_text = filter.value_or("");
  list.sort_text = sort.value_or("");
  if (!list.filter_text.empty()) list.predicates = parse_filter(list.filter_text, dialect);
  for (const auto& predicate : list.predicates)
    if (!known_key(predicate.key, keys, tags))
      invalid("no support for filtering on unrecognized field \"" + predicate.key + "\"");
  list.sort_key = "created_at";
  if (!list.sort_text.empty()) {
    std::string text = list.sort_text;
    auto space = text.find(' ');
    std::string key = text.substr(0, space);
    std::string order = space == std::string::npos ? "" : text.substr(space + 1);
    if (order == "desc")
      list.descending = true;
    else if (!order.empty() && order != "asc")
      invalid("Received invalid sort by format " + text);
    if (!keys.contains(key)) invalid("Invalid sorting field: \"" + key + "\" on listing request");
    list.sort_key = key;
  }
  return list;
}

}  // namespace kfp::emulator
