#pragma once
// A pipeline version's template as the server stores it and hands it back: what
// ResourceManager.CreatePipeline[Version] writes with template.Bytes(), which
// GET /apis/v1beta1/pipeline_versions/{id}/templates returns as text, the v1 jobs carry as their
// manifest, and the v2beta1 API parses back into pipeline_spec. FIDELITY.md "Templates" cites each
// rule.

#include "options.hpp"

#include <boost/json/value.hpp>

#include <string>
#include <string_view>

namespace kfp::emulator {

struct PipelineVersion;

// An Argo Workflow (the uploaded document as JSON) as Go's encoding/json writes the
// argo-workflows Workflow struct it was decoded into (util.Workflow.ToStringForStore): the
// struct's field order, the zero-valued structs it always writes (metadata.creationTimestamp:
// null, spec.arguments, a template's inputs/outputs/metadata, a container's name and resources,
// status.startedAt/finishedAt: null) and parameter values as strings (AnyString).
[[nodiscard]] boost::json::value argo_as_stored(const boost::json::value& workflow);

// KFP 1.8 stores a v2 PipelineSpec under the pipeline's name (V2Spec.OverrideV2PipelineName):
// pipelineInfo.name becomes "pipeline/<name>" or "namespace/<ns>/pipeline/<name>".
void override_v2_pipeline_name(boost::json::value& spec, std::string_view pipeline_name, std::string_view ns);

// The stored template text (template.Bytes()): an Argo Workflow as Go's json.Marshal writes it
// (HTML characters escaped); a PipelineSpec as protojson JSON on 1.8, as YAML on 2.x
// (yaml.JSONToYAML: sorted keys), a platform spec after "\n---\n".
[[nodiscard]] std::string template_text(const PipelineVersion& pipeline_version, ServerVersion version);

// Go's json.Marshal text of `value`: compact, numbers in their shortest form, <, > and & escaped as
// \u003c, \u003e, \u0026.
[[nodiscard]] std::string go_json(const boost::json::value& value);
// protojson.Marshal's text of a message held as JSON: the same without the HTML escaping (its field
// order and its deliberately unstable spacing are not imitated).
[[nodiscard]] std::string protojson_text(const boost::json::value& value);

// sigs.k8s.io/yaml JSONToYAML: block YAML with mapping keys sorted; strings that would read back
// as another type are quoted.
[[nodiscard]] std::string json_to_yaml(const boost::json::value& value);

}  // namespace kfp::emulator
