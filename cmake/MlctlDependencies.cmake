# The one place that finds third-party dependencies (all Debian packages;
# scripts/setup.sh installs them).

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json REQUIRED)
pkg_check_modules(SQLITE3 REQUIRED IMPORTED_TARGET sqlite3)

# The mlctl binary is started for every `mlctl run log`, so it links its
# C++ runtime and libraries statically where Debian ships archives:
# loading libstdc++.so alone costs ~1.5 ms of a ~4 ms process start here.
# fmt has no archive in Debian, so it is used header-only.
option(MLCTL_STATIC_RUNTIME "Link mlctl with static libstdc++, yaml-cpp and SQLite" ON)
find_library(SQLITE3_STATIC_LIBRARY libsqlite3.a)
find_library(YAML_CPP_STATIC_LIBRARY libyaml-cpp.a)

if(MLCTL_BUILD_TORCH)
  # Debian's TorchConfig drags in CUDA/Caffe2 checks that are noisy; keep it quiet.
  find_package(Torch REQUIRED)
  # The CPU training step calls BLAS (sgemm) itself; at run time the
  # system's libblas.so.3 is OpenBLAS, the library libtorch calls too.
  # Without BLAS (a PyTorch libtorch on a machine without libblas-dev) the
  # models train through autograd instead.
  find_package(BLAS)
endif()

if(MLCTL_BUILD_TESTS)
  find_package(Catch2 2 REQUIRED)
  # Catch.cmake (catch_discover_tests) lives beside Catch2Config.cmake.
  list(APPEND CMAKE_MODULE_PATH ${Catch2_DIR})
endif()
