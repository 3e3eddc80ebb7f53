#include "cli/commands.hpp"
#include "cli/network.hpp"
#include "package/package.hpp"

#include <fmt/format.h>

namespace kfp::cli {

namespace {

std::string describe(const report::Report& report) {
  std::string out;
  if (report.pipeline) {
    out += fmt::format("pipeline  {} ({}){}\n", report.pipeline->name, report.pipeline->id,
                       report.pipeline->created.value_or(false) ? " created" : "");
  }
  if (report.version) {
    out += fmt::format("version   {} ({}){}\n", report.version->name, report.version->id,
                       report.version->created.value_or(false) ? " uploaded" : "");
    if (!report.version->digest.empty()) out += fmt::format("digest    {}\n", report.version->digest);
  }
  if (report.experiment)
    out += fmt::format("experiment {} ({})\n", report.experiment->name, report.experiment->id);
  if (report.run) {
    out += fmt::format("run       {} ({}) {}{}\n", report.run->name, report.run->id, report.run->state,
                       report.run->created.value_or(false) ? "" : " (already started for this run key)");
    if (!report.run->url.empty()) out += fmt::format("run url   {}\n", report.run->url);
  }
  return out;
}

class PublishCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "publish"; }
  [[nodiscard]] std::string_view summary() const override {
    return "upload a package as a content-addressed pipeline version (creating the pipeline if missing); "
           "--run also starts a run";
  }
  void define(CLI::App& app) override {
    app.add_option("PACKAGE", package_, "pipeline package (.yaml .yml .json .zip .tar.gz .tgz)")->required();
    app.add_option(
           "--pipeline", pipeline_,
           "pipeline name (unique in the namespace, or among the shared pipelines with --shared-pipeline)")
        ->required();
    app.add_option("--version", version_,
                   "version name [default: derived from the content digest]; an existing one with other "
                   "content is a conflict");
    app.add_option("--description", description_, "pipeline and version description");
    app.add_option("--tag", tags_, "version tag key=value (repeatable; KFP 2.17+ stores tags)");
    app.add_option("--code-source-url,--source-url", code_source_url_,
                   "where the source lives, recorded in the version description as 'source: URL' (no KFP "
                   "release stores an uploaded version's code_source_url) [default: the commit's tree from "
                   "the CI's variables]");
    app.add_flag("--run", run_, "also start a run of the published version (run options below)");
    run_flags_.define(app, false);
  }

  void run(Context& context, report::Report& report) override {
    std::vector<std::pair<std::string, std::string>> tags;
    for (const auto& tag : tags_) {
      auto equals = tag.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw util::Error(util::ErrorKind::usage, fmt::format("--tag '{}' is not key=value", tag));
      }
      tags.emplace_back(tag.substr(0, equals), tag.substr(equals + 1));
    }
    std::optional<publish::RunRequest> run_request;
    if (!run_) {
      if (auto flag = run_flags_.first_given(); !flag.empty()) {
        throw util::Error(util::ErrorKind::usage, fmt::format("{} needs --run", flag),
                          "add --run --experiment NAME to start a run, or drop the run options");
      }
    } else {
      if (!run_flags_.experiment_given())
        throw util::Error(util::ErrorKind::usage, "--run needs --experiment NAME");
      run_request = run_flags_.request(pipeline_, std::nullopt);
      run_request->pipeline_scope = scope_of(context.options);
    }
    // The package is judged before anything is sent.
    auto package = package::load(package_);
    if (!package) throw util::Error(package.error());
    context.log.info("{}: {} {} ({})", package_, package::to_string(package->kind), package->pipeline_name,
                     package->digest);

    publish::PublishRequest request{
        pipeline_,        version_.empty() ? std::nullopt : std::optional<std::string>(version_),
        description_,     tags,
        code_source_url_, scope_of(context.options)};
    publish::check_publish_request(request);
    if (run_request) publish::check_run_request(*run_request, &package->inputs);

    auto session = open_session(context, report);
    publish::Flows flows(session->api(), session->namespace_name(), context.env, context.log,
                         session->clock());
    auto published = flows.publish(*package, request, report);
    if (run_request) flows.run(*run_request, report, &published);
  }

  [[nodiscard]] std::string render_text(const report::Report& report) const override {
    std::string out = describe(report);
    if (report.outcome != report::Outcome::none)
      out += fmt::format("outcome   {}\n", report::to_string(report.outcome));
    return out;
  }

 private:
  std::string package_;
  std::string pipeline_;
  std::string version_;
  std::string description_;
  std::vector<std::string> tags_;
  std::string code_source_url_;
  bool run_ = false;
  RunFlags run_flags_;
};

class RunCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "run"; }
  [[nodiscard]] std::string_view summary() const override {
    return "start a run of a published pipeline exactly once, checking parameters first; --wait follows it";
  }
  void define(CLI::App& app) override { flags_.define(app, true); }
  void run(Context& context, report::Report& report) override {
    auto request = flags_.request(
        flags_.pipeline, flags_.version.empty() ? std::nullopt : std::optional<std::string>(flags_.version));
    request.pipeline_scope = scope_of(context.options);
    publish::check_run_request(request, nullptr);
    auto session = open_session(context, report);
    publish::Flows flows(session->api(), session->namespace_name(), context.env, context.log,
                         session->clock());
    flows.run(request, report);
  }
  [[nodiscard]] std::string render_text(const report::Report& report) const override {
    return describe(report);
  }

 private:
  RunFlags flags_;
};

}  // namespace

std::unique_ptr<Command> make_publish_command() {
  return std::make_unique<PublishCommand>();
}
std::unique_ptr<Command> make_run_command() {
  return std::make_unique<RunCommand>();
}

}  // namespace kfp::cli
