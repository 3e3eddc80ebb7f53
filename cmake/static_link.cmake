# KFP_STATIC: one binary that loads only the C library (libc.so.6, and libm.so.6 if used) and the
# dynamic loader. Everything else - libstdc++, libgcc, Boost, yaml-cpp, fmt, libarchive and its
# compressors, nettle, OpenSSL - is linked from static archives, so the image needs no other
# shared object and the start-up relocates one file.
#
# glibc itself stays shared on purpose: a fully static glibc still dlopen()s NSS modules named by
# the host's nsswitch.conf (the linker warns that getaddrinfo needs the shared glibc it was linked
# against at run time), which is unsound on any host but the build machine. With the shared glibc,
# /etc/hosts and DNS lookups need no NSS module (glibc >= 2.34 has files and dns built in), which is
# what the image relies on (no nsswitch.conf, no libnss_*); tests/integration/test_deploy_image.py
# resolves names in the image's root.
#
# It is the default for Release and MinSizeRel; development builds (RelWithDebInfo, Debug,
# sanitizers, fuzzing) stay dynamic.
if(CMAKE_BUILD_TYPE MATCHES "^(Release|MinSizeRel)$" AND NOT KFP_SANITIZE AND NOT KFP_FUZZ)
  set(kfp_static_default ON)
else()
  set(kfp_static_default OFF)
endif()
option(KFP_STATIC "Link every library but the C library statically (default for Release)"
       ${kfp_static_default})

# Compile and link options for the shipped executable; an INTERFACE target like kfp_warnings.
add_library(kfp_static_link INTERFACE)
if(KFP_STATIC)
  # Sections per function and --gc-sections keep only the code reached; the code pages touched at
  # run time are most of the peak RSS. pack-relative-relocs (DT_RELR, glibc >= 2.36) shrinks the
  # PIE's relocation table from ~24 bytes to ~1 bit per pointer, so loading does less work.
  # -Os: the code pages touched are most of a short run's peak RSS and start-up cost. Measured on an
  # unchanged publish (tests/bench, 20 runs): -O3 6.6 MiB peak RSS, 3.6 ms CPU, 8.4 MiB stripped;
  # -Os 5.6 MiB, 3.7 ms, 7.2 MiB. It comes after CMAKE_CXX_FLAGS_RELEASE's -O3, so it wins.
  add_compile_options(-Os -ffunction-sections -fdata-sections)
  target_link_options(kfp_static_link INTERFACE -static-libstdc++ -static-libgcc -Wl,--gc-sections
    -Wl,-z,pack-relative-relocs -Wl,--as-needed -Wl,-O1)
endif()
