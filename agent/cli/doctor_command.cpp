#include "cli/commands.hpp"
#include "cli/network.hpp"
#include "cli/stderr_log.hpp"
#include "doctor/doctor.hpp"
#include "report/outputs.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace kfp::cli {

namespace {

constexpr std::size_t name_column = 44;

std::string_view marker(std::string_view status, bool terminal) {
  if (status == "ok") return terminal ? "✓" : "[ok]  ";
  if (status == "warn") return terminal ? "!" : "[warn]";
  if (status == "fail") return terminal ? "✗" : "[FAIL]";
  return terminal ? "-" : "[skip]";
}

std::string text_of(const boost::json::object& object, std::string_view key) {
  auto it = object.find(key);
  return it != object.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

class DoctorCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "doctor"; }
  [[nodiscard]] std::string_view summary() const override {
    return "check the token, network, server and permissions link by link, and name the fix";
  }
  void define(CLI::App& /*app*/) override {}

  void run(Context& context, report::Report& report) override {
    const auto& options = context.options.session;
    // doctor asks about the token file it was told of, or the default one: absence is then a finding.
    auto result = doctor::run_doctor(options, session_services(context), scope_of(context.options));
    if (result.server) {
      report.server = report::ServerInfo{options.host, result.server->api, result.server->version,
                                         result.server->multi_user};
    }
    report.namespace_name = result.namespace_name;
    report.details["checks"] = doctor::to_json(result.checks);
    if (auto failure = doctor::first_failure(result.checks)) throw util::Error(*failure);
  }

  [[nodiscard]] std::string render_text(const report::Report& report) const override {
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    std::string out;
    auto checks = report.details.find("checks");
    if (checks == report.details.end() || !checks->value().is_array())
      return report::summary_line(report) + "\n";
    for (const auto& item : checks->value().as_array()) {
      if (!item.is_object()) continue;
      const auto& check = item.as_object();
      const std::string status = text_of(check, "status");
      out += fmt::format("{} {:<{}} {}\n", marker(status, terminal), text_of(check, "name"),
                         terminal ? name_column - 2 : name_column - 6, text_of(check, "detail"));
      const std::string fix = text_of(check, "fix");
      if (!fix.empty() && (status == "fail" || status == "warn")) {
        // Lines after the first (YAML ready for kubectl apply) stay unindented, to copy as they are.
        out += fmt::format("    fix: {}\n", fix);
      }
    }
    out +=
        report.error ? fmt::format("doctor: {}\n", report.error->message) : "doctor: no broken link found\n";
    return out;
  }
};

}  // namespace

std::unique_ptr<Command> make_doctor_command() {
  return std::make_unique<DoctorCommand>();
}

}  // namespace kfp::cli
