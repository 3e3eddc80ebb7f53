#include "cli/commands.hpp"
#include "package/package.hpp"

#include <boost/json/serialize.hpp>
#include <fmt/format.h>

namespace kfp::cli {

namespace {

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
    if (input.default_value) item["default"] = *input.default_value;
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
      if (paths_.size() > 1) failure.message = fmt::format("{} of {} packages are invalid; first: {}", invalid, paths_.size(), failure.message);
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
        out += fmt::format("{}: INVALID: {}\n", path, std::string_view(pkg.at("error").at("message").as_string()));
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
          line += fmt::format(" default {}", boost::json::serialize(def->value()));
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

std::unique_ptr<Command> make_validate_command() { return std::make_unique<ValidateCommand>(); }

}  // namespace kfp::cli
