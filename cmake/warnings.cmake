# Project-wide warnings as an INTERFACE target; -Werror when KFP_WERROR is on (CI).
add_library(kfp_warnings INTERFACE)
target_compile_options(kfp_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
  -Wold-style-cast -Wcast-align -Woverloaded-virtual)
if(KFP_WERROR)
  target_compile_options(kfp_warnings INTERFACE -Werror)
endif()
