#include "publish/parameters.hpp"

#include "util/file.hpp"
#include "yaml/json.hpp"
#include "yaml/load.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <map>
#include <set>

namespace kfp::publish {

namespace {

constexpr std::size_t max_params_file_bytes = std::size_t{4} << 20;

util::Failure invalid(std::string message, std::string hint = {}) {
  return util::fail(util::ErrorKind::invalid_parameters, std::move(message), std::move(hint));
}

std::string declared_list(const std::vector<package::InputParameter>& declared) {
  if (declared.empty()) return "the pipeline declares no parameters";
  std::string out = "declared: ";
  for (std::size_t i = 0; i < declared.size(); ++i) {
    out += fmt::format("{}{} ({}{})", i ? ", " : "", declared[i].name, package::to_string(declared[i].type),
                       declared[i].optional ? ", optional" : "");
  }
  return out;
}

std::string_view json_kind(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null: return "null";
    case boost::json::kind::bool_: return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64: return "an integer";
    case boost::json::kind::double_: return "a number";
    case boost::json::kind::string: return "a string";
    case boost::json::kind::array: return "a list";
    case boost::json::kind::object: return "a mapping";
  }
  return "a value";
}

// JSON has no infinity or NaN: a value such as 1e999 parses to infinity, which the server cannot
// read back (Go's encoding/json refuses such numbers). Depth is bounded by the parsers' limits.
bool finite(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_: return std::isfinite(value.get_double());
    case boost::json::kind::array:
      for (const auto& item : value.get_array())
        if (!finite(item)) return false;
      return true;
    case boost::json::kind::object:
      for (const auto& item : value.get_object())
        if (!finite(item.value())) return false;
      return true;
    default: return true;
  }
}

util::Result<boost::json::value> require_finite(const std::string& name,
                                                util::Result<boost::json::value> value,
                                                std::string_view shown) {
  if (value && !finite(*value)) {
    return invalid(
        fmt::format("parameter {}: {} is out of range (a JSON number must be finite)", name, shown));
  }
  return value;
}

// Checks (and where lossless, converts) a typed value from a params file.
util::Result<boost::json::value> check_typed_value(const std::string& name, const boost::json::value& value,
                                                   package::ParameterType type) {
  using package::ParameterType;
  auto wrong = [&] {
    return invalid(fmt::format("parameter {} must be {}, got {} ({})", name, package::to_string(type),
                               json_kind(value), boost::json::serialize(value)));
  };
  switch (type) {
    case ParameterType::string:
      if (value.is_string()) return value;
      return wrong();
    case ParameterType::number_integer:
      if (value.is_int64() || value.is_uint64()) return value;
      if (value.is_double() && std::trunc(value.as_double()) == value.as_double() &&
          std::abs(value.as_double()) < 9e15) {
        return boost::json::value(static_cast<std::int64_t>(value.as_double()));
      }
      if (value.is_string()) return convert_text(name, std::string(value.as_string()), type);
      return wrong();
    case ParameterType::number_double:
      if (value.is_number()) return value;
      if (value.is_string()) return convert_text(name, std::string(value.as_string()), type);
      return wrong();
    case ParameterType::boolean:
      if (value.is_bool()) return value;
      if (value.is_string()) return convert_text(name, std::string(value.as_string()), type);
      return wrong();
    case ParameterType::list:
      if (value.is_array()) return value;
      return wrong();
    case ParameterType::structure:
      if (value.is_object()) return value;
      return wrong();
  }
  return wrong();
}

util::Result<boost::json::value> check_typed(const std::string& name, const boost::json::value& value,
                                             package::ParameterType type) {
  return require_finite(name, check_typed_value(name, value, type), boost::json::serialize(value));
}

// The file as one YAML/JSON mapping (JSON is YAML), through the guarded loader and the one
// converter. A value written as a scalar keeps its text, so it is typed against the declared input
// exactly as --param name=value is; lists and mappings are YAML values.
util::Result<boost::json::object> read_params_file(const std::filesystem::path& path) {
  auto content = util::read_file(path, max_params_file_bytes, util::ErrorKind::invalid_parameters);
  if (!content) return content.error();
  const yaml::Source source = yaml::file_source(path.string(), util::ErrorKind::invalid_parameters);
  auto root = yaml::load_document(*content, source);
  if (!root) return root.error();
  if (!root->IsMap()) {
    return invalid(fmt::format("{}: the parameters file must be a mapping of name to value",
                               yaml::location(path.string(), root->Mark())));
  }
  auto values = yaml::to_json(*root, source, yaml::TopLevelScalars::keep_text);
  if (!values) return values.error();
  return std::move(values->as_object());
}

}  // namespace

namespace {

util::Result<boost::json::value> convert_text_value(const std::string& name, const std::string& text,
                                                    package::ParameterType type) {
  using package::ParameterType;
  auto wrong = [&](std::string_view expected) {
    return invalid(fmt::format("parameter {} must be {} ({}), got '{}'", name, package::to_string(type),
                               expected, text));
  };
  switch (type) {
    case ParameterType::string: return boost::json::value(text);
    case ParameterType::number_integer: {
      std::int64_t value = 0;
      auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc{} || p != text.data() + text.size() || text.empty()) return wrong("an integer");
      return boost::json::value(value);
    }
    case ParameterType::number_double: {
      boost::system::error_code ec;
      auto value = boost::json::parse(text, ec);
      if (ec || !value.is_number()) return wrong("a number");
      return boost::json::value(value.to_number<double>());
    }
    case ParameterType::boolean: {
      std::string lower = text;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true") return boost::json::value(true);
      if (lower == "false") return boost::json::value(false);
      return wrong("true or false");
    }
    case ParameterType::list:
    case ParameterType::structure: {
      boost::system::error_code ec;
      auto value = boost::json::parse(text, ec);
      const bool ok = !ec && (type == ParameterType::list ? value.is_array() : value.is_object());
      if (!ok)
        return wrong(type == ParameterType::list ? "a JSON list such as [1,2]"
                                                 : "a JSON object such as {\"k\":\"v\"}");
      return value;
    }
  }
  return wrong("a value");
}

}  // namespace

util::Result<boost::json::value> convert_text(const std::string& name, const std::string& text,
                                              package::ParameterType type) {
  return require_finite(name, convert_text_value(name, text, type), fmt::format("'{}'", text));
}

util::Result<boost::json::object> resolve_parameters(const ParameterInput& input,
                                                     const std::vector<package::InputParameter>& declared) {
  std::map<std::string, const package::InputParameter*> by_name;
  for (const auto& parameter : declared) by_name[parameter.name] = &parameter;

  boost::json::object result;
  auto unknown = [&](const std::string& name) {
    return invalid(fmt::format("unknown parameter {}: {}", name, declared_list(declared)));
  };

  if (input.params_file) {
    auto file = read_params_file(*input.params_file);
    if (!file) return file.error();
    for (const auto& [key, value] : *file) {
      const std::string name(key);
      auto it = by_name.find(name);
      if (it == by_name.end()) return unknown(name);
      auto checked = check_typed(name, value, it->second->type);
      if (!checked) return checked.error();
      result[name] = std::move(*checked);
    }
  }
  std::set<std::string> given;
  for (const auto& assignment : input.assignments) {
    auto equals = assignment.find('=');
    if (equals == std::string::npos || equals == 0) {
      return invalid(fmt::format("--param '{}' is not name=value", assignment), "e.g. --param epochs=3");
    }
    const std::string name = assignment.substr(0, equals);
    if (!given.insert(name).second) {
      return invalid(fmt::format("--param {} is given more than once", name),
                     "give each parameter once: which value was meant cannot be guessed");
    }
    auto it = by_name.find(name);
    if (it == by_name.end()) return unknown(name);
    auto converted = convert_text(name, assignment.substr(equals + 1), it->second->type);
    if (!converted) return converted.error();
    result[name] = std::move(*converted);
  }
  std::vector<std::string> missing;
  for (const auto& parameter : declared) {
    if (!parameter.optional && !result.contains(parameter.name)) missing.push_back(parameter.name);
  }
  if (!missing.empty()) {
    std::string names;
    for (const auto& name : missing) names += fmt::format("{}{}", names.empty() ? "" : ", ", name);
    return invalid(fmt::format("missing required parameter{} {}: {}", missing.size() > 1 ? "s" : "", names,
                               declared_list(declared)),
                   "pass them with --param name=value or --params-file FILE");
  }
  return result;
}

}  // namespace kfp::publish
