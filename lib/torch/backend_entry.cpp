// The entry point of libmlctl_torch.so: fills the C ABI table that
// libmlctl's Backend loads (lib/core/backend_abi.h). Every call catches
// its exceptions here so that none crosses the C boundary.
#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include <malloc.h>

#include <cstring>
#include <exception>
#include <string>
#include <utility>

#include <mlctl/core/backend_abi.h>
#include <mlctl/core/error.hpp>
#include <mlctl/core/json.hpp>

#include "loaded_model.hpp"
#include "script_module.hpp"
#include "trainer.hpp"

namespace {

char* copy_string(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

MlctlBackendResult* success(const mlctl::Json& json) {
  auto* result = new MlctlBackendResult{};
  result->ok = 1;
  result->json = copy_string(json.dump());
  return result;
}

MlctlBackendResult* failure(const std::string& kind, const std::string& message) {
  auto* result = new MlctlBackendResult{};
  result->ok = 0;
  result->kind = copy_string(kind);
  // c10 messages carry a C++ backtrace after the first line; keep one line.
  result->error = copy_string(message.substr(0, message.find('\n')));
  return result;
}

// Runs `fn`, turning what it throws into a failure result; a success is
// `on_success(fn())`.
template <typename Fn, typename OnSuccess>
MlctlBackendResult* guarded(Fn&& fn, OnSuccess&& on_success) {
  try {
    return on_success(fn());
  } catch (const mlctl::Error& error) {
    return failure(mlctl::to_string(error.kind()), error.what());
  } catch (const std::exception& error) {
    return failure("train", error.what());
  } catch (...) {
    return failure("internal", "unknown error in the torch backend");
  }
}

template <typename Fn>
MlctlBackendResult* guarded(Fn&& fn) {
  return guarded(std::forward<Fn>(fn), [](const mlctl::Json& json) { return success(json); });
}

MlctlBackendResult* describe() {
  return guarded([] {
    mlctl::Json info = mlctl::Json::object();
    info["torch_version"] = TORCH_VERSION;
    info["cuda_available"] = torch::cuda::is_available();
    info["cuda_devices"] = torch::cuda::device_count();
    info["threads"] = at::get_num_threads();
    info["parallel"] = at::get_parallel_info();
    return info;
  });
}

void free_result(MlctlBackendResult* result) {
  if (!result) return;
  std::free(const_cast<char*>(result->json));
  std::free(const_cast<char*>(result->error));
  std::free(const_cast<char*>(result->kind));
  delete result;
}

MlctlBackendResult* train(const char* config_json, const MlctlSplit* train_split, const MlctlSplit* validation,
                          const MlctlSplit* test, MlctlEpochCallback on_epoch, void* context) {
  return guarded([&] {
    return mlctl::torch_backend::train_model(mlctl::Json::parse(config_json), *train_split, *validation, test,
                                             on_epoch, context);
  });
}

MlctlBackendResult* predict(const char* model_dir, const MlctlSplit* data, float* output, int64_t output_size) {
  return guarded([&] {
    mlctl::torch_backend::predict_model(model_dir, *data, output, output_size);
    return mlctl::Json::object();
  });
}

MlctlBackendResult* predict_script(const char* model_file, const MlctlSplit* data, float* output, int64_t output_size) {
  return guarded([&] {
    mlctl::torch_backend::predict_script_module(model_file, *data, output, output_size);
    return mlctl::Json::object();
  });
}

MlctlBackendResult* load_model(const char* config_json, void** handle) {
  return guarded([&] {
    auto model = mlctl::torch_backend::load_model(mlctl::Json::parse(config_json));
    mlctl::Json facts = {{"outputs", model->outputs()}};
    *handle = model.release();
    return facts;
  });
}

MlctlBackendResult* score_loaded(void* handle, const MlctlSplit* data, float* output, int64_t output_size) {
  // NULL on success: the service's hot path allocates nothing here.
  return guarded(
      [&] {
        static_cast<const mlctl::torch_backend::LoadedModel*>(handle)->score(*data, output, output_size);
        return true;
      },
      [](bool) -> MlctlBackendResult* { return nullptr; });
}

void release_model(void* handle) { delete static_cast<mlctl::torch_backend::LoadedModel*>(handle); }

const MlctlBackendV1 k_backend = {3,        &describe,   &free_result,  &train,         &predict,
                                  &predict_script, &load_model, &score_loaded, &release_model};

// glibc returns freed blocks above 128 KiB to the kernel with munmap, so an
// optimiser step that allocates a few MB of temporaries page-faults them
// afresh every time (5x slower training of embedding models). Keep them.
struct MallocTuning {
  MallocTuning() {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  }
} const k_malloc_tuning;

}  // namespace

extern "C" __attribute__((visibility("default"))) const MlctlBackendV1* mlctl_backend_v1() { return &k_backend; }
