#pragma once
// What the KFP API server stores and refuses, per release, in one place: every limit on a name,
// description or tag that kfp-publish sends, with the upstream file and line that sets it
// (../shared/upstream/kfp-RELEASE/backend/src/apiserver/...). A value over a limit is refused
// before any request (the limits every release shares) or at least before any write (the
// release-specific ones, once healthz named the release); descriptions kfp-publish builds are cut
// to fit. Without this, an over-long run description fails the create with a 500 after the
// workflow may already have started (issue 14 point 5).
//
// How the server counts:
// - MySQL VARCHAR(n) columns count characters, and over-long values fail the INSERT ("Data too
//   long", MySQL 8's default strict sql_mode) with HTTP 500.
// - KFP <= 2.5 (jinzhu/gorm v1): a string field without a size is VARCHAR(255) (gorm
//   dialect.go ParseFieldStructForDialect: size 255 by default; dialect_mysql.go: varchar(size)
//   below 65532, longtext from there, which is why `size:65535` fields are unbounded).
// - KFP >= 2.15 (gorm.io v2): client_manager/client_manager.go:345 sets DefaultStringSize 255,
//   so unsized fields stay VARCHAR(255); validation/length.go:37-64 adds checks in *bytes*
//   (Go len) that answer 400 before the database is reached.
// - KFP 2.17 tags: model/pipeline_tags.go:27-54 counts runes, at most 20 per object.

#include "util/error.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace kfp::publish {

enum class Count { bytes, characters };

struct Limit {
  std::size_t max = 0;
  Count count = Count::characters;
  std::string_view source;  // where upstream sets it
};

namespace limits {

// Columns without a size: VARCHAR(255) on every release (see above).
inline constexpr std::size_t varchar_default = 255;

// KFP <= 2.5 (and 1.8): every name column is an unsized string, so VARCHAR(255).
inline constexpr Limit pipeline_name_v1_gorm{varchar_default, Count::characters,
                                             "kfp-2.3.0 model/pipeline.go:36 (1.8.5 :32), VARCHAR(255)"};
inline constexpr Limit version_name_v1_gorm{
    varchar_default, Count::characters, "kfp-2.3.0 model/pipeline_version.go:34 (1.8.5 :34), VARCHAR(255)"};
inline constexpr Limit experiment_name_v1_gorm{varchar_default, Count::characters,
                                               "kfp-2.3.0 model/experiment.go:19 (1.8.5 :5), VARCHAR(255)"};

// KFP >= 2.15: validation/length.go checks these in bytes, answering 400.
inline constexpr Limit pipeline_name_2_15{128, Count::bytes, "kfp-2.15.0 validation/length.go:51"};
inline constexpr Limit version_name_2_15{127, Count::bytes, "kfp-2.15.0 validation/length.go:47"};
inline constexpr Limit experiment_name_2_15{128, Count::bytes, "kfp-2.15.0 validation/length.go:41"};
// A Kubernetes namespace is a DNS-1123 label (63 characters) on every release; 2.15 checks it too.
inline constexpr Limit namespace_name{63, Count::bytes,
                                      "kfp-2.15.0 validation/length.go:52, a DNS-1123 label"};

// Unsized on every release, so VARCHAR(255); nothing checks them before the INSERT (HTTP 500).
inline constexpr Limit run_name{varchar_default, Count::characters,
                                "kfp-2.3.0 model/run.go:209 (1.8.5 :28), VARCHAR(255)"};
inline constexpr Limit run_description{varchar_default, Count::characters,
                                       "kfp-2.3.0 model/run.go:211 (1.8.5 :33), VARCHAR(255)"};
inline constexpr Limit run_service_account{
    varchar_default, Count::characters, "kfp-2.3.0 model/run.go:218 (2.15.0 :224, 1.8.5 :32), VARCHAR(255)"};
inline constexpr Limit experiment_description{
    varchar_default, Count::characters,
    "kfp-2.3.0 model/experiment.go:20 (2.15.0 :21, 1.8.5 :6), VARCHAR(255)"};
inline constexpr Limit recurring_run_name{varchar_default, Count::characters,
                                          "kfp-2.3.0 model/job.go:90 (1.8.5 :21), VARCHAR(255)"};
inline constexpr Limit recurring_run_description{varchar_default, Count::characters,
                                                 "kfp-2.3.0 model/job.go:94 (1.8.5 :25), VARCHAR(255)"};
inline constexpr Limit recurring_run_cron{
    varchar_default, Count::characters,
    "kfp-2.3.0 model/job.go:203 (1.8.5 :56), column Schedule VARCHAR(255)"};

// kfp-publish's own budget, not a column: the code source URL is recorded in the version
// description (LONGTEXT: kfp-1.8.5 model/pipeline_version.go:45, 2.3.0 :45, 2.17.0 :52), because no
// release's upload endpoint reads a code_source_url (server/pipeline_upload_server.go, 1.8.5 to
// 2.17.0). The description travels in the upload's query string, and the KFP UI server in front of
// the API (frontend/server/app.ts:74 @2.3.0, :81 @2.17.0: Node's default http server, .nvmrc v14.21.3
// and v24.14.0) refuses a request line and headers over Node's default 16 KiB (--max-http-header-size)
// with 431. 1024 bytes, percent-encoded at most 3 KiB (5 KiB where 1.8 takes the text encoded
// twice), leave room in practice for the rest of the description (at most 1000 bytes), the names and the
// token.
inline constexpr std::size_t source_url_bytes = 1024;

// KFP 2.17 version and pipeline tags (kfp-publish refuses the same everywhere: it documents tags
// as one feature, and a tag refused only by a newer server would break on upgrade).
inline constexpr std::size_t max_tags = 20;  // kfp-2.17.0 model/pipeline_tags.go:34
inline constexpr Limit tag_key{63, Count::characters, "kfp-2.17.0 model/pipeline_tags.go:27"};
inline constexpr Limit tag_value{63, Count::characters, "kfp-2.17.0 model/pipeline_tags.go:31"};
// Keys are non-empty and hold no '.': kfp-2.17.0 model/pipeline_tags.go:42-46.

}  // namespace limits

// The limits of one server release.
struct ServerLimits {
  Limit pipeline_name;
  Limit version_name;
  Limit experiment_name;
};

// The loosest limits of all releases: a value over them is refused by every server, so it is
// refused before any request.
[[nodiscard]] ServerLimits limits_of_every_release();
// The limits of the release healthz named ("2.15.0"); "unknown" counts as newest.
[[nodiscard]] ServerLimits limits_for(const std::string& server_version);

[[nodiscard]] std::size_t length(std::string_view text, Count count);

// Fails with kind usage (exit 2) when `value` is empty or over `limit`: "`what` is N characters;
// the KFP server stores at most M (source)".
[[nodiscard]] util::Result<void> check_name(std::string_view what, std::string_view value,
                                            const Limit& limit);
// The same, for values that may be empty.
[[nodiscard]] util::Result<void> check_length(std::string_view what, std::string_view value,
                                              const Limit& limit);

// `text` cut at a UTF-8 character boundary to at most `max_bytes` bytes, ending in "…" when cut.
// Counting bytes keeps it within a character limit of the same size too.
[[nodiscard]] std::string fit(std::string text, std::size_t max_bytes);

}  // namespace kfp::publish
