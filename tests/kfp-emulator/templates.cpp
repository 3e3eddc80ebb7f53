#include "templates.hpp"

#include "store.hpp"
#include "yaml/scalar.hpp"

#include <yaml-cpp/yaml.h>
#include <boost/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <span>
#include <vector>

namespace kfp::emulator {

namespace json = boost::json;

namespace {

using Fields = std::span<const std::string_view>;

// The JSON names of the Go structs' fields, in declaration order (encoding/json writes them so).
// k8s.io/apimachinery ObjectMeta.
constexpr std::string_view object_meta[] = {"name",
                                            "generateName",
                                            "namespace",
                                            "selfLink",
                                            "uid",
                                            "resourceVersion",
                                            "generation",
                                            "creationTimestamp",
                                            "deletionTimestamp",
                                            "deletionGracePeriodSeconds",
                                            "labels",
                                            "annotations",
                                            "ownerReferences",
                                            "finalizers",
                                            "managedFields"};
// argo-workflows v3 WorkflowSpec (its leading fields; the rest keep the document's order).
constexpr std::string_view workflow_spec[] = {"templates",
                                              "entrypoint",
                                              "arguments",
                                              "serviceAccountName",
                                              "automountServiceAccountToken",
                                              "executor",
                                              "volumes",
                                              "volumeClaimTemplates",
                                              "parallelism",
                                              "artifactRepositoryRef",
                                              "suspend",
                                              "nodeSelector",
                                              "affinity",
                                              "tolerations",
                                              "imagePullSecrets",
                                              "hostNetwork",
                                              "dnsPolicy",
                                              "dnsConfig",
                                              "onExit",
                                              "ttlStrategy",
                                              "activeDeadlineSeconds",
                                              "priority",
                                              "schedulerName",
                                              "podGC",
                                              "podPriorityClassName",
                                              "podPriority",
                                              "hostAliases",
                                              "securityContext",
                                              "podSpecPatch"};
// argo-workflows v3 Template.
constexpr std::string_view template_fields[] = {
    "name",           "template",     "templateRef",    "inputs",   "outputs",
    "nodeSelector",   "affinity",     "metadata",       "daemon",   "steps",
    "container",      "containerSet", "script",         "resource", "dag",
    "suspend",        "data",         "http",           "plugin",   "volumes",
    "initContainers", "sidecars",     "archiveLocation"};
// argo-workflows Parameter: AnyString default and value.
constexpr std::string_view parameter_fields[] = {"name",       "default", "value",      "valueFrom",
                                                 "globalName", "enum",    "description"};
// k8s.io/api Container (its leading fields).
constexpr std::string_view container_fields[] = {"name",
                                                 "image",
                                                 "command",
                                                 "args",
                                                 "workingDir",
                                                 "ports",
                                                 "envFrom",
                                                 "env",
                                                 "resources",
                                                 "resizePolicy",
                                                 "restartPolicy",
                                                 "volumeMounts",
                                                 "volumeDevices",
                                                 "livenessProbe",
                                                 "readinessProbe",
                                                 "startupProbe",
                                                 "lifecycle",
                                                 "terminationMessagePath",
                                                 "terminationMessagePolicy",
                                                 "imagePullPolicy",
                                                 "securityContext"};
// argo-workflows DAGTask / WorkflowStep (their leading fields).
constexpr std::string_view task_fields[] = {"name",      "template",    "inline",
                                            "arguments", "templateRef", "dependencies"};
// argo-workflows Workflow: the inline TypeMeta (kind, apiVersion), metadata, spec, status.
constexpr std::string_view workflow_fields[] = {"kind", "apiVersion", "metadata", "spec", "status"};
// argo-workflows Arguments and Inputs.
constexpr std::string_view argument_fields[] = {"parameters", "artifacts"};

// `object` with the keys of `fields` first, in that order, then the rest as they came.
json::object ordered(const json::object& object, Fields fields) {
  json::object out;
  for (auto field : fields)
    if (const auto* value = object.if_contains(field)) out[field] = *value;
  for (const auto& [key, value] : object)
    if (std::find(fields.begin(), fields.end(), std::string_view(key)) == fields.end()) out[key] = value;
  return out;
}

// Sets `key` to `value` when absent (a struct encoding/json writes even when zero).
void always(json::object& object, std::string_view key, json::value value) {
  if (object.if_contains(key) == nullptr) object[key] = std::move(value);
}

// A JSON number as Go's strconv writes it: integers as such, floats in their shortest form.
std::string number_text(const json::value& value) {
  if (value.is_int64()) return std::to_string(value.as_int64());
  if (value.is_uint64()) return std::to_string(value.as_uint64());
  std::array<char, 32> buffer{};
  auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value.as_double());
  return ec == std::errc{} ? std::string(buffer.data(), end) : json::serialize(value);
}

// AnyString: a parameter value written as a number or boolean is kept as its text.
json::value any_string(const json::value& value) {
  if (value.is_number()) return json::value(number_text(value));
  if (value.is_bool()) return json::value(value.as_bool() ? "true" : "false");
  return value;
}

json::value parameters_of(const json::value& list) {
  if (!list.is_array()) return list;
  json::array out;
  for (const auto& item : list.as_array()) {
    if (!item.is_object()) {
      out.push_back(item);
      continue;
    }
    auto parameter = ordered(item.as_object(), parameter_fields);
    for (auto key : {"default", "value"})
      if (auto* value = parameter.if_contains(key)) *value = any_string(*value);
    out.push_back(std::move(parameter));
  }
  return out;
}

// Arguments and Inputs: {parameters, artifacts}, each parameter's values as strings.
json::value with_parameters(const json::value& holder) {
  if (!holder.is_object()) return holder;
  auto out = ordered(holder.as_object(), argument_fields);
  if (auto* parameters = out.if_contains("parameters")) *parameters = parameters_of(*parameters);
  return out;
}

json::value task(const json::value& item) {
  if (!item.is_object()) return item;
  auto out = ordered(item.as_object(), task_fields);
  always(out, "arguments", json::object{});
  out["arguments"] = with_parameters(out["arguments"]);
  return out;
}

json::value container(const json::value& item) {
  if (!item.is_object()) return item;
  auto out = item.as_object();
  always(out, "name", "");
  always(out, "resources", json::object{});
  return ordered(out, container_fields);
}

json::value workflow_template(const json::value& item) {
  if (!item.is_object()) return item;
  auto out = item.as_object();
  always(out, "inputs", json::object{});
  always(out, "outputs", json::object{});
  always(out, "metadata", json::object{});
  out = ordered(out, template_fields);
  out["inputs"] = with_parameters(out["inputs"]);
  for (auto key : {"container", "script"})
    if (auto* value = out.if_contains(key)) *value = container(*value);
  if (auto* dag = out.if_contains("dag"); dag && dag->is_object())
    if (auto* tasks = dag->as_object().if_contains("tasks"); tasks && tasks->is_array())
      for (auto& each : tasks->as_array()) each = task(each);
  if (auto* steps = out.if_contains("steps"); steps && steps->is_array())
    for (auto& group : steps->as_array())
      if (group.is_array())
        for (auto& step : group.as_array()) step = task(step);
  return out;
}

// A plain scalar yaml would read as something other than this string (by yaml.v3's rules, by
// YAML 1.2's, or by go-yaml v2's YAML 1.1 booleans): it needs quotes.
bool needs_quotes(const std::string& text) {
  auto scalar = yaml::resolve_plain(text);
  if (scalar.kind != yaml::Scalar::Kind::string || scalar.yaml_1_2) return true;
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto word : {"y", "n", "yes", "no", "on", "off"})
    if (lower == word) return true;
  return false;
}

void emit(YAML::Emitter& out, const json::value& value) {
  switch (value.kind()) {
    case json::kind::null: out << YAML::Null; break;
    case json::kind::bool_: out << (value.as_bool() ? "true" : "false"); break;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: out << number_text(value); break;
    case json::kind::string: {
      std::string text(value.as_string());
      if (needs_quotes(text)) out << YAML::DoubleQuoted;
      out << text;
      break;
    }
    case json::kind::array:
      out << YAML::BeginSeq;
      for (const auto& item : value.as_array()) emit(out, item);
      out << YAML::EndSeq;
      break;
    case json::kind::object: {
      std::vector<std::string> keys;
      for (const auto& [key, item] : value.as_object()) keys.emplace_back(key);
      std::sort(keys.begin(), keys.end());
      out << YAML::BeginMap;
      for (const auto& key : keys) {
        out << YAML::Key;
        if (needs_quotes(key)) out << YAML::DoubleQuoted;
        out << key << YAML::Value;
        emit(out, value.as_object().at(key));
      }
      out << YAML::EndMap;
      break;
    }
  }
}

// Compact JSON as Go writes it: numbers in strconv's shortest form (2, not 2E0), and, for
// encoding/json (not protojson), <, > and & escaped.
void write_json(std::string& out, const json::value& value, bool escape_html) {
  switch (value.kind()) {
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_: out += number_text(value); return;
    case json::kind::string: {
      auto text = json::serialize(value);
      if (!escape_html) {
        out += text;
        return;
      }
      for (char c : text) {
        if (c == '<')
          out += "\\u003c";
        else if (c == '>')
          out += "\\u003e";
        else if (c == '&')
          out += "\\u0026";
        else
          out.push_back(c);
      }
      return;
    }
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& item : value.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, item, escape_html);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, item] : value.as_object()) {
        if (!first) out.push_back(',');
        first = false;
        write_json(out, json::value(key), escape_html);
        out.push_back(':');
        write_json(out, item, escape_html);
      }
      out.push_back('}');
      return;
    }
    default: out += json::serialize(value); return;
  }
}

}  // namespace

json::value argo_as_stored(const json::value& workflow) {
  if (!workflow.is_object()) return workflow;
  auto out = ordered(workflow.as_object(), workflow_fields);
  always(out, "metadata", json::object{});
  always(out, "spec", json::object{});
  if (auto& metadata = out["metadata"]; metadata.is_object()) {
    always(metadata.as_object(), "creationTimestamp", nullptr);
    metadata = ordered(metadata.as_object(), object_meta);
  }
  if (auto& spec = out["spec"]; spec.is_object()) {
    auto& object = spec.as_object();
    always(object, "arguments", json::object{});
    object = ordered(object, workflow_spec);
    object["arguments"] = with_parameters(object["arguments"]);
    if (auto* templates = object.if_contains("templates"); templates && templates->is_array())
      for (auto& item : templates->as_array()) item = workflow_template(item);
  }
  // WorkflowStatus: its times are metav1.Time values, written as null when zero.
  out["status"] = json::object{{"startedAt", nullptr}, {"finishedAt", nullptr}};
  return out;
}

void override_v2_pipeline_name(json::value& spec, std::string_view pipeline_name, std::string_view ns) {
  if (!spec.is_object()) return;
  auto* info = spec.as_object().if_contains("pipelineInfo");
  if (info == nullptr || !info->is_object()) return;
  std::string reference = "pipeline/" + std::string(pipeline_name);
  if (!ns.empty()) reference = "namespace/" + std::string(ns) + "/" + reference;
  info->as_object()["name"] = reference;
}

std::string go_json(const json::value& value) {
  std::string out;
  write_json(out, value, true);
  return out;
}

std::string protojson_text(const json::value& value) {
  std::string out;
  write_json(out, value, false);
  return out;
}

std::string json_to_yaml(const json::value& value) {
  YAML::Emitter out;
  out.SetIndent(2);
  emit(out, value);
  return std::string(out.c_str()) + "\n";
}

std::string template_text(const PipelineVersion& pipeline_version, ServerVersion version) {
  const auto& spec = pipeline_version.pipeline_spec;
  if (pipeline_version.kind == package::Kind::argo_workflow) return go_json(spec);
  if (is_v1_server(version)) return protojson_text(spec);
  // A PipelineSpec with its platform spec is held as {"pipeline_spec":…, "platform_spec":…}
  // (a PipelineSpec has neither field itself).
  if (spec.is_object()) {
    const auto& object = spec.as_object();
    const auto* pipeline = object.if_contains("pipeline_spec");
    const auto* platform = object.if_contains("platform_spec");
    if (pipeline != nullptr && platform != nullptr && object.size() == 2)
      return json_to_yaml(*pipeline) + "\n---\n" + json_to_yaml(*platform);
  }
  return json_to_yaml(spec);
}

}  // namespace kfp::emulator
