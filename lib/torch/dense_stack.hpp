#pragma once

// The fully connected layers of an Mlp, trained on the CPU without
// autograd. Torch-only: included by libmlctl_torch.so's sources.
#include <torch/types.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "models.hpp"

namespace mlctl::torch_backend {

// A defined, contiguous float tensor on the CPU: what the CPU training
// step reads and writes through raw pointers.
inline bool is_cpu_float(const torch::Tensor& tensor) {
  return tensor.defined() && tensor.device().is_cpu() && tensor.scalar_type() == torch::kFloat32 &&
         tensor.is_contiguous();
}

// Where the CPU training step writes the gradient of `parameter`: its
// grad(), which must be a contiguous float tensor of its shape on the CPU
// (the optimiser's flat buffer). Throws Error(internal) otherwise.
float* gradient_of(const torch::Tensor& parameter);

// Forward and backward of Linear layers with ReLU and Dropout between
// them, over raw float buffers: a step is a few BLAS calls and loops,
// where autograd takes ~20 dispatched operations, each allocating its
// result. Gives what ATen gives, up to the rounding of a different
// summation order. Not thread-safe; reuses its buffers from step to step.
class DenseStack {
 public:
  // The stack of `mlp`, or nullopt when it has another activation than
  // ReLU or its parameters are not float tensors on the CPU. Keeps
  // references to the parameters, which must outlive it.
  static std::optional<DenseStack> of(MlpImpl& mlp);

  std::int64_t inputs() const { return m_layers.front().inputs; }
  std::int64_t outputs() const { return m_layers.back().outputs; }

  // The outputs (rows x outputs, valid until the next call) of `input`
  // (rows x inputs, which must stay unchanged until backward), in
  // training: dropout is on, and draws its masks from torch's default CPU
  // generator as ATen's dropout does, number for number, so the same seed
  // drops the same units.
  const float* forward(const float* input, std::int64_t rows);
  // From the gradient of the last forward's outputs, writes the gradient
  // of every parameter into its grad() (overwriting it; throws
  // Error(internal) if a parameter has none) and, unless null, the
  // gradient of the input (rows x inputs).
  void backward(const float* output_gradient, float* input_gradient);

 private:
  struct Layer {
    torch::Tensor weight, bias;  // outputs x inputs, outputs
    std::int64_t inputs = 0, outputs = 0;
    bool relu = false;        // ReLU after the layer
    double dropout = 0;       // then Dropout with this probability
    std::vector<float> output;   // after ReLU, before dropout (the next layer's input without dropout)
    std::vector<float> scale;    // dropout: 0 or 1 / (1 - p) per output
    std::vector<float> dropped;  // dropout: output * scale, the next layer's input
  };

  const float* next_input(const Layer& layer) const;

  std::vector<Layer> m_layers;
  const float* m_input = nullptr;
  std::int64_t m_rows = 0;
  std::vector<float> m_gradient, m_next_gradient;  // rows x width, per layer in turn
};

}  // namespace mlctl::torch_backend
