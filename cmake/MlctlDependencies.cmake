# The one place that finds third-party dependencies (all Debian packages;
# scripts/setup.sh installs them).

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

if(MLCTL_BUILD_TORCH)
  # Debian's TorchConfig drags in CUDA/Caffe2 checks that are noisy; keep it quiet.
  find_package(Torch REQUIRED)
endif()

if(MLCTL_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  # Catch.cmake (catch_discover_tests) lives beside Catch2Config.cmake.
  list(APPEND CMAKE_MODULE_PATH ${Catch2_DIR})
endif()
