# ASan + UBSan as an INTERFACE target, switched on with -DKFP_SANITIZE=ON.
add_library(kfp_sanitizers INTERFACE)
if(KFP_SANITIZE)
  target_compile_options(kfp_sanitizers INTERFACE -fsanitize=address,undefined
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(kfp_sanitizers INTERFACE -fsanitize=address,undefined)
endif()
