#include "cli/commands.hpp"
#include "package/package.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>

#include <cmath>

namespace kfp::cli {

namespace {

// Compilers write integer defaults as 32.0; show and report them as the integers they are.
boost::json::value integral(const boost::json::value& value) {
  if (value.is_double() && std::trunc(value.as_double()) == value.as_double() &&
      std::abs(value.as_double()) < 9e15) {
    return static_cast<std::int64_t>(value.as_double());
  }
  if (value.is_array()) {
    boost::json::array out;
    for (const auto& item : value.as_array()) out.push_back(integral(item));
    return out;
  }
  if (value.is_object()) {
    boost::json::object out;
    for (const auto& [key, item] : value.as_object()) out[key] = integral(item);
    return out;
  }
  return value;
}

// JSON for people: doubles in their shortest form (0.001, not 1E-3).
std::string display(const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::double_: return fmt::format("{}", value.as_double());
    case boost::json::kind::array: {
      std::string out = "[";
      for (const auto& item : value.as_array()) out += (out.size() > 1 ? "," : "") + display(item);
      return out + "]";
    }
    case boost::json::kind::object: {
      std::string out = "{";
      for (const auto& [key, item] : value.as_object()) {
        out += fmt::format("{}{}:{}", out.size() > 1 ? "," : "",
                           boost::json::serialize(boost::json::string(key)), display(item));
      }
      return out + "}";
    }
    default: return boost::json::serialize(value);
  }
}

boost::json::object package_json(const package::Package& pkg) {
  boost::json::object out;
  out["path"] = pkg.source.string();
  if (!pkg.member.empty()) out["member"] = pkg.member;
  out["valid"] = true;
  out["kind"] = package::to_string(pkg.kind);
  out["name"] = pkg.pipeline_name;
  out["digest"] = pkg.digest;
  out["platform_spec"] = pkg.has_platform_spec;
  boost::json::array inputs;
  for (const auto& input : pkg.inputs) {
    boost::json::object item;
    item["name"] = input.name;
    item["type"] = package::to_string(input.type);
    if (input.default_value) {
      item["default"] = input.type == package::ParameterType::number_double ? *input.default_value
                                                                            : integral(*input.default_value);
    }
    item["optional"] = input.optional;
    if (!input.description.empty()) item["description"] = input.description;
    inputs.push_back(std::move(item));
  }
  out["inputs"] = std::move(inputs);
  return out;
}

class ValidateCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "validate"; }
  [[nodiscard]] std::string_view summary() const override {
    return "check pipeline packages offline, as the KFP server would (.yaml .yml .json .zip .tar.gz .tgz)";
  }
  void define(CLI::App& app) override {
    app.add_option("PACKAGE", paths_, "pipeline package files")->required();
  }

  void run(Context& /*context*/, report::Report& report) override {
    boost::json::array packages;
    std::optional<util::Failure> first_failure;
    for (const auto& path : paths_) {
      auto loaded = package::load(path);
      if (loaded) {
        packages.push_back(package_json(*loaded));
        continue;
      }
      boost::json::object item;
      item["path"] = path;
      item["valid"] = false;
      item["error"] = {{"kind", util::to_string(loaded.error().kind)}, {"message", loaded.error().message}};
      packages.push_back(std::move(item));
      if (!first_failure) first_failure = loaded.error();
    }
    report.details["packages"] = std::move(packages);
    if (first_failure) {
      const auto invalid = std::count_if(report.details["packages"].as_array().begin(),
                                         report.details["packages"].as_array().end(),
                                         [](const auto& p) { return !p.as_object().at("valid").as_bool(); });
      util::Failure failure = *first_failure;
      if (paths_.size() > 1)
        failure.message =
            fmt::format("{} of {} packages are invalid; first: {}", invalid, paths_.size(), failure.message);
      throw util::Error(failure);
    }
  }

  [[nodiscard]] std::string render_text(const report::Report& report) const override {
    std::string out;
    auto it = report.details.find("packages");
    if (it == report.details.end()) return out;
    for (const auto& value : it->value().as_array()) {
      const auto& pkg = value.as_object();
      std::string path(pkg.at("path").as_string());
      if (!pkg.at("valid").as_bool()) {
        out += fmt::format("{}: INVALID: {}\n", path,
                           std::string_view(pkg.at("error").at("message").as_string()));
        continue;
      }
      out += fmt::format("{}: ok\n", path);
      if (auto member = pkg.find("member"); member != pkg.end()) {
        out += fmt::format("  member:   {}\n", std::string_view(member->value().as_string()));
      }
      out += fmt::format("  kind:     {}{}\n", std::string_view(pkg.at("kind").as_string()),
                         pkg.at("platform_spec").as_bool() ? " (with platform spec)" : "");
      out += fmt::format("  name:     {}\n", std::string_view(pkg.at("name").as_string()));
      out += fmt::format("  digest:   {}\n", std::string_view(pkg.at("digest").as_string()));
      const auto& inputs = pkg.at("inputs").as_array();
      if (inputs.empty()) {
        out += "  inputs:   none\n";
        continue;
      }
      out += "  inputs:\n";
      for (const auto& input_value : inputs) {
        const auto& input = input_value.as_object();
        std::string line = fmt::format("    {:<24} {:<15}", std::string_view(input.at("name").as_string()),
                                       std::string_view(input.at("type").as_string()));
        if (auto def = input.find("default"); def != input.end()) {
          line += fmt::format(" default {}", display(def->value()));
        } else if (input.at("optional").as_bool()) {
          line += " optional";
        } else {
          line += " required";
        }
        out += line + "\n";
      }
    }
    return out;
  }

 private:
  std::vector<std::string> paths_;
};

}  // namespace

std::unique_ptr<Command> make_validate_command() {
  return std::make_unique<ValidateCommand>();
}

}  // namespace kfp::cli
