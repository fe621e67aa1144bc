#pragma once

// A training step of the CNN and the MLP on the CPU, without autograd.
// Torch-only: included by libmlctl_torch.so's sources.
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dense_stack.hpp"
#include "models.hpp"

namespace mlctl::torch_backend {

// Forward and backward of one batch, written out: the convolutions are
// ATen's (the same oneDNN kernels autograd runs), ReLU and 2x2 pooling
// are one pass of mlctl's pooling kernel, and the fully connected layers
// and the loss are a DenseStack. Per step that is 4 dispatched operations
// for the digits CNN instead of ~50, each of which autograd also records
// and allocates for. The result is autograd's up to rounding: the
// convolutions and pooling are the same arithmetic, the fully connected
// layers sum in another order. Training only (dropout is on); evaluation
// goes through the module's own forward. Not thread-safe.
class CpuTrainingStep {
 public:
  // The step for `network` (built for training, already on the CPU, its
  // parameters given gradients by the optimiser), or null when it does
  // not apply: the text model, an activation other than ReLU, a device
  // other than the CPU, a build without BLAS, or MLCTL_TRAIN_TENSOR_OPS=1
  // (which runs the device's code path, autograd, on the CPU).
  static std::unique_ptr<CpuTrainingStep> for_network(Network& network, bool classification);

  // Trains on one batch: `features` (rows x inputs, float, CPU) and
  // `labels` (int64 classes or float targets). Writes the gradient of
  // the batch's mean loss (cross-entropy or mean squared error) into
  // every parameter's grad(), replacing what was there, and returns the
  // loss. Dropout draws from torch's default CPU generator as ATen's
  // does. Throws Error(invalid_argument) for a class label out of range.
  double run(const torch::Tensor& features, const torch::Tensor& labels);

 private:
  struct ConvLayer {
    torch::Tensor weight, bias;
    std::vector<std::int64_t> padding;
    std::int64_t channels = 0, height = 0, width = 0;  // of the output, before pooling
    bool relu = false;  // always, for the step to apply
    bool pool = false;
    // Per step: the layer's input, its output after ReLU (and pooling),
    // which cell of each window won the pooling, and the gradient.
    torch::Tensor input, output;
    std::vector<float> pooled;
    std::vector<std::uint8_t> winners;
    std::vector<float> conv_gradient;  // of the output before pooling
  };

  CpuTrainingStep(bool classification, std::vector<ConvLayer> convolutions, DenseStack dense,
                  std::int64_t image_height, std::int64_t image_width);
  // The batch's mean loss; writes its gradient with respect to the
  // outputs into m_output_gradient.
  double loss(const float* outputs, std::int64_t rows, const torch::Tensor& labels);
  const float* forward_convolutions(const torch::Tensor& features);
  void backward_convolutions(const float* feature_gradient);

  bool m_classification;
  std::vector<ConvLayer> m_convolutions;
  DenseStack m_dense;
  std::int64_t m_image_height, m_image_width;
  std::vector<float> m_output_gradient, m_feature_gradient;
};

}  // namespace mlctl::torch_backend
