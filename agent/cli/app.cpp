#include "cli/app.hpp"

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/stderr_log.hpp"
#include "report/outputs.hpp"
#include "report/report.hpp"
#include "util/exit_code.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>

#include <unistd.h>

#include <filesystem>
#include <optional>

namespace kfp::cli {

std::string Command::render_text(const report::Report& report) const {
  return report::summary_line(report) + "\n";
}

namespace {

void define_global_options(CLI::App& app, RawGlobalOptions& raw) {
  app.add_option("--host", raw.host,
                 fmt::format("KFP API URL, may carry a path prefix [env KFP_HOST, "
                             "KF_PIPELINES_ENDPOINT; default {}]",
                             default_host));
  app.add_option("--token-file", raw.token_file,
                 fmt::format("service-account token file, read afresh for every request [env "
                             "KF_PIPELINES_SA_TOKEN_PATH; default {}; absent file: no auth header]",
                             default_token_file));
  app.add_option("--namespace", raw.namespace_name,
                 "profile namespace [env KFP_NAMESPACE; default: the token's namespace claim]");
  app.add_option("--ca-file", raw.ca_file,
                 "CA bundle for TLS [env KFP_CA_FILE; default: system trust store]");
  app.add_flag("--insecure-skip-tls-verify", raw.insecure_skip_tls_verify,
               "do not verify the server's certificate");
  app.add_option("--api", raw.api, "auto|v2beta1|v1beta1 [env KFP_API; default auto: probe healthz]");
  app.add_option("--request-timeout", raw.request_timeout, "timeout of each network step [default 30s]");
  app.add_option("--retries", raw.retries,
                 "retries of a failed request, with backoff and jitter [default 5]");
  app.add_option("-o,--output", raw.output,
                 "text|json: json prints exactly one report object on stdout [env KFP_OUTPUT]");
  app.add_option("--report", raw.report_file, "also write the JSON report to FILE");
  app.add_option("--results-dir", raw.results_dir,
                 "write one file per result field (Tekton results, Argo outputs)");
  app.add_flag("-v,--verbose", raw.verbose, "more detail on stderr (repeat for more)");
  app.add_flag("-q,--quiet", raw.quiet, "only errors on stderr");
}

// When the command line cannot be parsed we still owe a JSON report if JSON was asked for.
bool json_requested(int argc, const char* const* argv, const util::Environment& env) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "-o" || arg == "--output") && i + 1 < argc && std::string_view(argv[i + 1]) == "json")
      return true;
    if (arg == "-ojson" || arg == "--output=json") return true;
  }
  auto variable = env.get("KFP_OUTPUT");
  return variable && *variable == "json";
}

bool colour_allowed(const util::Environment& env, std::FILE* stream) {
  return !env.get("NO_COLOR") && ::isatty(::fileno(stream)) == 1 && env.get("TERM").value_or("") != "dumb";
}

// "::error title=kfp-publish::..." for GitHub's log annotations; % and newlines must be escaped.
std::string github_annotation(const report::Report& report) {
  std::string message = report::summary_line(report);
  std::string escaped;
  for (char c : message) {
    if (c == '%')
      escaped += "%25";
    else if (c == '\r')
      escaped += "%0D";
    else if (c == '\n')
      escaped += "%0A";
    else
      escaped.push_back(c);
  }
  return fmt::format("::error title=kfp-publish::{}\n", escaped);
}

class App {
 public:
  App(const util::Environment& env, Streams streams) : env_(env), streams_(streams) {}

  int run(int argc, const char* const* argv) {
    CLI::App app{
        "kfp-publish publishes compiled Kubeflow Pipelines packages from CI, starts runs and "
        "waits for them, with exit codes and a JSON report that CI can read.",
        "kfp-publish"};
    app.fallthrough();  // global options may follow the command
    app.require_subcommand(0, 1);
    app.footer(util::exit_code_table());
    app.set_version_flag("--version", fmt::format("kfp-publish {}", KFP_PUBLISH_VERSION));
    RawGlobalOptions raw;
    define_global_options(app, raw);

    auto commands = make_commands();
    std::vector<std::pair<CLI::App*, Command*>> subcommands;
    for (auto& command : commands) {
      CLI::App* sub = app.add_subcommand(std::string(command->name()), std::string(command->summary()));
      sub->footer(
          std::string("Global options (--host, --token-file, --namespace, -o json, --report, ...) may come\n"
                      "before or after the command: see kfp-publish --help.\n\n") +
          util::exit_code_table());
      command->define(*sub);
      subcommands.emplace_back(sub, command.get());
    }

    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      print_out(app.help());
      return 0;
    } catch (const CLI::CallForAllHelp&) {
      print_out(app.help("", CLI::AppFormatMode::All));
      return 0;
    } catch (const CLI::CallForVersion& e) {
      print_out(std::string(e.what()) + "\n");
      return 0;
    } catch (const CLI::ParseError& e) {
      std::string command_name;
      for (auto& [sub, command] : subcommands) {
        if (sub->parsed()) command_name = command->name();
      }
      return parse_failure(e, command_name, commands, json_requested(argc, argv, env_), raw);
    }

    Command* chosen = nullptr;
    for (auto& [sub, command] : subcommands) {
      if (sub->parsed()) chosen = command;
    }
    if (chosen == nullptr) {
      print_out(app.help());
      return util::to_int(util::ExitCode::usage);
    }

    report::Report report;
    report.command = std::string(chosen->name());
    auto resolved = resolve_global_options(raw, env_);
    if (!resolved) {
      report.set_failure(resolved.error());
      const bool json = json_requested(argc, argv, env_);
      StderrLog log(0, Terminal::no, false, streams_.err);
      std::optional<std::filesystem::path> report_file;
      std::optional<std::filesystem::path> results_dir;
      if (!raw.report_file.empty()) report_file = raw.report_file;
      if (!raw.results_dir.empty()) results_dir = raw.results_dir;
      return finish(report, *chosen, json ? OutputFormat::json : OutputFormat::text, log,
                    report::targets_from(env_, report_file, results_dir));
    }
    const GlobalOptions& options = *resolved;
    StderrLog log(options.verbosity, ::isatty(::fileno(streams_.err)) == 1 ? Terminal::yes : Terminal::no,
                  colour_allowed(env_, streams_.err), streams_.err);
    Context context{options, env_, log};
    try {
      chosen->run(context, report);
    } catch (const util::Error& e) {
      report.set_failure(e.failure());
    } catch (const std::exception& e) {
      report.set_failure(util::fail(util::ErrorKind::internal, fmt::format("internal error: {}", e.what()),
                                    "this is a bug in kfp-publish; please report it with the command line"));
    }
    if (util::interrupted() && !report.error) {
      report.set_failure(util::fail(util::ErrorKind::interrupted, "interrupted by a signal"));
    }
    return finish(report, *chosen, options.output, log,
                  report::targets_from(env_, options.report_file, options.results_dir));
  }

 private:
  void print_out(const std::string& text) {
    std::fputs(text.c_str(), streams_.out);
    std::fflush(streams_.out);
  }

  int parse_failure(const CLI::ParseError& e, const std::string& command_name,
                    const std::vector<std::unique_ptr<Command>>& commands, bool json,
                    const RawGlobalOptions& raw) {
    std::string message = e.what();
    std::string hint = command_name.empty() ? "see kfp-publish --help"
                                            : fmt::format("see kfp-publish {} --help", command_name);
    if (command_name.empty() && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      std::string names;
      for (const auto& command : commands)
        names += fmt::format("{}{}", names.empty() ? "" : ", ", command->name());
      message = fmt::format("unknown command or argument: {} (commands: {})", e.what(), names);
    }
    report::Report report;
    report.command = command_name.empty() ? "kfp-publish" : command_name;
    report.set_failure(util::fail(util::ErrorKind::usage, message, hint));
    fmt::print(streams_.err, "kfp-publish: error: {}\n  hint: {}\n", message, hint);
    write_outputs_of_usage_error(report, raw);
    if (json) print_out(boost::json::serialize(report::to_json(report)) + "\n");
    return report.exit_code;
  }

  // A usage error still owes CI its report where the command line named one (--report and
  // --results-dir as far as they were parsed).
  void write_outputs_of_usage_error(const report::Report& report, const RawGlobalOptions& raw) {
    std::optional<std::filesystem::path> report_file;
    std::optional<std::filesystem::path> results_dir;
    if (!raw.report_file.empty()) report_file = raw.report_file;
    if (!raw.results_dir.empty()) results_dir = raw.results_dir;
    for (const auto& failure :
         report::write_outputs(report, report::targets_from(env_, report_file, results_dir))) {
      fmt::print(streams_.err, "kfp-publish: error: {}\n", failure.message);
    }
  }

  int finish(report::Report& report, const Command& command, OutputFormat format, StderrLog& log,
             const report::OutputTargets& targets) {
    for (const auto& failure : report::write_outputs(report, targets)) {
      log.error("{}", failure.message);
      // A CI that reads a report we could not write must not see success.
      if (report.exit_code == 0) report.set_failure(failure);
    }
    if (report.error) {
      log.error("{}", report.error->message);
      if (!report.error->hint.empty()) {
        fmt::print(streams_.err, "  hint: {}\n", report.error->hint);
        std::fflush(streams_.err);
      }
      if (env_.get("GITHUB_ACTIONS") == std::optional<std::string>("true")) {
        std::fputs(github_annotation(report).c_str(), streams_.err);
      }
    }
    if (format == OutputFormat::json) {
      print_out(boost::json::serialize(report::to_json(report)) + "\n");
    } else {
      print_out(command.render_text(report));
    }
    return report.exit_code;
  }

  const util::Environment& env_;
  Streams streams_;
};

}  // namespace

int run_cli(int argc, const char* const* argv, const util::Environment& env, Streams streams) {
  try {
    util::install_interrupt_handlers();
    App app(env, streams);
    return app.run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(streams.err, "kfp-publish: internal error: {}\n", e.what());
    return util::to_int(util::ExitCode::internal);
  }
}

}  // namespace kfp::cli
