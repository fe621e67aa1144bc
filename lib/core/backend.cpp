#include <mlctl/core/backend.hpp>

#include <dlfcn.h>
#include <fmt/format.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <vector>

#include <mlctl/core/error.hpp>
#include <mlctl/core/process.hpp>

namespace mlctl {
namespace {

constexpr const char* k_library_name = "libmlctl_torch.so";
std::atomic<bool> g_loaded{false};

ErrorKind kind_from_name(std::string_view name) {
  for (ErrorKind kind : {ErrorKind::invalid_argument, ErrorKind::not_found, ErrorKind::already_exists,
                         ErrorKind::parse, ErrorKind::io, ErrorKind::store, ErrorKind::train,
                         ErrorKind::not_supported, ErrorKind::failed}) {
    if (name == to_string(kind)) return kind;
  }
  return ErrorKind::internal;
}

std::vector<std::filesystem::path> candidate_paths() {
  if (const char* explicit_path = std::getenv("MLCTL_BACKEND"); explicit_path && *explicit_path) {
    return {explicit_path};
  }
  std::filesystem::path exe_dir = std::filesystem::path(current_executable()).parent_path();
  return {exe_dir / k_library_name, exe_dir / ".." / "lib" / "mlctl" / k_library_name};
}

}  // namespace

Backend& Backend::get() {
  static std::once_flag once;
  static Backend* instance = nullptr;
  static std::string failure;
  std::call_once(once, [] {
    std::vector<std::string> tried;
    for (const auto& path : candidate_paths()) {
      std::error_code ec;
      if (!std::filesystem::exists(path, ec)) {
        tried.push_back(fmt::format("{} (missing)", path.string()));
        continue;
      }
      // Lazy binding: resolving every function of ~290 libraries up front
      // costs ~50 ms, and the backend calls few of them.
      void* handle = ::dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL);
      if (!handle) {
        tried.push_back(fmt::format("{} ({})", path.string(), ::dlerror()));
        continue;
      }
      auto entry = reinterpret_cast<MlctlBackendEntryV1>(::dlsym(handle, MLCTL_BACKEND_ENTRY_V1));
      if (!entry) {
        tried.push_back(fmt::format("{} (no {} entry point: built for another mlctl?)", path.string(),
                                    MLCTL_BACKEND_ENTRY_V1));
        continue;
      }
      // The library stays loaded for the life of the process, on purpose.
      instance = new Backend(entry(), path);
      g_loaded = true;
      return;
    }
    failure = fmt::format("cannot load the libtorch backend: tried {}", fmt::join(tried, "; "));
  });
  if (!instance) {
    throw Error(ErrorKind::not_supported, failure,
                "build it with the project (cmake -DMLCTL_BUILD_TORCH=ON) or set MLCTL_BACKEND to its path");
  }
  return *instance;
}

bool Backend::is_loaded() { return g_loaded; }

BackendPreload::BackendPreload()
    : m_thread([] {
        try {
          Backend::get();
        } catch (const std::exception&) {
          // get() reports the same failure to the caller that needs the backend.
        }
      }) {}

BackendPreload::~BackendPreload() { m_thread.join(); }

Json Backend::take(MlctlBackendResult* result) const {
  if (!result) throw Error(ErrorKind::internal, "the backend returned no result");
  if (!result->ok) {
    Error error(kind_from_name(result->kind ? result->kind : ""), result->error ? result->error : "backend error");
    m_api->free_result(result);
    throw error;
  }
  Json json = Json::parse(result->json ? result->json : "null");
  m_api->free_result(result);
  return json;
}

Json Backend::describe() const { return take(m_api->describe()); }

namespace {
void forward_epoch(void* context, const char* metrics_json) {
  const auto& callback = *static_cast<const std::function<void(const Json&)>*>(context);
  if (callback) callback(Json::parse(metrics_json));
}
}  // namespace

Json Backend::train(const Json& config, const MlctlSplit& train, const MlctlSplit& validation, const MlctlSplit* test,
                    const std::function<void(const Json&)>& on_epoch) const {
  std::string text = config.dump();
  return take(m_api->train(text.c_str(), &train, &validation, test, &forward_epoch,
                           const_cast<std::function<void(const Json&)>*>(&on_epoch)));
}

std::vector<float> Backend::predict(const std::filesystem::path& model_dir, const MlctlSplit& data,
                                    std::int64_t outputs_per_row) const {
  std::vector<float> output(std::size_t(data.rows * outputs_per_row));
  take(m_api->predict(model_dir.c_str(), &data, output.data(), std::int64_t(output.size())));
  return output;
}

std::vector<float> Backend::predict_script(const std::filesystem::path& model_file, const MlctlSplit& data,
                                           std::int64_t outputs_per_row) const {
  if (m_api->abi_version < 2 || !m_api->predict_script) {
    throw Error(ErrorKind::not_supported, fmt::format("the backend {} cannot score TorchScript models", m_path.string()));
  }
  std::vector<float> output(std::size_t(data.rows * outputs_per_row));
  take(m_api->predict_script(model_file.c_str(), &data, output.data(), std::int64_t(output.size())));
  return output;
}

std::unique_ptr<BackendModel> Backend::load_model(const Json& config) const {
  if (m_api->abi_version < 3 || !m_api->load_model) {
    throw Error(ErrorKind::not_supported, fmt::format("the backend {} cannot hold loaded models (ABI {} < 3)",
                                                      m_path.string(), m_api->abi_version));
  }
  void* handle = nullptr;
  std::string text = config.dump();
  Json facts = take(m_api->load_model(text.c_str(), &handle));
  return std::unique_ptr<BackendModel>(new BackendModel(*this, handle, facts.at("outputs").get<std::int64_t>()));
}

BackendModel::~BackendModel() { m_backend.m_api->release_model(m_handle); }

void BackendModel::score(const MlctlSplit& data, float* output) const {
  MlctlBackendResult* failure = m_backend.m_api->score_loaded(m_handle, &data, output, data.rows * m_outputs);
  if (failure) m_backend.take(failure);
}

}  // namespace mlctl
