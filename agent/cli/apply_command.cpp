#include "apply/applier.hpp"
#include "apply/file.hpp"
#include "cli/commands.hpp"
#include "cli/network.hpp"
#include "util/exit_code.hpp"

#include <fmt/format.h>

namespace kfp::cli {

namespace {

class SessionLane final : public apply::Lane {
 public:
  explicit SessionLane(std::unique_ptr<publish::Session> session) : session_(std::move(session)) {}
  api::KfpApi& api() override { return session_->api(); }
  http::Clock& clock() override { return session_->clock(); }

 private:
  std::unique_ptr<publish::Session> session_;
};

class ApplyCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "apply"; }
  [[nodiscard]] std::string_view summary() const override {
    return "bring the server to match a declarative file of pipelines, experiments, runs and recurring runs; "
           "--plan shows what would change";
  }

  void define(CLI::App& app) override {
    app.add_option("-f,--file", file_, "the apply file (YAML, apiVersion kfp-publish/v1, kind Apply)")
        ->required();
    app.add_flag("--plan", plan_, "print what would change per object and change nothing");
    app.add_flag("--detailed-exitcode", detailed_exitcode_,
                 "with --plan: exit 10 when there are changes, 0 when none");
    app.add_option("--parallel", parallel_,
                   "publish up to N pipelines at once, each worker on its own connection")
        ->check(CLI::Range(1, apply::max_parallel));
  }

  void run(Context& context, report::Report& report) override {
    if (detailed_exitcode_ && !plan_)
      throw util::Error(util::ErrorKind::usage, "--detailed-exitcode needs --plan");
    // The file, every package and every run's parameters are judged before anything is sent.
    auto file = apply::load_file(file_);
    if (!file) throw util::Error(file.error());
    if (auto limits = apply::check_limits(*file); !limits) throw util::Error(limits.error());
    context.log.info("{}: {} pipelines, {} experiments, {} runs, {} recurring runs", file_,
                     file->pipelines.size(), file->experiments.size(), file->runs.size(),
                     file->recurring_runs.size());

    SessionLane first(open_session(context, report));
    const std::string ns = report.namespace_name;
    auto more_lanes = [&context]() -> std::unique_ptr<apply::Lane> {
      report::Report scratch;
      return std::make_unique<SessionLane>(open_session(context, scratch));
    };
    const apply::ApplyOptions options{plan_ ? apply::Mode::plan : apply::Mode::apply, parallel_,
                                      scope_of(context.options)};
    auto results = apply::apply_file(*file, ns, first, more_lanes, options, context.env, context.log);
    report.details["objects"] = apply::to_json(results);
    if (auto failure = apply::most_severe_failure(results)) {
      report.set_failure(*failure);
      return;
    }
    const bool changes = apply::has_changes(results);
    if (plan_) {
      report.outcome = report::Outcome::planned;
      if (detailed_exitcode_ && changes) report.exit_code = util::to_int(util::ExitCode::changes_planned);
      return;
    }
    bool created = false;
    for (const auto& result : results) created = created || result.action == apply::Action::create;
    report.outcome = !changes  ? report::Outcome::unchanged
                     : created ? report::Outcome::created
                               : report::Outcome::updated;
  }

  [[nodiscard]] std::string render_text(const report::Report& report) const override {
    std::string out;
    if (const auto* objects = report.details.if_contains("objects"); objects && objects->is_array()) {
      for (const auto& item : objects->as_array()) {
        const auto& object = item.as_object();
        auto text = [&object](std::string_view key) -> std::string {
          const auto* value = object.if_contains(key);
          return value && value->is_string() ? std::string(value->as_string()) : std::string();
        };
        std::string action = text("action").empty() ? "?" : text("action");
        std::string note = text("detail");
        if (const auto* error = object.if_contains("error"); error && error->is_object()) {
          note = std::string(error->as_object().at("message").as_string());
        }
        out += fmt::format("{:<12} {:<14} {:<32} {}{}\n", action, text("kind"), text("name"), text("outcome"),
                           note.empty() ? "" : "  (" + note + ")");
      }
    }
    out += fmt::format("outcome  {}\n",
                       report.outcome == report::Outcome::none ? "-" : report::to_string(report.outcome));
    return out;
  }

 private:
  std::string file_;
  bool plan_ = false;
  bool detailed_exitcode_ = false;
  int parallel_ = 1;
};

}  // namespace

std::unique_ptr<Command> make_apply_command() {
  return std::make_unique<ApplyCommand>();
}

}  // namespace kfp::cli
