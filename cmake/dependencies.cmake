# Every third-party library comes from Debian 12 packages (see ci/scripts/install-deps.sh).
# kfp_third_party is the one place that says which: with KFP_STATIC (the Release default, see
# cmake/static_link.cmake) the static archives Debian ships, otherwise the shared libraries.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
if(KFP_STATIC)
  set(Boost_USE_STATIC_LIBS ON)
  set(OPENSSL_USE_STATIC_LIBS ON)
endif()
find_package(Boost 1.81 CONFIG REQUIRED COMPONENTS json url system)
find_package(OpenSSL REQUIRED)
find_package(fmt REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
if(KFP_BUILD_TESTS)
  find_path(DOCTEST_INCLUDE_DIR doctest/doctest.h REQUIRED)
endif()
add_library(kfp_cli11 INTERFACE)
target_include_directories(kfp_cli11 SYSTEM INTERFACE ${CLI11_INCLUDE_DIR})
# nettle's SHA-256 for content digests: OpenSSL stays untouched (no config read, no provider
# loaded) unless a TLS connection is made; the static libarchive needs nettle anyway.
pkg_check_modules(NETTLE REQUIRED nettle)

# Finds the static archive of each name (lib<name>.a) into the list variable `out`. With OPTIONAL, a
# missing archive is left out: the linker then names any symbol that was needed from it.
function(kfp_find_static_archives out)
  cmake_parse_arguments(FIND "OPTIONAL" "" "NAMES" ${ARGN})
  set(archives "")
  foreach(name IN LISTS FIND_NAMES)
    find_library(KFP_STATIC_${name} NAMES lib${name}.a NO_CACHE)
    if(KFP_STATIC_${name})
      list(APPEND archives ${KFP_STATIC_${name}})
    elseif(FIND_OPTIONAL)
      message(STATUS "KFP_STATIC: no lib${name}.a; linking without it")
    else()
      message(FATAL_ERROR "KFP_STATIC: no lib${name}.a (install its Debian -dev package: "
                          "ci/scripts/install-deps.sh)")
    endif()
  endforeach()
  set(${out} ${archives} PARENT_SCOPE)
endfunction()

add_library(kfp_third_party INTERFACE)
target_link_libraries(kfp_third_party INTERFACE Boost::json Boost::url Boost::system kfp_cli11)
if(KFP_STATIC)
  # Debian ships no libfmt.a: the header-only target compiles fmt into the program.
  # libarchive's own dependencies come from its pkg-config file (Libs.private), i.e. from how
  # Debian built it; the linker takes from each archive only the members the code reaches (the
  # zip, tar and gzip readers reach nettle, lzma, zstd, bz2 and z; never acl, lz4, libxml2 or ICU,
  # whose archives need not be installed).
  pkg_check_modules(LIBARCHIVE_STATIC REQUIRED libarchive)
  list(REMOVE_ITEM LIBARCHIVE_STATIC_STATIC_LIBRARIES archive)
  kfp_find_static_archives(required_archives NAMES archive yaml-cpp ${NETTLE_LIBRARIES})
  kfp_find_static_archives(archive_dependencies OPTIONAL NAMES ${LIBARCHIVE_STATIC_STATIC_LIBRARIES})
  target_compile_definitions(kfp_third_party INTERFACE LIBARCHIVE_STATIC)
  target_include_directories(kfp_third_party SYSTEM INTERFACE ${LIBARCHIVE_STATIC_INCLUDE_DIRS})
  target_link_libraries(kfp_third_party INTERFACE fmt::fmt-header-only ${required_archives}
    ${archive_dependencies} OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
else()
  find_package(yaml-cpp REQUIRED)
  find_package(LibArchive REQUIRED)
  target_include_directories(kfp_third_party SYSTEM INTERFACE ${NETTLE_INCLUDE_DIRS})
  target_link_libraries(kfp_third_party INTERFACE fmt::fmt yaml-cpp LibArchive::LibArchive
    ${NETTLE_LINK_LIBRARIES} OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
endif()
