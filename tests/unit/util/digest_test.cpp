#include "util/digest.hpp"

#include <doctest/doctest.h>

TEST_CASE("sha256 digests match the published test vectors") {
  CHECK(kfp::util::sha256_digest("") ==
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(kfp::util::sha256_digest("abc") ==
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("incremental and one-shot digests agree") {
  kfp::util::Sha256 sha;
  sha.update("a");
  sha.update("bc");
  CHECK(sha.finish() == kfp::util::sha256_digest("abc"));
}
