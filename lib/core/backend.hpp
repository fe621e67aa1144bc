#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <vector>
#include <string>
#include <thread>

#include <mlctl/core/backend_abi.h>
#include <mlctl/core/json.hpp>

namespace mlctl {

class Backend;

// A model the backend holds loaded, for scoring many times (the HTTP
// service). score() may be called from several threads at once.
class BackendModel {
 public:
  BackendModel(const BackendModel&) = delete;
  BackendModel& operator=(const BackendModel&) = delete;
  ~BackendModel();

  // Values per row the model produces (classes, or 1).
  std::int64_t outputs() const { return m_outputs; }
  // Writes data.rows x outputs() floats to `output`. Throws Error of the
  // backend's kind.
  void score(const MlctlSplit& data, float* output) const;

 private:
  friend class Backend;
  BackendModel(const Backend& backend, void* handle, std::int64_t outputs)
      : m_backend(backend), m_handle(handle), m_outputs(outputs) {}
  const Backend& m_backend;
  void* m_handle;
  std::int64_t m_outputs;
};

// The libtorch backend, loaded on first use. Thread-safe after load.
class Backend {
 public:
  // Loads libmlctl_torch.so: $MLCTL_BACKEND if set, else next to the mlctl
  // executable, else ../lib/mlctl/ relative to it. Throws
  // Error(not_supported) naming the paths tried and dlerror()'s text.
  static Backend& get();
  // Whether get() has loaded the library in this process (main() then
  // skips libtorch's static destructors at exit).
  static bool is_loaded();

  // Backend facts: torch version, CUDA availability, threads.
  Json describe() const;

  // Trains a model (see MlctlBackendV1::train); `on_epoch` receives each
  // epoch's metrics. Throws Error of the backend's kind on failure.
  Json train(const Json& config, const MlctlSplit& train, const MlctlSplit& validation, const MlctlSplit* test,
             const std::function<void(const Json&)>& on_epoch) const;
  // Scores `data` with the model directory; returns rows x outputs floats.
  std::vector<float> predict(const std::filesystem::path& model_dir, const MlctlSplit& data,
                             std::int64_t outputs_per_row) const;
  // Scores `data.features` with a TorchScript module file; returns its raw
  // outputs, rows x outputs_per_row floats. Throws Error(train) when the
  // module returns another shape, Error(not_supported) for a backend
  // without TorchScript support.
  std::vector<float> predict_script(const std::filesystem::path& model_file, const MlctlSplit& data,
                                    std::int64_t outputs_per_row) const;
  // Loads a model for repeated scoring (see MlctlBackendV1::load_model
  // for `config`). Throws Error(not_supported) for a backend older than
  // ABI 3, Error of the backend's kind when loading fails.
  std::unique_ptr<BackendModel> load_model(const Json& config) const;
  const std::filesystem::path& path() const { return m_path; }

 private:
  friend class BackendModel;
  Backend(const MlctlBackendV1* api, std::filesystem::path path) : m_api(api), m_path(std::move(path)) {}
  // Unwraps a result: its JSON, or throws Error of its kind.
  Json take(MlctlBackendResult* result) const;

  const MlctlBackendV1* m_api;
  std::filesystem::path m_path;
};

// Loads the backend on a thread of its own, so that its ~0.5 s of library
// loading (libtorch brings in ~290 shared libraries) overlaps the caller's
// own work, such as reading and preprocessing a dataset. Backend::get()
// waits for it. The destructor joins the thread, so a process never exits
// while a library is half loaded.
class BackendPreload {
 public:
  BackendPreload();
  ~BackendPreload();
  BackendPreload(const BackendPreload&) = delete;
  BackendPreload& operator=(const BackendPreload&) = delete;

 private:
  std::thread m_thread;
};

}  // namespace mlctl
