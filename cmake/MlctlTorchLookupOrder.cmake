# The order in which the dynamic linker searches the torch backend's
# libraries for symbols.
#
# Debian's libtorch_cpu.so brings in ~290 shared libraries (OpenCV, FFmpeg,
# GDAL and theirs), and every symbol a library binds, at load or at its
# first call, is looked up in each library of the backend's search list in
# turn until one defines it: breadth-first over the NEEDED entries, so the
# libraries deep in that tree, which bind the most symbols (their own
# exported C++ functions among them), are found last: loading the backend
# looked in 14.9M libraries for 137,000 bindings.
#
# mlctl_order_torch_lookups(TARGET) names the libraries below as the
# backend's own NEEDED entries, after libtorch and the C/C++ runtime, so
# they are searched right after them: 6.8M look-ups, and `mlctl version
# --backend` takes 431 ms instead of 522 (tests/bench/README.md). The list
# is the libraries that most bindings resolve to, closed under "a library
# that defines the same symbol earlier in the default order comes along,
# and first", so that every symbol still binds to the very library it did
# before: BLAS and LAPACK, for one, stay on libblas.so.3 and liblapack.so.3
# (the alternatives the system chose). tests/bench/torch_lookup_order.py
# measures the look-ups and checks the bindings. Only libraries that
# libtorch_cpu.so really loads on the build machine are named, so another
# libtorch (another Debian release, PyTorch's own build) gets the ones it
# shares with this list, or none.
set(MLCTL_TORCH_LOOKUP_FIRST
  libgflags.so.2.2 libprotobuf.so.32 libblas.so.3 libleveldb.so.1d libopencv_highgui.so.406
  libopencv_optflow.so.406 libopencv_videoio.so.406 libavutil.so.57 libtensorpipe.so.0 libgloo.so.0
  libonnx_proto.so.1 libonnx.so.1 liblapack.so.3 libdnnl.so.2 libsleef.so.3 libopencv_ximgproc.so.406
  libopencv_imgcodecs.so.406 libopencv_dnn.so.406 libopencv_calib3d.so.406 libopencv_features2d.so.406
  libopencv_imgproc.so.406 libopencv_flann.so.406 libopencv_core.so.406 libopenblas.so.0 libbsd.so.0
  libgobject-2.0.so.0 libglib-2.0.so.0 libcodec2.so.1.0 libgme.so.0 libopenmpt.so.0 libchromaprint.so.1
  libgnutls.so.30 libsrt-gnutls.so.1.5 libgdcmMSFF.so.3.0 libOpenEXR-3_1.so.30 libgdal.so.32
  libgdcmDSED.so.3.0 libicuuc.so.72 libgio-2.0.so.0 libpango-1.0.so.0 libunistring.so.2 libnettle.so.8
  libcrypto.so.3 libmbedcrypto.so.7 libIex-3_1.so.30 libxerces-c-3.2.so libpoppler.so.126 libnetcdf.so.19
  libhdf5_serial.so.103 libsqlite3.so.0 libkmlbase.so.1 libkmldom.so.1 libspatialite.so.7 libgeos_c.so.1
  libproj.so.25 libdfalt.so.0 libnss3.so librttopo.so.1 libgeos.so.3.11.1)

function(mlctl_order_torch_lookups target)
  find_library(MLCTL_TORCH_CPU_LIBRARY torch_cpu HINTS "${TORCH_INSTALL_PREFIX}/lib")
  find_program(MLCTL_LDD ldd)
  if(NOT MLCTL_TORCH_CPU_LIBRARY OR NOT MLCTL_LDD)
    return()
  endif()
  execute_process(COMMAND "${MLCTL_LDD}" "${MLCTL_TORCH_CPU_LIBRARY}"
                  OUTPUT_VARIABLE closure RESULT_VARIABLE failed ERROR_QUIET)
  if(failed)
    return()
  endif()
  set(first)
  foreach(soname IN LISTS MLCTL_TORCH_LOOKUP_FIRST)
    string(REPLACE "." "\\." pattern "${soname}")
    # Not the libraries cmake/MlctlTorchStubs.cmake keeps from loading.
    if(MLCTL_TORCH_STUBBED AND NOT soname IN_LIST MLCTL_TORCH_LOADED)
      continue()
    endif()
    if(closure MATCHES "[\t ]${pattern} => ([^ \t\n]+)")
      list(APPEND first "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(first)
    list(LENGTH first count)
    message(STATUS "torch backend: ${count} libraries searched first for symbols")
    # libtorch_cpu and the C and C++ runtime stay ahead of them.
    target_link_libraries(${target} PRIVATE "${MLCTL_TORCH_CPU_LIBRARY}" stdc++ m gcc_s c "-Wl,--no-as-needed" ${first}
                          "-Wl,--as-needed")
  endif()
endfunction()
