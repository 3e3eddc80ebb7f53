#include "package/package.hpp"

#include "unit/package/archive_writer.hpp"
#include "util/digest.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using kfp::package::Kind;
using kfp::package::load;
using kfp::package::Package;
using kfp::package::ParameterType;
using kfp::package::testing::ArchiveWriter;
using kfp::package::testing::make_archive;
using kfp::package::testing::WriteFormat;
using kfp::util::ErrorKind;

namespace {

const fs::path corpus_dir = fs::path(KFP_SHARED_DIR) / "pipelines-corpus";
const fs::path examples_dir = fs::path(KFP_SOURCE_DIR) / "pipelines-examples";

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

void write_bytes(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

// A scratch directory removed when the test ends.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = fs::temp_directory_path() / ("kfp-package-test-" + std::to_string(seed()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] fs::path file(const std::string& name, const std::string& content) const {
    fs::path path = path_ / name;
    write_bytes(path, content);
    return path;
  }

 private:
  fs::path path_;
};

std::string unquote(std::string value) {
  while (!value.empty() && (value.back() == ' ' || value.back() == '\r')) value.pop_back();
  if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"') && value.back() == value.front()) {
    value = value.substr(1, value.size() - 2);
  }
  return value;
}

// The value of "  <key>: X" inside the top-level block "<section>:", read line by line with no
// YAML parser, so the loader is checked against an independent reading.
std::string grep_nested(const std::string& text, const std::string& section, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  bool inside = false;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') inside = line.rfind(section + ":", 0) == 0;
    if (inside && line.rfind("  " + key + ":", 0) == 0) return unquote(line.substr(key.size() + 4));
  }
  return {};
}

std::string expected_name(const std::string& text) {
  if (!text.empty() && text.front() == '{') {
    return std::string(boost::json::parse(text).at("pipelineInfo").at("name").as_string());
  }
  if (text.find("\nkind: Workflow") != std::string::npos) {
    std::string name = grep_nested(text, "metadata", "name");
    if (name.empty()) name = grep_nested(text, "metadata", "generateName");
    while (!name.empty() && name.back() == '-') name.pop_back();
    return name;
  }
  return grep_nested(text, "pipelineInfo", "name");
}

std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::exists(dir)) return files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool is_sha256_digest(const std::string& digest) {
  return digest.size() == 71 && digest.rfind("sha256:", 0) == 0 &&
         digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos;
}

}  // namespace

TEST_CASE("every valid corpus package loads with the name read independently") {
  if (!fs::exists(corpus_dir)) {
    MESSAGE("skipped: " << corpus_dir << " is absent");
    return;
  }
  std::size_t loaded = 0;
  auto started = std::chrono::steady_clock::now();
  for (const char* folder : {"valid", "v1-argo", "argo_compatibility"}) {
    for (const fs::path& path : files_under(corpus_dir / folder)) {
      CAPTURE(path);
      auto package = load(path);
      REQUIRE_MESSAGE(package.has_value(), (package.has_value() ? std::string() : package.error().message));
      std::string text = package->document;
      CHECK(package->pipeline_name == expected_name(text));
      CHECK_FALSE(package->pipeline_name.empty());
      CHECK(package->kind == (std::string(folder) == "v1-argo" ? Kind::argo_workflow : Kind::pipeline_spec));
      CHECK(package->has_platform_spec == (text.find("\nplatforms:\n") != std::string::npos));
      CHECK(is_sha256_digest(package->digest));
      CHECK(package->digest == kfp::util::sha256_digest(text));
      for (const auto& warning : package->warnings) {
        CHECK_MESSAGE(warning.find("TASK_FINAL_STATUS") != std::string::npos, warning);
      }
      ++loaded;
    }
  }
  auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started);
  MESSAGE("loaded " << loaded << " corpus packages in " << elapsed.count() << " ms");
  CHECK(loaded > 50);
}

TEST_CASE("every invalid corpus package fails as invalid_package") {
  if (!fs::exists(corpus_dir)) {
    MESSAGE("skipped: " << corpus_dir << " is absent");
    return;
  }
  auto files = files_under(corpus_dir / "invalid");
  CHECK(files.size() >= 6);
  for (const fs::path& path : files) {
    CAPTURE(path);
    auto package = load(path);
    REQUIRE_FALSE(package.has_value());
    CHECK(package.error().kind == ErrorKind::invalid_package);
    CHECK(package.error().message.rfind(path.string(), 0) == 0);  // names the file first
    // The upload endpoint refuses them too.
    auto uploaded = kfp::package::parse_upload(read_bytes(path), path.filename().string());
    CHECK_FALSE(uploaded.has_value());
  }
}

TEST_CASE("corpus failures say why") {
  if (!fs::exists(corpus_dir)) {
    MESSAGE("skipped: " << corpus_dir << " is absent");
    return;
  }
  auto message = [](const char* name) { return load(corpus_dir / "invalid" / name).error().message; };
  CHECK(message("invalid_yaml.yaml").find("unknown field \"components_1\"") != std::string::npos);
  CHECK(message("no_name.yaml").find("pipelineInfo.name is empty") != std::string::npos);
  CHECK(message("empty_file.yaml").find("no YAML document") != std::string::npos);
  CHECK(message("empty_zip.zip").find("lacks its signature") != std::string::npos);
  CHECK(message("invalid-zip.zip").find("invalid-zip.zip!invalid_yaml.yaml") != std::string::npos);
}

TEST_CASE("every file in pipelines-examples/ validates") {
  struct Expected {
    std::string name;
    Kind kind;
    bool platform;
    std::size_t inputs;
  };
  const std::map<std::string, Expected> table{
      {"hello-world.yaml", {"hello-world", Kind::pipeline_spec, false, 1}},
      {"hello-world.zip", {"hello-world", Kind::pipeline_spec, false, 1}},
      {"hello-world.tar.gz", {"hello-world", Kind::pipeline_spec, false, 1}},
      {"training-pipeline.yaml", {"training-pipeline", Kind::pipeline_spec, false, 9}},
      {"k8s-platform-pipeline.yaml", {"k8s-platform-pipeline", Kind::pipeline_spec, true, 2}},
  };
  std::size_t seen = 0;
  for (const fs::path& path : files_under(examples_dir)) {
    if (path.extension() == ".sh" || path.extension() == ".md") continue;
    // pipelines-examples/apply/ holds the declarative apply example, checked by the apply tests.
    if (path.lexically_relative(examples_dir).begin()->string() == "apply") continue;
    CAPTURE(path);
    auto expected = table.find(path.filename().string());
    REQUIRE_MESSAGE(expected != table.end(), "add this example to the table");
    auto package = load(path);
    REQUIRE_MESSAGE(package.has_value(), (package.has_value() ? std::string() : package.error().message));
    CHECK(package->pipeline_name == expected->second.name);
    CHECK(package->kind == expected->second.kind);
    CHECK(package->has_platform_spec == expected->second.platform);
    CHECK(package->inputs.size() == expected->second.inputs);
    CHECK(package->warnings.empty());
    CHECK_FALSE(package->description.empty());
    ++seen;
  }
  CHECK(seen == table.size());
}

TEST_CASE("hello-world requires one STRING message; its archives hold the same document") {
  auto plain = load(examples_dir / "hello-world.yaml");
  REQUIRE(plain.has_value());
  REQUIRE(plain->inputs.size() == 1);
  CHECK(plain->inputs[0].name == "message");
  CHECK(plain->inputs[0].type == ParameterType::string);
  CHECK_FALSE(plain->inputs[0].optional);
  CHECK_FALSE(plain->inputs[0].default_value.has_value());
  CHECK(plain->upload_filename == "hello-world.yaml");
  CHECK(plain->member.empty());

  for (const char* archive : {"hello-world.zip", "hello-world.tar.gz"}) {
    CAPTURE(archive);
    auto package = load(examples_dir / archive);
    REQUIRE(package.has_value());
    CHECK(package->member == "pipeline.yaml");
    CHECK(package->upload_filename == "pipeline.yaml");
    CHECK(package->document == plain->document);
    CHECK(package->digest == plain->digest);
  }
}

TEST_CASE("training-pipeline declares every parameter type, required and optional") {
  auto package = load(examples_dir / "training-pipeline.yaml");
  REQUIRE(package.has_value());
  std::map<std::string, kfp::package::InputParameter> inputs;
  for (const auto& input : package->inputs) inputs[input.name] = input;
  REQUIRE(inputs.size() == 9);
  CHECK(inputs["epochs"].type == ParameterType::number_integer);
  CHECK_FALSE(inputs["epochs"].optional);
  CHECK(inputs["batch_size"].type == ParameterType::number_integer);
  CHECK(inputs["batch_size"].optional);
  CHECK(*inputs["batch_size"].default_value == boost::json::value(32.0));
  CHECK(inputs["learning_rate"].type == ParameterType::number_double);
  CHECK(*inputs["learning_rate"].default_value == boost::json::value(0.001));
  CHECK(inputs["validation_split"].type == ParameterType::number_double);
  CHECK_FALSE(inputs["validation_split"].optional);
  CHECK(inputs["shuffle"].type == ParameterType::boolean);
  CHECK(*inputs["shuffle"].default_value == boost::json::value(true));
  CHECK(inputs["dataset_uri"].type == ParameterType::string);
  CHECK_FALSE(inputs["dataset_uri"].optional);
  CHECK(inputs["dataset_uri"].description.find("raw rows") != std::string::npos);
  CHECK(inputs["run_label"].optional);
  CHECK_FALSE(inputs["run_label"].default_value.has_value());
  CHECK(inputs["hidden_layers"].type == ParameterType::list);
  CHECK(*inputs["hidden_layers"].default_value == boost::json::parse("[128.0, 64.0]"));
  CHECK(inputs["optimizer"].type == ParameterType::structure);
  CHECK(*inputs["optimizer"].default_value ==
        boost::json::parse(R"({"beta1":0.9,"beta2":0.999,"name":"adam"})"));
}

TEST_CASE("load is helpful about names the server would not take, and keeps an uploadable name") {
  TempDir dir;
  std::string hello = read_bytes(examples_dir / "hello-world.yaml");

  auto bare = load(dir.file("Pipelinefile", hello));
  REQUIRE(bare.has_value());
  CHECK(bare->upload_filename == "Pipelinefile.yaml");
  CHECK(bare->warnings.size() == 1);

  auto upper = load(dir.file("hello.YAML", hello));
  REQUIRE(upper.has_value());
  CHECK(upper->upload_filename == "hello.yaml");

  auto zip = make_archive(WriteFormat::zip, {{"pipeline.yaml", hello}});
  auto renamed = load(dir.file("bundle.bin", zip));
  REQUIRE(renamed.has_value());
  CHECK(renamed->pipeline_name == "hello-world");

  auto tgz = load(dir.file("p.tgz", make_archive(WriteFormat::tar_gzip, {{"pipeline.yaml", hello}})));
  REQUIRE(tgz.has_value());
  CHECK(tgz->member == "pipeline.yaml");

  auto fake = load(dir.file("p.tar.gz", hello));
  REQUIRE_FALSE(fake.has_value());
  CHECK(fake.error().message.find("gzipped tarball but lacks its signature") != std::string::npos);

  auto missing = load(dir.file("x", "").parent_path() / "does-not-exist.yaml");
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().kind == ErrorKind::invalid_package);
}

TEST_CASE("parse_upload follows the server's case-sensitive suffix rule") {
  std::string hello = read_bytes(examples_dir / "hello-world.yaml");
  auto upper = kfp::package::parse_upload(hello, "hello.YAML");
  REQUIRE_FALSE(upper.has_value());
  CHECK(upper.error().message ==
        "hello.YAML: Unexpected pipeline file format. Support .zip, .tar.gz, .json or YAML");

  auto plain = kfp::package::parse_upload(hello, "hello.yml");
  REQUIRE(plain.has_value());
  CHECK(plain->upload_filename == "hello.yml");

  auto zipped =
      kfp::package::parse_upload(make_archive(WriteFormat::zip, {{"pipeline.yaml", hello}}), "upload");
  REQUIRE(zipped.has_value());
  CHECK(zipped->document == hello);
  CHECK(zipped->digest == kfp::util::sha256_digest(hello));

  auto parsed = kfp::package::parse(hello, "memory");
  REQUIRE(parsed.has_value());
  CHECK(parsed->upload_filename == "pipeline.yaml");
}

TEST_CASE("hostile packages end in a clean invalid_package failure") {
  TempDir dir;
  auto expect_failure = [](const fs::path& path, const std::string& fragment) {
    CAPTURE(path);
    auto package = load(path);
    REQUIRE_FALSE(package.has_value());
    CHECK(package.error().kind == ErrorKind::invalid_package);
    CHECK_MESSAGE(package.error().message.find(fragment) != std::string::npos, package.error().message);
  };

  SUBCASE("a 33 MiB file") {
    expect_failure(dir.file("big.yaml", std::string((std::size_t{33} << 20), '#')), "over the limit");
  }
  SUBCASE("an empty file") {
    expect_failure(dir.file("empty.yaml", ""), "no YAML document");
  }
  SUBCASE("a PNG") {
    std::string png("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    expect_failure(dir.file("image.png", png), "not UTF-8 text");
    expect_failure(dir.file("image.yaml", png), "not UTF-8 text");
  }
  SUBCASE("truncated YAML") {
    std::string hello = read_bytes(examples_dir / "hello-world.yaml");
    std::size_t cut = hello.find("\"\\nimport kfp");
    REQUIRE(cut != std::string::npos);
    expect_failure(dir.file("cut.yaml", hello.substr(0, cut + 20)), "invalid YAML");
    expect_failure(dir.file("flow.yaml", "a: [1, {b: 2"), "flow.yaml:1:");
  }
  SUBCASE("100,000-deep flow nesting") {
    expect_failure(dir.file("deep.yaml", std::string(100'000, '[') + std::string(100'000, ']')),
                   "nests deeper than 512");
  }
  SUBCASE("100,000-deep block nesting") {
    std::string deep;
    for (int i = 0; i < 100'000; ++i) deep += "- ";
    expect_failure(dir.file("deep-block.yaml", deep + "x\n"), "nests deeper than 512");
  }
  SUBCASE("a billion-laughs alias bomb") {
    std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
    for (char level = 'b'; level <= 'j'; ++level) {
      char previous = static_cast<char>(level - 1);
      bomb += std::string(1, level) + ": &" + level + " [*" + previous + ", *" + previous + ", *" + previous +
              ", *" + previous + ", *" + previous + ", *" + previous + ", *" + previous + ", *" + previous +
              ", *" + previous + ", *" + previous + "]\n";
    }
    expect_failure(dir.file("bomb.yaml", bomb), "alias bomb");
  }
  SUBCASE("a zip bomb") {
    ArchiveWriter writer(WriteFormat::zip);
    writer.add_zeros("pipeline.yaml", std::size_t{64} << 20);
    expect_failure(dir.file("bomb.zip", writer.finish()), "inflates past");
  }
  SUBCASE("an archive with a ../ member") {
    expect_failure(dir.file("evil.zip", make_archive(WriteFormat::zip, {{"../evil.yaml", "a: 1"}})),
                   "member \"../evil.yaml\" escapes the archive");
  }
  SUBCASE("thousands of members") {
    ArchiveWriter writer(WriteFormat::zip);
    for (int i = 0; i < 10'001; ++i) writer.add({"m" + std::to_string(i), ""});
    expect_failure(dir.file("many.zip", writer.finish()), "more than 10000 members");
  }
  SUBCASE("an invalid zip and a non-zip .zip") {
    expect_failure(dir.file("broken.zip", "PK\x03\x04 then nothing useful"), "not a valid zip archive");
    expect_failure(dir.file("text.zip", "hello"), "lacks its signature");
  }
}

TEST_CASE("parse_api_pipeline_spec reads a version's spec with or without its platform spec") {
  auto yaml = load(examples_dir / "k8s-platform-pipeline.yaml");
  REQUIRE(yaml.has_value());
  std::string spec_json = R"({"pipelineInfo":{"name":"k8s-platform-pipeline"},"root":{"dag":{"tasks":{}},)"
                          R"("inputDefinitions":{"parameters":{"pvc_name":{"parameterType":"STRING"}}}},)"
                          R"("schemaVersion":"2.1.0"})";
  auto bare = kfp::package::parse_api_pipeline_spec(boost::json::parse(spec_json), "version v1");
  REQUIRE(bare.has_value());
  CHECK(bare->pipeline_name == "k8s-platform-pipeline");
  CHECK_FALSE(bare->has_platform_spec);

  auto wrapped_json =
      boost::json::object{{"pipeline_spec", boost::json::parse(spec_json)},
                          {"platform_spec", boost::json::parse(R"({"platforms":{"kubernetes":{}}})")}};
  auto wrapped = kfp::package::parse_api_pipeline_spec(wrapped_json, "version v2");
  REQUIRE(wrapped.has_value());
  CHECK(wrapped->has_platform_spec);
  REQUIRE(wrapped->inputs.size() == 1);
  CHECK(wrapped->inputs[0].name == "pvc_name");

  auto broken =
      kfp::package::parse_api_pipeline_spec(boost::json::parse(R"({"pipeline_spec":{"x":1}})"), "v3");
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message.rfind("v3: unknown template format", 0) == 0);
}

TEST_CASE("a plain file over max_in_memory_document_bytes is checked and digested from disk, not held") {
  TempDir dir;
  const std::string base = read_bytes(examples_dir / "hello-world.yaml");
  std::string padded = base;
  // Long comment lines, one longer than the loader's 256 KiB read, so lines straddle its reads.
  while (padded.size() <= kfp::package::max_in_memory_document_bytes + 300'000) {
    padded += "# " + std::string(padded.size() % 3 == 0 ? 300'000 : 997, 'x') + "\n";
  }
  auto small = load(dir.file("small.yaml", base));
  REQUIRE(small.has_value());
  auto large = load(dir.file("large.yaml", padded));
  REQUIRE(large.has_value());
  CHECK(large->document.empty());
  CHECK(large->document_size == padded.size());
  CHECK(large->digest == kfp::util::sha256_digest(padded));
  CHECK_FALSE(large->json_document);
  CHECK(large->upload_filename == "large.yaml");
  CHECK(large->pipeline_name == small->pipeline_name);
  CHECK(large->inputs.size() == small->inputs.size());
  CHECK(small->document_size == base.size());

  SUBCASE("a byte that is not UTF-8 is reported at its file offset") {
    std::string bad = padded;
    const std::size_t offset = bad.size() - 10;
    bad[offset] = '\xff';
    auto result = load(dir.file("bad-byte.yaml", bad));
    REQUIRE(result.has_error());
    CHECK(result.error().message.find(fmt::format("at offset {}", offset)) != std::string::npos);
  }
  SUBCASE("a YAML error is reported at its line") {
    const auto lines = static_cast<std::size_t>(std::count(padded.begin(), padded.end(), '\n'));
    auto result = load(dir.file("bad-yaml.yaml", padded + "pipelineInfo:\n  name: again\n"));
    REQUIRE(result.has_error());
    CHECK(result.error().kind == ErrorKind::invalid_package);
    CHECK(result.error().message.find(fmt::format("bad-yaml.yaml:{}:", lines + 1)) != std::string::npos);
  }
}
