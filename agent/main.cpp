#include "cli/app.hpp"
#include "util/environment.hpp"

int main(int argc, char** argv) {
  const kfp::util::ProcessEnvironment env;
  return kfp::cli::run_cli(argc, argv, env);
}
