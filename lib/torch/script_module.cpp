// Bring-your-own models: TorchScript modules saved from Python with
// torch.jit.save, scored on CPU in inference mode. Batch scoring loads the
// module for one call; the HTTP service keeps it (loaded_model.cpp), and
// both score through the same code.
#include "script_module.hpp"

#include <mlctl/core/error.hpp>

#include "loaded_model.hpp"

namespace mlctl::torch_backend {

void predict_script_module(const std::string& model_file, const MlctlSplit& data, float* output,
                           std::int64_t output_size) {
  if (!data.features || data.rows <= 0) throw Error(ErrorKind::invalid_argument, "no rows to score");
  auto model = load_model({{"format", "torchscript"}, {"file", model_file}, {"outputs", output_size / data.rows}});
  model->score(data, output, output_size);
}

}  // namespace mlctl::torch_backend
