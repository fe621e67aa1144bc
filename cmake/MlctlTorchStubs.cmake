# Empty stand-ins for the libraries Debian's libtorch_cpu.so names but never
# calls.
#
# libtorch_cpu.so 1.13 as Debian builds it has NEEDED entries for OpenCV,
# FFmpeg, LevelDB, LMDB, ZeroMQ and Snappy (caffe2's optional image, video
# and database operators were linked in without --as-needed) yet imports no
# symbol from any of them. Their trees are ~247 of the ~285 libraries that
# loading the backend maps and initialises, and ~200 ms of its ~430 ms.
#
# mlctl_stub_unused_torch_libraries(TARGET) builds, for each such library,
# an empty shared library with the same soname into bin/torch-stubs/, and
# makes them NEEDED entries of TARGET, found through its RUNPATH. The
# dynamic linker maps a target's own NEEDED entries before those of its
# dependencies, so when it reaches libtorch_cpu.so's, a library of that
# soname is already loaded and the real one is never opened. Call it
# before mlctl_order_torch_lookups.
#
# cmake/torch_unused_libraries.py decides which candidates may go, on the
# build machine's libtorch: the ones libtorch_cpu.so names, from which
# neither it nor any library still loaded imports a symbol. It sets
# MLCTL_TORCH_STUBS (the sonames) and MLCTL_TORCH_LOADED (the sonames still
# loaded), cached, and MLCTL_TORCH_STUBBED in the caller's scope when the
# stubs are in use (for cmake/MlctlTorchLookupOrder.cmake). Another libtorch (PyTorch's
# own build names none of these) gets no stubs.
set(MLCTL_TORCH_STUB_CANDIDATES
  libopencv_highgui.so.406 libopencv_optflow.so.406 libopencv_videoio.so.406 libopencv_ximgproc.so.406
  libopencv_imgcodecs.so.406 libopencv_video.so.406 libopencv_dnn.so.406 libopencv_calib3d.so.406
  libopencv_features2d.so.406 libopencv_imgproc.so.406 libopencv_flann.so.406 libopencv_core.so.406
  libavcodec.so.59 libavformat.so.59 libavutil.so.57 libswscale.so.6 libswresample.so.4
  libleveldb.so.1d liblmdb.so.0 libzmq.so.5 libsnappy.so.1 libOpenCL.so.1)

function(mlctl_stub_unused_torch_libraries target)
  find_library(MLCTL_TORCH_CPU_LIBRARY torch_cpu HINTS "${TORCH_INSTALL_PREFIX}/lib")
  find_package(Python3 COMPONENTS Interpreter)
  if(NOT MLCTL_TORCH_CPU_LIBRARY OR NOT Python3_Interpreter_FOUND)
    return()
  endif()
  # The analysis reads ~285 libraries' symbol tables (~15 s): once per
  # libtorch, which an upgrade replaces behind the same name.
  file(REAL_PATH "${MLCTL_TORCH_CPU_LIBRARY}" real_library)
  file(TIMESTAMP "${real_library}" modified "%Y-%m-%dT%H:%M:%S" UTC)
  set(analysed "${real_library} ${modified}")
  if(NOT MLCTL_TORCH_STUBS_FOR STREQUAL analysed)
    message(STATUS "torch backend: looking for libraries libtorch_cpu names but never uses")
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" "${PROJECT_SOURCE_DIR}/cmake/torch_unused_libraries.py"
              "${MLCTL_TORCH_CPU_LIBRARY}" ${MLCTL_TORCH_STUB_CANDIDATES}
      OUTPUT_VARIABLE analysis RESULT_VARIABLE failed ERROR_VARIABLE errors)
    if(failed)
      message(WARNING "torch backend: no library stubs (torch_unused_libraries.py: ${errors})")
      return()
    endif()
    string(REGEX MATCH "^[^\n]*" stubs "${analysis}")
    string(REGEX REPLACE "^[^\n]*\n([^\n]*).*" "\\1" loaded "${analysis}")
    set(MLCTL_TORCH_STUBS "${stubs}" CACHE INTERNAL "sonames replaced by empty libraries")
    set(MLCTL_TORCH_LOADED "${loaded}" CACHE INTERNAL "sonames libtorch_cpu still loads")
    set(MLCTL_TORCH_STUBS_FOR "${analysed}" CACHE INTERNAL "the libtorch_cpu analysed, and when it was modified")
  endif()
  if(NOT MLCTL_TORCH_STUBS)
    return()
  endif()
  set(directory "${CMAKE_BINARY_DIR}/bin/torch-stubs")
  set(files)
  foreach(soname IN LISTS MLCTL_TORCH_STUBS)
    add_custom_command(
      OUTPUT "${directory}/${soname}"
      COMMAND "${CMAKE_COMMAND}" -E make_directory "${directory}"
      COMMAND "${CMAKE_CXX_COMPILER}" -shared -nostdlib -x c++ /dev/null -o "${directory}/${soname}"
              "-Wl,-soname,${soname}"
      COMMENT "Empty stand-in for ${soname}"
      VERBATIM)
    list(APPEND files "${directory}/${soname}")
  endforeach()
  add_custom_target(${target}_stubs DEPENDS ${files})
  add_dependencies(${target} ${target}_stubs)
  list(LENGTH files count)
  message(STATUS "torch backend: ${count} unused libraries replaced by empty ones")
  # Handed to the linker as they are: CMake would turn a path like
  # libsnappy.so.1 into -lsnappy, which finds the real library.
  set(arguments)
  foreach(file IN LISTS files)
    list(APPEND arguments "-Wl,${file}")
  endforeach()
  target_link_libraries(${target} PRIVATE "-Wl,--no-as-needed" ${arguments} "-Wl,--as-needed")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS ${files})
  get_target_property(install_rpath ${target} INSTALL_RPATH)
  set_target_properties(${target} PROPERTIES
    BUILD_RPATH "\$ORIGIN/torch-stubs"
    INSTALL_RPATH "${install_rpath};\$ORIGIN/torch-stubs")
  install(FILES ${files} DESTINATION lib/mlctl/torch-stubs)
  # For mlctl_order_torch_lookups, which must not name the stubbed ones.
  set(MLCTL_TORCH_STUBBED "${MLCTL_TORCH_STUBS}" PARENT_SCOPE)
endfunction()
