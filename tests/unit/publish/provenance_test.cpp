#include "publish/provenance.hpp"

#include <doctest/doctest.h>

using namespace kfp;

TEST_CASE("GitHub Actions variables give commit, CI run, source URL and a run key") {
  util::MapEnvironment env({{"GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"},
                            {"GITHUB_REPOSITORY", "acme/ml"},
                            {"GITHUB_RUN_ID", "42"},
                            {"GITHUB_RUN_ATTEMPT", "2"},
                            {"GITHUB_JOB", "publish"}});
  auto provenance = publish::provenance_from(env);
  CHECK(provenance.ci_run == "github-42-2");
  CHECK(provenance.code_source_url ==
        "https://github.com/acme/ml/tree/0123456789abcdef0123456789abcdef01234567");
  auto tags = provenance.tags();
  CHECK(tags.at("commit") == "0123456789abcdef0123456789abcdef01234567");
  for (const auto& [key, value] : tags) {
    CHECK(key.size() <= 63);
    CHECK(value.size() <= 63);
  }
  CHECK(publish::ci_run_key(env) == std::optional<std::string>("github:acme/ml:42:2:publish"));
}

TEST_CASE("KFP_RUN_KEY wins, and no CI means no key") {
  util::MapEnvironment env({{"GITHUB_RUN_ID", "42"}, {"KFP_RUN_KEY", "job-uid-1"}});
  CHECK(publish::ci_run_key(env) == std::optional<std::string>("job-uid-1"));
  CHECK_FALSE(publish::ci_run_key(util::MapEnvironment{}).has_value());
}

TEST_CASE("run markers differ by key, pipeline and experiment, and are stable") {
  auto a = publish::run_marker("k", "p", "e");
  CHECK(a == publish::run_marker("k", "p", "e"));
  CHECK(a != publish::run_marker("k2", "p", "e"));
  CHECK(a != publish::run_marker("k", "p2", "e"));
  CHECK(a != publish::run_marker("k", "p", "e2"));
  CHECK(a.rfind("kfp-publish-run-key:", 0) == 0);
}
