#include "package/validate.hpp"

#include "yaml/json.hpp"
#include "yaml/load.hpp"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <array>
#include <optional>
#include <utility>

namespace kfp::package {

namespace {

namespace json = boost::json;

constexpr std::string_view required_schema_version = "2.1.0";
constexpr std::string_view argo_group_prefix = "argoproj.io/";
constexpr std::string_view argo_api_version = "argoproj.io/v1alpha1";
constexpr std::string_view argo_kind = "Workflow";
constexpr std::size_t max_pipeline_name_length = 128;

util::Failure invalid(std::string message, std::string hint = {}) {
  return util::fail(util::ErrorKind::invalid_package, std::move(message), std::move(hint));
}

// A proto field as protojson accepts it: lowerCamelCase JSON name or the original proto name.
struct Field {
  std::string_view json_name;
  std::string_view proto_name;
};

constexpr std::array pipeline_spec_fields{Field{"pipelineInfo", "pipeline_info"},
                                          Field{"deploymentSpec", "deployment_spec"},
                                          Field{"sdkVersion", "sdk_version"},
                                          Field{"schemaVersion", "schema_version"},
                                          Field{"components", "components"},
                                          Field{"root", "root"},
                                          Field{"defaultPipelineRoot", "default_pipeline_root"}};
constexpr std::array pipeline_info_fields{Field{"name", "name"}, Field{"displayName", "display_name"},
                                          Field{"description", "description"}};
constexpr std::array component_spec_fields{Field{"inputDefinitions", "input_definitions"},
                                           Field{"outputDefinitions", "output_definitions"},
                                           Field{"dag", "dag"}, Field{"executorLabel", "executor_label"},
                                           Field{"singlePlatformSpecs", "single_platform_specs"}};
constexpr std::array inputs_spec_fields{Field{"artifacts", "artifacts"}, Field{"parameters", "parameters"}};
constexpr std::array parameter_spec_fields{
    Field{"type", "type"}, Field{"parameterType", "parameter_type"}, Field{"defaultValue", "default_value"},
    Field{"isOptional", "is_optional"}, Field{"description", "description"}};

// ParameterType.ParameterTypeEnum, in proto number order.
constexpr std::array<std::string_view, 8> parameter_type_names{"PARAMETER_TYPE_ENUM_UNSPECIFIED",
                                                               "NUMBER_DOUBLE",
                                                               "NUMBER_INTEGER",
                                                               "STRING",
                                                               "BOOLEAN",
                                                               "LIST",
                                                               "STRUCT",
                                                               "TASK_FINAL_STATUS"};
// PrimitiveType.PrimitiveTypeEnum (the deprecated `type`), in proto number order.
constexpr std::array<std::string_view, 4> primitive_type_names{"PRIMITIVE_TYPE_UNSPECIFIED", "INT", "DOUBLE",
                                                               "STRING"};

const json::value* field(const json::object& object, const Field& name) {
  if (const json::value* value = object.if_contains(name.json_name)) return value;
  return object.if_contains(name.proto_name);
}

template <std::size_t N>
const json::value* field(const json::object& object, const std::array<Field, N>& fields,
                         std::string_view json_name) {
  for (const Field& candidate : fields) {
    if (candidate.json_name == json_name) return field(object, candidate);
  }
  return nullptr;
}

// Why protojson would refuse `object` as a message with `fields`, or nullopt when it would not.
template <std::size_t N>
std::optional<std::string> unknown_field(const json::object& object, const std::array<Field, N>& fields,
                                         std::string_view where) {
  for (const auto& entry : object) {
    bool known = false;
    for (const Field& candidate : fields) {
      if (entry.key() == candidate.json_name || entry.key() == candidate.proto_name) known = true;
    }
    if (!known) return fmt::format("unknown field \"{}\" in {}", std::string_view(entry.key()), where);
  }
  for (const Field& candidate : fields) {
    if (candidate.json_name != candidate.proto_name && object.contains(candidate.json_name) &&
        object.contains(candidate.proto_name)) {
      return fmt::format("field {} given twice (as {} and {}) in {}", candidate.json_name,
                         candidate.json_name, candidate.proto_name, where);
    }
  }
  return std::nullopt;
}

std::optional<std::string> expect_string(const json::value* value, std::string_view where) {
  if (value == nullptr || value->is_null() || value->is_string()) return std::nullopt;
  return fmt::format("{} is not a string", where);
}

std::optional<std::string> expect_object(const json::value* value, std::string_view where) {
  if (value == nullptr || value->is_null() || value->is_object()) return std::nullopt;
  return fmt::format("{} is not a mapping", where);
}

template <std::size_t N>
std::optional<std::string> expect_enum(const json::value* value, const std::array<std::string_view, N>& names,
                                       std::string_view where) {
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (value->is_string()) {
    for (std::string_view name : names) {
      if (value->get_string() == name) return std::nullopt;
    }
    return fmt::format("{} has unknown value \"{}\"", where, std::string_view(value->get_string()));
  }
  if (value->is_int64() || value->is_uint64()) return std::nullopt;  // protojson takes enum numbers
  return fmt::format("{} is not an enum name", where);
}

std::optional<std::string> check_component(const json::value& value, const std::string& where) {
  if (value.is_null()) return std::nullopt;
  if (!value.is_object()) return fmt::format("{} is not a mapping", where);
  const json::object& component = value.get_object();
  if (auto reason = unknown_field(component, component_spec_fields, where)) return reason;
  const json::value* dag = field(component, component_spec_fields, "dag");
  const json::value* executor = field(component, component_spec_fields, "executorLabel");
  if (dag != nullptr && !dag->is_null() && executor != nullptr && !executor->is_null()) {
    return fmt::format("{} sets both dag and executorLabel (a oneof)", where);
  }
  if (auto reason = expect_string(executor, where + ".executorLabel")) return reason;
  if (auto reason = expect_object(dag, where + ".dag")) return reason;
  const json::value* inputs = field(component, component_spec_fields, "inputDefinitions");
  if (auto reason = expect_object(inputs, where + ".inputDefinitions")) return reason;
  if (inputs == nullptr || inputs->is_null()) return std::nullopt;
  const json::object& inputs_object = inputs->get_object();
  std::string inputs_where = where + ".inputDefinitions";
  if (auto reason = unknown_field(inputs_object, inputs_spec_fields, inputs_where)) return reason;
  const json::value* parameters = field(inputs_object, inputs_spec_fields, "parameters");
  if (auto reason = expect_object(parameters, inputs_where + ".parameters")) return reason;
  if (parameters == nullptr || parameters->is_null()) return std::nullopt;
  for (const auto& entry : parameters->get_object()) {
    std::string parameter_where =
        fmt::format("{}.parameters.{}", inputs_where, std::string_view(entry.key()));
    if (!entry.value().is_object()) return fmt::format("{} is not a mapping", parameter_where);
    const json::object& parameter = entry.value().get_object();
    if (auto reason = unknown_field(parameter, parameter_spec_fields, parameter_where)) return reason;
    if (auto reason = expect_enum(field(parameter, parameter_spec_fields, "parameterType"),
                                  parameter_type_names, parameter_where + ".parameterType")) {
      return reason;
    }
    if (auto reason = expect_enum(field(parameter, parameter_spec_fields, "type"), primitive_type_names,
                                  parameter_where + ".type")) {
      return reason;
    }
    const json::value* is_optional = field(parameter, parameter_spec_fields, "isOptional");
    if (is_optional != nullptr && !is_optional->is_null() && !is_optional->is_bool()) {
      return fmt::format("{}.isOptional is not a boolean", parameter_where);
    }
    if (auto reason = expect_string(field(parameter, parameter_spec_fields, "description"),
                                    parameter_where + ".description")) {
      return reason;
    }
  }
  return std::nullopt;
}

// Why `document` is not a PipelineSpec as the server's isPipelineSpec judges it (protojson
// unmarshals it, pipelineInfo.name is non-empty, root is set), or nullopt when it is one.
std::optional<std::string> not_a_pipeline_spec(const json::object& document) {
  if (auto reason = unknown_field(document, pipeline_spec_fields, "the PipelineSpec")) return reason;
  for (std::string_view name : {"sdkVersion", "schemaVersion", "defaultPipelineRoot"}) {
    if (auto reason = expect_string(field(document, pipeline_spec_fields, name), name)) return reason;
  }
  if (auto reason =
          expect_object(field(document, pipeline_spec_fields, "deploymentSpec"), "deploymentSpec")) {
    return reason;
  }
  const json::value* info = field(document, pipeline_spec_fields, "pipelineInfo");
  if (auto reason = expect_object(info, "pipelineInfo")) return reason;
  if (info != nullptr && info->is_object()) {
    if (auto reason = unknown_field(info->get_object(), pipeline_info_fields, "pipelineInfo")) return reason;
    for (const Field& name : pipeline_info_fields) {
      if (auto reason = expect_string(field(info->get_object(), name),
                                      fmt::format("pipelineInfo.{}", name.json_name))) {
        return reason;
      }
    }
  }
  const json::value* components = field(document, pipeline_spec_fields, "components");
  if (auto reason = expect_object(components, "components")) return reason;
  if (components != nullptr && components->is_object()) {
    for (const auto& entry : components->get_object()) {
      if (entry.value().is_null()) return fmt::format("components.{} is null", std::string_view(entry.key()));
      if (auto reason =
              check_component(entry.value(), fmt::format("components.{}", std::string_view(entry.key())))) {
        return reason;
      }
    }
  }
  const json::value* root = field(document, pipeline_spec_fields, "root");
  if (root != nullptr) {
    if (auto reason = check_component(*root, "root")) return reason;
  }
  const json::value* name = info != nullptr && info->is_object()
                                ? field(info->get_object(), pipeline_info_fields, "name")
                                : nullptr;
  if (name == nullptr || name->is_null() || name->get_string().empty()) return "pipelineInfo.name is empty";
  if (root == nullptr || root->is_null()) return "root is missing";
  return std::nullopt;
}

// The server's IsPlatformSpecWithKubernetesConfig: a PlatformSpec whose platforms has "kubernetes".
bool is_platform_spec(const json::object& document) {
  if (document.size() != 1) return false;
  const json::value* platforms = document.if_contains("platforms");
  return platforms != nullptr && platforms->is_object() && platforms->get_object().contains("kubernetes");
}

// The mark of the value under `key` in a YAML mapping, else of the mapping itself.
YAML::Mark mark_of(const YAML::Node& node, std::string_view key) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second.Mark();
    }
  }
  return node.Mark();
}

std::string string_or_empty(const json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : std::string();
}

std::optional<ParameterType> parameter_type_of(const json::object& parameter) {
  auto index_of = [](const json::value* value, auto names) -> std::size_t {
    if (value == nullptr || value->is_null()) return 0;
    if (value->is_string()) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (value->get_string() == names[i]) return i;
      }
      return 0;
    }
    if (value->is_int64()) return static_cast<std::size_t>(value->get_int64());
    if (value->is_uint64()) return static_cast<std::size_t>(value->get_uint64());
    return 0;
  };
  switch (index_of(field(parameter, parameter_spec_fields, "parameterType"), parameter_type_names)) {
    case 1: return ParameterType::number_double;
    case 2: return ParameterType::number_integer;
    case 3: return ParameterType::string;
    case 4: return ParameterType::boolean;
    case 5: return ParameterType::list;
    case 6: return ParameterType::structure;
    case 0: break;
    default: return std::nullopt;
  }
  switch (index_of(field(parameter, parameter_spec_fields, "type"), primitive_type_names)) {
    case 1: return ParameterType::number_integer;
    case 2: return ParameterType::number_double;
    case 3: return ParameterType::string;
    default: return std::nullopt;
  }
}

void read_v2_inputs(Package& package, const json::object& spec) {
  const json::value* root = field(spec, pipeline_spec_fields, "root");
  if (root == nullptr || !root->is_object()) return;
  const json::value* inputs = field(root->get_object(), component_spec_fields, "inputDefinitions");
  if (inputs == nullptr || !inputs->is_object()) return;
  const json::value* parameters = field(inputs->get_object(), inputs_spec_fields, "parameters");
  if (parameters == nullptr || !parameters->is_object()) return;
  for (const auto& entry : parameters->get_object()) {
    const json::object& parameter = entry.value().get_object();
    auto type = parameter_type_of(parameter);
    if (!type) {
      package.warnings.push_back(fmt::format(
          "root input \"{}\" has no usable type (unspecified or TASK_FINAL_STATUS); no run can set it",
          std::string_view(entry.key())));
      continue;
    }
    InputParameter input;
    input.name = entry.key();
    input.type = *type;
    if (const json::value* value = field(parameter, parameter_spec_fields, "defaultValue")) {
      input.default_value = *value;
    }
    const json::value* is_optional = field(parameter, parameter_spec_fields, "isOptional");
    input.optional = input.default_value.has_value() ||
                     (is_optional != nullptr && is_optional->is_bool() && is_optional->get_bool());
    input.description = string_or_empty(field(parameter, parameter_spec_fields, "description"));
    package.inputs.push_back(std::move(input));
  }
}

bool is_argo_workflow(const json::value& document) {
  if (!document.is_object()) return false;
  const json::value* api_version = document.get_object().if_contains("apiVersion");
  const json::value* kind = document.get_object().if_contains("kind");
  return api_version != nullptr && api_version->is_string() &&
         std::string_view(api_version->get_string()).starts_with(argo_group_prefix) && kind != nullptr &&
         kind->is_string() && kind->get_string() == argo_kind;
}

util::Result<void> inspect_argo(Package& package, const json::object& workflow, const YAML::Node& node,
                                const std::string& origin) {
  package.kind = Kind::argo_workflow;
  std::string_view api_version = workflow.at("apiVersion").get_string();
  if (api_version != argo_api_version) {
    return invalid(fmt::format("{}: Argo apiVersion is \"{}\"; the server accepts only \"{}\"",
                               yaml::location(origin, mark_of(node, "apiVersion")), api_version,
                               argo_api_version));
  }
  const json::value* spec = workflow.if_contains("spec");
  const json::value* templates =
      spec != nullptr && spec->is_object() ? spec->get_object().if_contains("templates") : nullptr;
  if (templates == nullptr || !templates->is_array() || templates->get_array().empty()) {
    return invalid(
        fmt::format("{}: the Argo Workflow has no spec.templates", yaml::location(origin, node.Mark())));
  }
  if (const json::value* metadata = workflow.if_contains("metadata");
      metadata != nullptr && metadata->is_object()) {
    package.pipeline_name = string_or_empty(metadata->get_object().if_contains("name"));
    if (package.pipeline_name.empty()) {
      package.pipeline_name = string_or_empty(metadata->get_object().if_contains("generateName"));
      while (package.pipeline_name.ends_with('-')) package.pipeline_name.pop_back();
    }
  }
  if (package.pipeline_name.empty()) {
    package.warnings.emplace_back("the Argo Workflow has neither metadata.name nor metadata.generateName");
  }
  const json::value* arguments = spec->get_object().if_contains("arguments");
  const json::value* parameters = arguments != nullptr && arguments->is_object()
                                      ? arguments->get_object().if_contains("parameters")
                                      : nullptr;
  if (parameters == nullptr || !parameters->is_array()) return {};
  for (const json::value& item : parameters->get_array()) {
    if (!item.is_object()) continue;
    const json::object& parameter = item.get_object();
    InputParameter input;
    input.name = string_or_empty(parameter.if_contains("name"));
    if (input.name.empty()) {
      return invalid(fmt::format("{}: an Argo spec.arguments.parameters entry has no name",
                                 yaml::location(origin, node.Mark())));
    }
    input.type = ParameterType::string;
    if (const json::value* value = parameter.if_contains("value"); value != nullptr && !value->is_null()) {
      // Argo keeps every value as a string, even when the YAML wrote a number.
      input.default_value = value->is_string() ? *value : json::value(json::serialize(*value));
    }
    input.optional = input.default_value.has_value();
    input.description = string_or_empty(parameter.if_contains("description"));
    package.inputs.push_back(std::move(input));
  }
  return {};
}

util::Result<void> inspect_v2(Package& package, const std::vector<json::value>& documents,
                              const std::vector<YAML::Node>& nodes, const std::string& origin) {
  std::optional<std::size_t> spec_index;
  std::optional<std::size_t> platform_index;
  std::vector<std::string> reasons;
  std::vector<std::size_t> ignored;
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].is_null()) continue;
    if (!documents[i].is_object()) {
      reasons.push_back(fmt::format("document {} is not a mapping", i + 1));
      ignored.push_back(i);
      continue;
    }
    const json::object& document = documents[i].get_object();
    auto reason = not_a_pipeline_spec(document);
    if (!reason) {
      if (spec_index) {
        return invalid(
            fmt::format("{}: documents {} and {} are both PipelineSpecs; the server accepts one "
                        "(\"multiple pipeline specs provided\")",
                        yaml::location(origin, nodes[i].Mark()), *spec_index + 1, i + 1));
      }
      spec_index = i;
    } else if (is_platform_spec(document)) {
      if (platform_index) {
        return invalid(
            fmt::format("{}: documents {} and {} are both PlatformSpecs; the server accepts one "
                        "(\"multiple platform specs provided\")",
                        yaml::location(origin, nodes[i].Mark()), *platform_index + 1, i + 1));
      }
      platform_index = i;
    } else {
      reasons.push_back(fmt::format("document {}: {}", i + 1, *reason));
      ignored.push_back(i);
    }
  }
  if (!spec_index) {
    if (reasons.empty()) {
      return invalid(
          fmt::format("{}: unknown template format: no YAML document in the file (empty, or "
                      "comments only)",
                      origin));
    }
    std::string joined;
    for (const auto& reason : reasons) joined += (joined.empty() ? "" : "; ") + reason;
    return invalid(fmt::format("{}: unknown template format: neither a KFP PipelineSpec nor an Argo "
                               "Workflow ({})",
                               origin, joined),
                   "the server decodes the PipelineSpec strictly: unknown or misspelt fields make it "
                   "\"unknown template format\"");
  }
  for (std::size_t i : ignored) {
    package.warnings.push_back(
        fmt::format("document {} is neither a PipelineSpec nor a PlatformSpec; "
                    "the server ignores it",
                    i + 1));
  }

  const json::object& spec = documents[*spec_index].get_object();
  const YAML::Node& spec_node = nodes[*spec_index];
  package.kind = Kind::pipeline_spec;
  package.has_platform_spec = platform_index.has_value();

  std::string schema_version = string_or_empty(field(spec, pipeline_spec_fields, "schemaVersion"));
  if (schema_version != required_schema_version) {
    return invalid(fmt::format("{}: schemaVersion is \"{}\"; the server accepts only \"{}\"",
                               yaml::location(origin, mark_of(spec_node, "schemaVersion")), schema_version,
                               required_schema_version),
                   "compile the pipeline with the kfp 2.x SDK");
  }
  const json::object& info = field(spec, pipeline_spec_fields, "pipelineInfo")->get_object();
  package.pipeline_name = string_or_empty(field(info, pipeline_info_fields, "name"));
  package.description = string_or_empty(field(info, pipeline_info_fields, "description"));
  if (!is_valid_pipeline_name(package.pipeline_name)) {
    YAML::Node info_node = spec_node.IsMap() ? spec_node["pipelineInfo"] : YAML::Node();
    YAML::Mark mark = info_node.IsDefined() ? mark_of(info_node, "name") : spec_node.Mark();
    return invalid(
        fmt::format("{}: pipelineInfo.name \"{}\" does not match ^[a-z0-9][a-z0-9-]{{0,127}}$; "
                    "the server refuses it",
                    yaml::location(origin, mark), package.pipeline_name),
        "use lower-case letters, digits and '-' (at most 128 characters) in the @dsl.pipeline name");
  }
  read_v2_inputs(package, spec);
  return {};
}

}  // namespace

bool is_valid_pipeline_name(std::string_view name) {
  if (name.empty() || name.size() > max_pipeline_name_length) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  for (char c : name) {
    if (!lower_or_digit(c) && c != '-') return false;
  }
  return true;
}

namespace {

util::Result<void> inspect_nodes(Package& package, const std::vector<YAML::Node>& nodes,
                                 const std::string& origin) {
  const yaml::Source source = yaml::package_source(origin);
  yaml::NodeBudget budget(source.limits.max_nodes);
  std::vector<json::value> documents;
  documents.reserve(nodes.size());
  for (const YAML::Node& node : nodes) {
    auto document = yaml::to_json(node, budget, source);
    if (!document) return document.error();
    documents.push_back(std::move(*document));
  }
  // The server reads apiVersion/kind from the first document only.
  if (!documents.empty() && is_argo_workflow(documents.front())) {
    return inspect_argo(package, documents.front().get_object(), nodes.front(), origin);
  }
  return inspect_v2(package, documents, nodes, origin);
}

}  // namespace

util::Result<void> inspect_document(Package& package, const std::string& origin) {
  auto nodes = yaml::load_documents(package.document, yaml::package_source(origin));
  if (!nodes) return nodes.error();
  return inspect_nodes(package, *nodes, origin);
}

util::Result<void> inspect_document(Package& package, std::istream& document, const std::string& origin) {
  auto nodes = yaml::load_checked_documents(document, yaml::package_source(origin));
  if (!nodes) return nodes.error();
  return inspect_nodes(package, *nodes, origin);
}

}  // namespace kfp::package
