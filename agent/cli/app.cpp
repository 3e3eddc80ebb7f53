#include "cli/app.hpp"

#include "cli/command.hpp"
#include "cli/options.hpp"
#include "cli/stderr_log.hpp"
#include "http/url.hpp"
#include "report/outputs.hpp"
#include "report/report.hpp"
#include "report/serialize.hpp"
#include "util/exit_code.hpp"
#include "util/file.hpp"
#include "util/interrupt.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <unistd.h>
#include <cerrno>
#include <cstring>

#include <array>
#include <filesystem>
#include <optional>

namespace kfp::cli {

std::string Command::render_text(const report::Report& report) const {
  return report::summary_line(report) + "\n";
}

namespace {

// Variables that may hold URLs with credentials in them.
constexpr std::array<const char*, 6> url_variables = {"KFP_HOST",   "KF_PIPELINES_ENDPOINT", "HTTPS_PROXY",
                                                      "HTTP_PROXY", "https_proxy",           "http_proxy"};

void define_global_options(CLI::App& app, RawGlobalOptions& raw) {
  app.add_option("--host", raw.host,
                 fmt::format("KFP API URL, may carry a path prefix; no credentials, query or fragment [env "
                             "KFP_HOST, KF_PIPELINES_ENDPOINT; default {}]",
                             default_host));
  app.add_option("--token-file", raw.token_file,
                 fmt::format("service-account token file, read afresh for every request [env "
                             "KF_PIPELINES_SA_TOKEN_PATH; default {}; absent file: no auth header]",
                             default_token_file));
  app.add_option("--token-source", raw.token_source,
                 "where the bearer token comes from: file (--token-file), github-oidc (the GitHub Actions "
                 "OIDC token; the job needs permissions: id-token: write) or entra (a Microsoft Entra ID "
                 "token by workload identity federation) [env KFP_TOKEN_SOURCE; default file]");
  app.add_option("--token-audience", raw.token_audience,
                 "the audience the token must carry; github-oidc requests it, entra requests the scope "
                 "AUD/.default [env KFP_TOKEN_AUDIENCE; default for file: pipelines.kubeflow.org]");
  app.add_option("--token-issuer", raw.token_issuer,
                 "the issuer the token's iss must equal [env KFP_TOKEN_ISSUER; default for github-oidc: "
                 "https://token.actions.githubusercontent.com; for entra: the tenant's v2.0 or v1 issuer; "
                 "for file: not checked]");
  app.add_option("--namespace", raw.namespace_name,
                 "profile namespace [env KFP_NAMESPACE; default: the token's namespace claim]");
  app.add_flag("--shared-pipeline", raw.shared_pipeline,
               "publish and look up pipelines without a namespace (shared: every user of the server can "
               "read them); runs and experiments stay in the namespace. The way to publish with a "
               "service-account token on multi-user KFP 1.8, whose upload endpoints authorize only from "
               "kubeflow-userid; on KFP 2.17+ creating a new shared pipeline needs pipelines/create in "
               "the kubeflow namespace [env KFP_SHARED_PIPELINE=true]");
  app.add_option("--ca-file", raw.ca_file,
                 "CA bundle for TLS [env KFP_CA_FILE; default: system trust store]");
  app.add_flag("--insecure-skip-tls-verify", raw.insecure_skip_tls_verify,
               "do not verify the server's certificate");
  app.add_option("--api", raw.api, "auto|v2beta1|v1beta1 [env KFP_API; default auto: probe healthz]");
  app.add_option("--request-timeout", raw.request_timeout, "timeout of each network step [default 30s]");
  app.add_option("--retries", raw.retries,
                 "retries of a failed request, with backoff and jitter [default 5]");
  app.add_option(
      "-o,--output", raw.output,
      "text|json: json prints exactly one report object on stdout, in every case [env KFP_OUTPUT]");
  app.add_option("--report", raw.report_file,
                 "also write the JSON report to FILE (replaced atomically; written in place where a rename "
                 "cannot: a mount point, a device, /dev/stdout)");
  app.add_option("--results-dir", raw.results_dir,
                 "write one file per result field (Tekton results, Argo outputs)");
  app.add_option(
      "--termination-log", raw.termination_log,
      fmt::format("write the report as compact JSON of at most {} bytes to FILE, in place (the pod's "
                  "termination message) [env {}; default {} when it exists]",
                  report::max_termination_message_bytes, report::termination_log_variable,
                  report::default_termination_log));
  app.add_flag("-v,--verbose", raw.verbose, "more detail on stderr (repeat for more)");
  app.add_flag("-q,--quiet", raw.quiet, "only errors on stderr");
}

// Whether JSON was asked for, read from the raw command line: help, --version and a command line that
// cannot be parsed still owe one JSON object then. The last -o wins, as in CLI11.
bool json_requested(int argc, const char* const* argv, const util::Environment& env) {
  std::optional<bool> json;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;
    std::optional<std::string_view> value;
    if ((arg == "-o" || arg == "--output") && i + 1 < argc) {
      value = argv[++i];
    } else if (arg.substr(0, 9) == "--output=") {
      value = arg.substr(9);
    } else if (arg.size() > 2 && arg.substr(0, 2) == "-o") {
      value = arg.substr(arg[2] == '=' ? 3 : 2);
    }
    if (value) json = *value == "json";
  }
  if (json) return *json;
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

report::OutputRequest output_request(const RawGlobalOptions& raw) {
  report::OutputRequest request;
  if (!raw.report_file.empty()) request.report_file = raw.report_file;
  if (!raw.results_dir.empty()) request.results_dir = raw.results_dir;
  if (!raw.termination_log.empty()) request.termination_log = raw.termination_log;
  return request;
}

class App {
 public:
  App(const util::Environment& env, Streams streams) : env_(env), streams_(streams) {}

  int run(int argc, const char* const* argv) {
    // Before anything can be printed: credentials in any URL given are redacted from every output.
    for (int i = 1; i < argc; ++i) add_url_credentials(argv[i]);
    for (const char* variable : url_variables) {
      if (auto value = env_.get(variable)) add_url_credentials(*value);
    }
    const bool json = json_requested(argc, argv, env_);

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
          std::string(
              "Global options (--host, --token-file, --namespace, --shared-pipeline, -o json, --report,\n"
              "...) may come before or after the command: see kfp-publish --help.\n\n") +
          util::exit_code_table());
      command->define(*sub);
      subcommands.emplace_back(sub, command.get());
    }
    auto parsed_command = [&]() -> Command* {
      for (auto& [sub, command] : subcommands) {
        if (sub->parsed()) return command;
      }
      return nullptr;
    };

    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      return help(app.help(), json);
    } catch (const CLI::CallForAllHelp&) {
      return help(app.help("", CLI::AppFormatMode::All), json);
    } catch (const CLI::CallForVersion& e) {
      return version(std::string(e.what()) + "\n", json);
    } catch (const CLI::ParseError& e) {
      Command* command = parsed_command();
      return usage_failure(command, parse_message(e, command, commands),
                           command == nullptr ? "see kfp-publish --help"
                                              : fmt::format("see kfp-publish {} --help", command->name()),
                           json, raw);
    }

    Command* chosen = parsed_command();
    if (chosen == nullptr) {
      if (!json) print_out(app.help());
      return usage_failure(nullptr, fmt::format("no command given (commands: {})", command_names(commands)),
                           "see kfp-publish --help", json, raw);
    }

    report::Report report;
    report.command = std::string(chosen->name());
    auto resolved = resolve_global_options(raw, env_);
    if (!resolved) {
      report.set_failure(resolved.error());
      StderrLog log(0, Terminal::no, false, secrets_, streams_.err);
      return finish(report, chosen, json ? OutputFormat::json : OutputFormat::text, log,
                    report::targets_from(env_, output_request(raw)));
    }
    const GlobalOptions& options = *resolved;
    StderrLog log(options.verbosity, ::isatty(::fileno(streams_.err)) == 1 ? Terminal::yes : Terminal::no,
                  colour_allowed(env_, streams_.err), secrets_, streams_.err);
    const auto targets = report::targets_from(env_, output_request(raw));

    // Every destination is checked before the first request: a run must not be waited for an hour
    // and then find its report directory missing.
    if (auto failure = check_destinations(targets, log)) {
      report.set_failure(*failure);
    } else {
      Context context{options, env_, log, secrets_};
      try {
        chosen->run(context, report);
      } catch (const util::Error& e) {
        report.set_failure(e.failure());
      } catch (const std::exception& e) {
        report.set_failure(
            util::fail(util::ErrorKind::internal, fmt::format("internal error: {}", e.what()),
                       "this is a bug in kfp-publish; please report it with the command line"));
      }
    }
    if (util::interrupted() && (!report.error || report.error->kind != util::ErrorKind::interrupted)) {
      // A signal decides the exit code (130), whatever failure it caused on its way.
      const std::string cause = report.error ? fmt::format(" ({})", report.error->message) : std::string();
      report.set_failure(util::fail(util::ErrorKind::interrupted, "interrupted by a signal" + cause));
    }
    return finish(report, chosen, options.output, log, targets);
  }

 private:
  void add_url_credentials(std::string_view text) {
    for (const auto& credentials : http::url_credentials(text)) {
      // A password ("user:pass@") or a token as the user name ("ghp_…@"); a short plain user name
      // ("git@" in ssh://git@host/repo) is no secret, and redacting it would garble ordinary text.
      if (credentials.find(':') != std::string::npos || credentials.size() > util::min_redacted_head_chars) {
        secrets_.add(credentials, util::Secrets::Kind::credentials);
      }
    }
  }

  static std::string command_names(const std::vector<std::unique_ptr<Command>>& commands) {
    std::string names;
    for (const auto& command : commands)
      names += fmt::format("{}{}", names.empty() ? "" : ", ", command->name());
    return names;
  }

  static std::string parse_message(const CLI::ParseError& e, const Command* command,
                                   const std::vector<std::unique_ptr<Command>>& commands) {
    if (command == nullptr && dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
      return fmt::format("unknown command or argument: {} (commands: {})", e.what(), command_names(commands));
    }
    return e.what();
  }

  std::optional<util::Failure> check_destinations(const report::OutputTargets& targets, StderrLog& log) {
    std::optional<util::Failure> first;
    if (!util::writable_descriptor(::fileno(streams_.out))) {
      first =
          util::fail(util::ErrorKind::usage, "stdout is closed or not open for writing",
                     "give kfp-publish a writable stdout (or redirect it to /dev/null); nothing was sent");
      log.error("{}", first->message);
    }
    for (auto& failure : report::check_outputs(targets)) {
      if (!first) {
        first = std::move(failure);
      } else {
        log.error("{}", failure.message);
      }
    }
    return first;
  }

  // Prints to stdout; false (errno kept) when the text could not be written whole.
  bool print_out(const std::string& text) {
    const std::string redacted = secrets_.redact(text);
    errno = 0;
    const bool written = std::fputs(redacted.c_str(), streams_.out) >= 0;
    return std::fflush(streams_.out) == 0 && written && std::ferror(streams_.out) == 0;
  }

  // Prints stdout's last text; a failed write (closed, full) turns success into a usage error.
  void print_result(report::Report& report, const std::string& text, StderrLog& log) {
    if (print_out(text)) return;
    const int error = errno;
    log.error("cannot write to stdout: {}", error != 0 ? std::strerror(error) : "write error");
    if (report.exit_code == 0) {
      report.set_failure(util::fail(util::ErrorKind::usage, "cannot write to stdout"));
    }
  }

  int help(const std::string& text, bool json) {
    if (!json) return print_out(text) ? 0 : util::to_int(util::ExitCode::usage);
    report::Report report;
    report.command = "help";
    report.details["help"] = text;
    return print_out(report::to_json_text(report, secrets_) + "\n") ? 0 : util::to_int(util::ExitCode::usage);
  }

  int version(const std::string& text, bool json) {
    if (!json) return print_out(text) ? 0 : util::to_int(util::ExitCode::usage);
    report::Report report;
    report.command = "version";
    report.details["version"] = KFP_PUBLISH_VERSION;
    return print_out(report::to_json_text(report, secrets_) + "\n") ? 0 : util::to_int(util::ExitCode::usage);
  }

  // A command line that cannot be used: the error on stderr, and the report (stdout with -o json,
  // and wherever the command line named a destination, as far as it was parsed).
  int usage_failure(const Command* command, const std::string& message, const std::string& hint, bool json,
                    const RawGlobalOptions& raw) {
    report::Report report;
    report.command = command == nullptr ? "kfp-publish" : std::string(command->name());
    report.set_failure(util::fail(util::ErrorKind::usage, message, hint));
    StderrLog log(0, Terminal::no, false, secrets_, streams_.err);
    // Text mode prints nothing on stdout here: the error is on stderr.
    return finish(report, nullptr, json ? std::optional(OutputFormat::json) : std::nullopt, log,
                  report::targets_from(env_, output_request(raw)));
  }

  // Writes the outputs, the error and stdout; returns the exit code. `command` renders -o text
  // (none: the summary line); no format prints nothing on stdout.
  int finish(report::Report& report, const Command* command, std::optional<OutputFormat> format,
             StderrLog& log, const report::OutputTargets& targets) {
    for (const auto& failure : report::write_outputs(report, targets, secrets_)) {
      log.error("{}", failure.message);
      // A CI that reads a report we could not write must not see success.
      if (report.exit_code == 0) report.set_failure(failure);
    }
    if (report.error) {
      log.error("{}", report.error->message);
      if (!report.error->hint.empty()) log.hint(report.error->hint);
      // Why the run failed, in the CI log itself: each failed task and its log's tail.
      if (auto block = report::failed_tasks_text(report); !block.empty()) log.raw(block);
      if (env_.get("GITHUB_ACTIONS") == std::optional<std::string>("true"))
        log.raw(github_annotation(report));
    }
    if (format == OutputFormat::json) {
      print_result(report, report::to_json_text(report, secrets_) + "\n", log);
    } else if (format == OutputFormat::text) {
      print_result(report,
                   command != nullptr ? command->render_text(report) : report::summary_line(report) + "\n",
                   log);
    }
    return report.exit_code;
  }

  const util::Environment& env_;
  Streams streams_;
  util::Secrets secrets_;
};

}  // namespace

int run_cli(int argc, const char* const* argv, const util::Environment& env, Streams streams) {
  try {
    // No file may land on a closed stdout or stderr (a report written where stdout was closed).
    util::occupy_closed_standard_descriptors();
    util::install_interrupt_handlers();
    App app(env, streams);
    return app.run(argc, argv);
  } catch (const std::exception& e) {
    fmt::print(streams.err, "kfp-publish: internal error: {}\n", e.what());
    return util::to_int(util::ExitCode::internal);
  }
}

}  // namespace kfp::cli
