#include "cli/commands.hpp"

#include <fmt/format.h>
#include <boost/json/value_from.hpp>

namespace kfp::cli {

namespace {

class VersionCommand final : public Command {
 public:
  [[nodiscard]] std::string_view name() const override { return "version"; }
  [[nodiscard]] std::string_view summary() const override { return "print the version of kfp-publish"; }
  void define(CLI::App& /*app*/) override {}
  void run(Context& /*context*/, report::Report& report) override {
    report.details["version"] = KFP_PUBLISH_VERSION;
  }
  [[nodiscard]] std::string render_text(const report::Report& /*report*/) const override {
    return fmt::format("kfp-publish {}\n", KFP_PUBLISH_VERSION);
  }
};

}  // namespace

std::unique_ptr<Command> make_version_command() {
  return std::make_unique<VersionCommand>();
}

}  // namespace kfp::cli
