#include "max_pool.hpp"

#include "models.hpp"

#include <torch/autograd.h>

#include <cmath>
#include <cstdint>

namespace mlctl::torch_backend {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Forward: the window maxima and, per output, which of the window's four
// cells (0..3, row-major) held the first maximum.
struct PoolFunction : torch::autograd::Function<PoolFunction> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& input) {
    torch::Tensor x = input.contiguous();
    const std::int64_t planes = x.size(0) * x.size(1), height = x.size(2), width = x.size(3);
    const std::int64_t out_height = height / 2, out_width = width / 2;
    torch::Tensor output = torch::empty({x.size(0), x.size(1), out_height, out_width}, x.options());
    torch::Tensor winner = torch::empty({x.size(0), x.size(1), out_height, out_width}, x.options().dtype(torch::kUInt8));
    const float* in = x.data_ptr<float>();
    float* out = output.data_ptr<float>();
    std::uint8_t* which = winner.data_ptr<std::uint8_t>();
    for (std::int64_t plane = 0; plane < planes; ++plane) {
      const float* source = in + plane * height * width;
      for (std::int64_t i = 0; i < out_height; ++i) {
        const float* top = source + 2 * i * width;
        const float* bottom = top + width;
        for (std::int64_t j = 0; j < out_width; ++j) {
          const float cells[4] = {top[2 * j], top[2 * j + 1], bottom[2 * j], bottom[2 * j + 1]};
          float best = cells[0];
          std::uint8_t at = 0;
          for (std::uint8_t k = 1; k < 4; ++k) {
            // As ATen's kernel: a later cell wins if it is greater, or NaN.
            if (cells[k] > best || std::isnan(cells[k])) {
              best = cells[k];
              at = k;
            }
          }
          *out++ = best;
          *which++ = at;
        }
      }
    }
    context->save_for_backward({winner});
    context->saved_data["height"] = height;
    context->saved_data["width"] = width;
    return output;
  }

  static tensor_list backward(AutogradContext* context, tensor_list gradients) {
    torch::Tensor winner = context->get_saved_variables()[0];
    const std::int64_t height = context->saved_data["height"].toInt(), width = context->saved_data["width"].toInt();
    torch::Tensor gradient = gradients[0].contiguous();
    torch::Tensor input_gradient = torch::zeros({winner.size(0), winner.size(1), height, width}, gradient.options());
    const std::int64_t planes = winner.size(0) * winner.size(1), out_height = winner.size(2),
                       out_width = winner.size(3);
    const float* from = gradient.data_ptr<float>();
    const std::uint8_t* which = winner.data_ptr<std::uint8_t>();
    float* to = input_gradient.data_ptr<float>();
    for (std::int64_t plane = 0; plane < planes; ++plane) {
      float* target = to + plane * height * width;
      for (std::int64_t i = 0; i < out_height; ++i) {
        for (std::int64_t j = 0; j < out_width; ++j) {
          std::uint8_t at = *which++;
          target[(2 * i + at / 2) * width + 2 * j + at % 2] += *from++;
        }
      }
    }
    return {input_gradient};
  }
};

}  // namespace

torch::Tensor MaxPool2x2Impl::forward(const torch::Tensor& x) {
  if (!device_code_paths_forced() && x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && x.dim() == 4 && x.size(2) >= 2 &&
      x.size(3) >= 2) {
    return PoolFunction::apply(x);
  }
  return torch::max_pool2d(x, 2);
}

}  // namespace mlctl::torch_backend
