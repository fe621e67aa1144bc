#pragma once

// The optimiser of mlctl's trainers. Torch-only: included by
// libmlctl_torch.so's sources, never by libmlctl.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include <mlctl/core/json.hpp>

namespace mlctl::torch_backend {

struct OptimizerSettings {
  std::string name = "adam";  // adam, adamw or sgd
  double learning_rate = 1e-3;
  double weight_decay = 0;
  double momentum = 0.9;  // sgd
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;

  // From a trainer config: optimizer, learning_rate, weight_decay, momentum.
  // Throws Error(invalid_argument) for an unknown optimizer.
  static OptimizerSettings from_config(const Json& config);
};

// Adam, AdamW or SGD with momentum over a module's parameters, with the
// same update rules as torch::optim's, made cheap for small models:
//  - the dense parameters and their gradients are views into one
//    contiguous buffer each, so a step is one pass over memory rather than
//    ~10 tensor operations per parameter (the CNN has 8 parameters: 80
//    dispatches of a few microseconds each, per step, in torch::optim);
//  - parameters with sparse gradients (an EmbeddingBag built with
//    sparse=true) are updated lazily, only in the rows a batch touched, as
//    torch.optim.SparseAdam does: a 20,000-word embedding costs what its
//    few hundred touched rows cost, not 1.3M values per step.
// On the CPU each update is a plain loop; on other devices the same rules
// run as tensor operations.
class FlatOptimizer {
 public:
  // `sparse` lists the parameters of `module` whose gradients are sparse.
  // Call after the module is on its device; its parameters are re-seated
  // into the flat buffer (values unchanged).
  FlatOptimizer(torch::nn::Module& module, OptimizerSettings settings, const std::vector<torch::Tensor>& sparse,
                bool force_tensor_ops = false);

  // Zeroes the dense gradients in place (they stay views of the flat
  // gradient buffer) and drops the sparse ones.
  void zero_grad();
  void step();

  // Everything a checkpoint needs to continue exactly: parameters, moment
  // buffers. Names are stable; the tensors are the live ones.
  std::vector<std::pair<std::string, torch::Tensor>> state_tensors();
  // Just the parameters (for keeping the best weights).
  std::vector<std::pair<std::string, torch::Tensor>> parameter_tensors();
  std::int64_t steps() const { return m_steps; }
  void set_steps(std::int64_t steps) { m_steps = steps; }

 private:
  struct SparseParameter {
    std::string name;
    torch::Tensor parameter;  // rows x dim
    torch::Tensor first_moment, second_moment;
  };

  void step_dense_cpu();
  void step_dense_tensors();
  void step_sparse_cpu(SparseParameter& sparse);
  void step_sparse_tensors(SparseParameter& sparse);
  // The update rules as tensor operations on `parameter` and its moments,
  // in place; `lazy` picks SparseAdam's bias correction.
  void update_tensors(const torch::Tensor& parameter, torch::Tensor gradient, const torch::Tensor& first,
                      const torch::Tensor& second, bool lazy) const;

  OptimizerSettings m_settings;
  bool m_tensor_ops;
  std::int64_t m_steps = 0;
  torch::Tensor m_parameters, m_gradients, m_first_moment, m_second_moment;  // dense, flat
  std::vector<SparseParameter> m_sparse;
  // CPU sparse step scratch: the slot of each touched row, the rows, and
  // their summed gradients (a batch names a word once per occurrence).
  std::vector<std::int32_t> m_row_slot;
  std::vector<std::int64_t> m_touched;
  std::vector<float> m_row_gradients;
};

}  // namespace mlctl::torch_backend
