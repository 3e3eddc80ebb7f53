# Cross-compiling with Debian's cross toolchain (crossbuild-essential-<arch>) against the multiarch
# :<arch> libraries in /usr/lib/<triplet>, e.g. for arm64 from an amd64 build machine:
#   cmake -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/debian-cross.cmake -DKFP_CROSS_TRIPLET=aarch64-linux-gnu
# Nothing built for the target is run during the build.
if(NOT KFP_CROSS_TRIPLET)
  set(KFP_CROSS_TRIPLET "$ENV{KFP_CROSS_TRIPLET}")
endif()
if(NOT KFP_CROSS_TRIPLET)
  message(FATAL_ERROR "debian-cross.cmake: set KFP_CROSS_TRIPLET (e.g. aarch64-linux-gnu)")
endif()
# try_compile projects re-read this file; they see the triplet through the environment.
set(ENV{KFP_CROSS_TRIPLET} "${KFP_CROSS_TRIPLET}")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES KFP_CROSS_TRIPLET)

string(REGEX MATCH "^[^-]+" kfp_cross_processor "${KFP_CROSS_TRIPLET}")
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${kfp_cross_processor})
set(CMAKE_C_COMPILER ${KFP_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${KFP_CROSS_TRIPLET}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${KFP_CROSS_TRIPLET})
# Programs come from the build machine; libraries, headers and CMake packages only from the
# target's multiarch directories (/usr/lib/<triplet>, and the shared /usr/include).
set(CMAKE_FIND_ROOT_PATH /)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
execute_process(COMMAND dpkg-architecture -qDEB_BUILD_MULTIARCH OUTPUT_VARIABLE kfp_build_triplet
                OUTPUT_STRIP_TRAILING_WHITESPACE)
set(CMAKE_IGNORE_PATH /usr/lib/${kfp_build_triplet} /lib/${kfp_build_triplet})
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${KFP_CROSS_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
