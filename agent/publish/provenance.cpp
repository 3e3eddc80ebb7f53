#include "publish/provenance.hpp"

#include "http/url.hpp"
#include "util/digest.hpp"

#include <fmt/format.h>

namespace kfp::publish {

namespace {

constexpr std::size_t max_tag_chars = 63;

}  // namespace

Provenance provenance_from(const util::Environment& env) {
  Provenance provenance;
  provenance.commit = env.get("GITHUB_SHA").value_or("");
  provenance.repository = env.get("GITHUB_REPOSITORY").value_or("");
  // The server's URL goes into descriptions (the code source URL among them), which every user can read.
  auto server = http::without_credentials(env.get("GITHUB_SERVER_URL").value_or("https://github.com")).url;
  if (auto run_id = env.get("GITHUB_RUN_ID")) {
    auto attempt = env.get("GITHUB_RUN_ATTEMPT").value_or("1");
    provenance.ci_run = fmt::format("github-{}-{}", *run_id, attempt);
    if (!provenance.repository.empty()) {
      provenance.ci_run_url =
          fmt::format("{}/{}/actions/runs/{}/attempts/{}", server, provenance.repository, *run_id, attempt);
    }
  }
  if (!provenance.repository.empty() && !provenance.commit.empty()) {
    provenance.code_source_url =
        fmt::format("{}/{}/tree/{}", server, provenance.repository, provenance.commit);
  }
  return provenance;
}

std::map<std::string, std::string> Provenance::tags() const {
  std::map<std::string, std::string> out;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty() && value.size() <= max_tag_chars) out[key] = value;
  };
  add("commit", commit);
  add("ci-run", ci_run);
  add("repository", repository);
  return out;
}

namespace {

std::string sentence_with(const Provenance& provenance, const std::string& ci_run) {
  std::string out;
  if (!provenance.repository.empty() || !provenance.commit.empty()) {
    out = fmt::format("from {}@{}", provenance.repository.empty() ? "?" : provenance.repository,
                      provenance.commit.substr(0, 12));
  }
  if (!ci_run.empty()) out += fmt::format("{}CI run {}", out.empty() ? "" : ", ", ci_run);
  return out;
}

}  // namespace

std::string Provenance::sentence() const {
  return sentence_with(*this, ci_run_url.empty() ? ci_run : ci_run_url);
}

std::string Provenance::short_sentence() const {
  return sentence_with(*this, ci_run);
}

std::optional<std::string> ci_run_key(const util::Environment& env) {
  if (auto key = env.get("KFP_RUN_KEY")) return key;
  if (auto run_id = env.get("GITHUB_RUN_ID")) {
    return fmt::format("github:{}:{}:{}:{}", env.get("GITHUB_REPOSITORY").value_or(""), *run_id,
                       env.get("GITHUB_RUN_ATTEMPT").value_or("1"), env.get("GITHUB_JOB").value_or(""));
  }
  return std::nullopt;
}

std::string run_marker(const std::string& run_key, const std::string& pipeline,
                       const std::string& experiment) {
  const std::string digest = util::sha256_digest(fmt::format("{}\n{}\n{}", run_key, pipeline, experiment));
  // "sha256:" + 32 hex digits: unique enough, short enough to read in the UI.
  return fmt::format("kfp-publish-run-key:{}", digest.substr(7, 32));
}

}  // namespace kfp::publish
