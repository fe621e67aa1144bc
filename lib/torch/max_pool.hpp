#pragma once

// 2x2 max pooling for the CNN trainer. Torch-only: included by
// libmlctl_torch.so's sources, never by libmlctl.
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

namespace mlctl::torch_backend {

// max_pool2d(x, 2) with the same result and the same gradient (the first
// maximum of each window, in row-major order, takes the gradient; the
// last NaN wins), computed on the CPU by mlctl's own kernel, four windows
// at a time without branches. libtorch 1.13's CPU kernel spends ~75 us on
// a 32x16x8x8 batch and 1.2 ms on the 270 rows of a validation pass, a
// tenth of the CNN's whole step. Other devices and types use max_pool2d
// itself.
// The kernels behind it, over raw planes (also used by the CNN's CPU
// training step). pool_windows_2x2 pools each 2x2 window of `planes`
// planes of height x width (an odd last row or column is dropped) into
// `out`, and writes to `which` the cell (0..3, row-major) of each window's
// first maximum. add_pooled_gradient adds each output's gradient to the
// cell `which` names, in `input_gradient` (planes x height x width).
void pool_windows_2x2(const float* in, std::int64_t planes, std::int64_t height, std::int64_t width, float* out,
                      std::uint8_t* which);
void add_pooled_gradient(const float* gradient, const std::uint8_t* which, std::int64_t planes, std::int64_t height,
                         std::int64_t width, float* input_gradient);

struct MaxPool2x2Impl : torch::nn::Module {
  torch::Tensor forward(const torch::Tensor& x);
};
TORCH_MODULE(MaxPool2x2);

}  // namespace mlctl::torch_backend
