#include "max_pool.hpp"

#include "models.hpp"

#include <torch/autograd.h>

#include <cstdint>
#include <cstring>

namespace mlctl::torch_backend {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// Four lanes of floats and of their masks (GCC/Clang vector extensions:
// SSE on x86-64, NEON on ARM).
using Floats4 = float __attribute__((vector_size(16)));
using Masks4 = std::int32_t __attribute__((vector_size(16)));
using Bytes4 = std::uint8_t __attribute__((vector_size(4)));

Floats4 load4(const float* from) {
  Floats4 lanes;
  std::memcpy(&lanes, from, sizeof lanes);
  return lanes;
}

Floats4 even_lanes(Floats4 low, Floats4 high) { return __builtin_shufflevector(low, high, 0, 2, 4, 6); }
Floats4 odd_lanes(Floats4 low, Floats4 high) { return __builtin_shufflevector(low, high, 1, 3, 5, 7); }

// Four windows side by side: cells[k] holds cell k (0..3, row-major) of
// each. Writes the `count` first maxima and which cell held each. As
// ATen's kernel, a later cell wins if it is greater, or NaN. The choice is
// made with lane masks, not branches: on ReLU outputs (many ties and
// zeros) the branches mispredicted so often that pooling cost as much as
// the convolutions.
void choose(const Floats4 (&cells)[4], float* out, std::uint8_t* which, std::int64_t count) {
  Floats4 best = cells[0];
  Masks4 at = {0, 0, 0, 0};
  for (std::int32_t k = 1; k < 4; ++k) {
    const Masks4 later_wins = (cells[k] > best) | (cells[k] != cells[k]);
    best = later_wins ? cells[k] : best;
    at = later_wins ? Masks4{k, k, k, k} : at;
  }
  if (count == 4) {
    const Bytes4 cell_bytes = __builtin_convertvector(at, Bytes4);
    std::memcpy(out, &best, sizeof best);
    std::memcpy(which, &cell_bytes, sizeof cell_bytes);
    return;
  }
  for (std::int64_t lane = 0; lane < count; ++lane) {
    out[lane] = best[lane];
    which[lane] = std::uint8_t(at[lane]);
  }
}

}  // namespace

// Four outputs at a time. Output rows whose width is a multiple of four,
// and pairs of output rows two wide, are loaded whole and split into even
// and odd columns; other shapes gather their cells one by one.
void pool_windows_2x2(const float* in, std::int64_t planes, std::int64_t height, std::int64_t width, float* out,
                      std::uint8_t* which) {
  const std::int64_t out_height = height / 2, out_width = width / 2, rows = planes * out_height;
  // The top input row of every output row, in order.
  auto for_each_row = [&](auto&& fn) {
    std::int64_t row = 0;
    for (std::int64_t plane = 0; plane < planes; ++plane) {
      for (std::int64_t i = 0; i < out_height; ++i) fn(row++, in + (plane * height + 2 * i) * width);
    }
  };
  if (out_width % 4 == 0) {
    for_each_row([&](std::int64_t row, const float* top) {
      const float* bottom = top + width;
      for (std::int64_t j = 0; j < out_width; j += 4) {
        const Floats4 top_low = load4(top + 2 * j), top_high = load4(top + 2 * j + 4);
        const Floats4 bottom_low = load4(bottom + 2 * j), bottom_high = load4(bottom + 2 * j + 4);
        const Floats4 cells[4] = {even_lanes(top_low, top_high), odd_lanes(top_low, top_high),
                                  even_lanes(bottom_low, bottom_high), odd_lanes(bottom_low, bottom_high)};
        choose(cells, out + row * out_width + j, which + row * out_width + j, 4);
      }
    });
    return;
  }
  if (out_width == 2 && rows % 2 == 0) {
    const float* first_top = nullptr;
    for_each_row([&](std::int64_t row, const float* top) {
      if (row % 2 == 0) {
        first_top = top;
        return;
      }
      const Floats4 top_low = load4(first_top), top_high = load4(top);
      const Floats4 bottom_low = load4(first_top + width), bottom_high = load4(top + width);
      const Floats4 cells[4] = {even_lanes(top_low, top_high), odd_lanes(top_low, top_high),
                                even_lanes(bottom_low, bottom_high), odd_lanes(bottom_low, bottom_high)};
      choose(cells, out + (row - 1) * 2, which + (row - 1) * 2, 4);
    });
    return;
  }
  Floats4 cells[4] = {};
  std::int64_t output = 0, lane = 0;
  for_each_row([&](std::int64_t, const float* top) {
    const float* bottom = top + width;
    for (std::int64_t j = 0; j < out_width; ++j, ++output) {
      cells[0][lane] = top[2 * j];
      cells[1][lane] = top[2 * j + 1];
      cells[2][lane] = bottom[2 * j];
      cells[3][lane] = bottom[2 * j + 1];
      if (++lane == 4) {
        choose(cells, out + output - 3, which + output - 3, 4);
        lane = 0;
      }
    }
  });
  if (lane > 0) choose(cells, out + output - lane, which + output - lane, lane);
}

void add_pooled_gradient(const float* gradient, const std::uint8_t* which, std::int64_t planes, std::int64_t height,
                         std::int64_t width, float* input_gradient) {
  const std::int64_t out_height = height / 2, out_width = width / 2;
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    float* target = input_gradient + plane * height * width;
    for (std::int64_t i = 0; i < out_height; ++i) {
      for (std::int64_t j = 0; j < out_width; ++j) {
        std::uint8_t at = *which++;
        target[(2 * i + at / 2) * width + 2 * j + at % 2] += *gradient++;
      }
    }
  }
}

namespace {

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
    pool_windows_2x2(in, planes, height, width, out, which);
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
    add_pooled_gradient(gradient.data_ptr<float>(), winner.data_ptr<std::uint8_t>(), winner.size(0) * winner.size(1),
                        height, width, input_gradient.data_ptr<float>());
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
