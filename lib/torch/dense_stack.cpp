#include "dense_stack.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <mutex>

#include <mlctl/core/error.hpp>

#include "cpu_gemm.hpp"

namespace mlctl::torch_backend {

float* gradient_of(const torch::Tensor& parameter) {
  const torch::Tensor& gradient = parameter.grad();
  if (!is_cpu_float(gradient) || gradient.sizes() != parameter.sizes()) {
    throw Error(ErrorKind::internal, "the CPU training step needs a contiguous float gradient for every parameter");
  }
  return gradient.data_ptr<float>();
}

namespace {

// One draw of ATen's bernoulli_(keep) on the CPU (libtorch built without
// MKL, as Debian's is): a 64-bit number from the generator, its low 53 bits
// as a double in [0, 1), kept when below `keep`.
bool keeps(at::CPUGeneratorImpl& generator, double keep) {
  constexpr std::uint64_t k_mantissa = (std::uint64_t(1) << 53) - 1;
  return double(generator.random64() & k_mantissa) * 0x1.0p-53 < keep;
}

}  // namespace

std::optional<DenseStack> DenseStack::of(MlpImpl& mlp) {
  DenseStack stack;
  for (const auto& child : mlp.layers->children()) {
    if (auto* linear = dynamic_cast<torch::nn::LinearImpl*>(child.get())) {
      if (!is_cpu_float(linear->weight) || !is_cpu_float(linear->bias)) return std::nullopt;
      Layer layer;
      layer.weight = linear->weight;
      layer.bias = linear->bias;
      layer.outputs = linear->weight.size(0);
      layer.inputs = linear->weight.size(1);
      stack.m_layers.push_back(std::move(layer));
    } else if (dynamic_cast<torch::nn::ReLUImpl*>(child.get()) && !stack.m_layers.empty() &&
               !stack.m_layers.back().relu && stack.m_layers.back().dropout == 0) {
      stack.m_layers.back().relu = true;
    } else if (auto* dropout = dynamic_cast<torch::nn::DropoutImpl*>(child.get());
               dropout && !stack.m_layers.empty() && stack.m_layers.back().dropout == 0) {
      stack.m_layers.back().dropout = dropout->options.p();
    } else {
      return std::nullopt;
    }
  }
  if (stack.m_layers.empty()) return std::nullopt;
  return stack;
}

const float* DenseStack::next_input(const Layer& layer) const {
  return layer.dropout > 0 ? layer.dropped.data() : layer.output.data();
}

const float* DenseStack::forward(const float* input, std::int64_t rows) {
  m_input = input;
  m_rows = rows;
  at::Generator generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  at::CPUGeneratorImpl& random = *at::check_generator<at::CPUGeneratorImpl>(generator);
  for (std::size_t i = 0; i < m_layers.size(); ++i) {
    Layer& layer = m_layers[i];
    const float* layer_input = i == 0 ? input : next_input(m_layers[i - 1]);
    const std::size_t size = std::size_t(rows * layer.outputs);
    layer.output.resize(size);
    float* out = layer.output.data();
    // As ATen's addmm: the bias first, then the product added to it.
    const float* bias = layer.bias.data_ptr<float>();
    for (std::int64_t row = 0; row < rows; ++row) std::copy_n(bias, layer.outputs, out + row * layer.outputs);
    gemm_row_major(false, true, rows, layer.outputs, layer.inputs, 1.0f, layer_input, layer.inputs,
                   layer.weight.data_ptr<float>(), layer.inputs, 1.0f, out, layer.outputs);
    if (layer.relu) {
      // NaN stays NaN, as in ATen's relu.
      for (std::size_t k = 0; k < size; ++k) out[k] = out[k] < 0.0f ? 0.0f : out[k];
    }
    if (layer.dropout > 0) {
      // ATen's dropout, draw for draw: a Bernoulli(1 - p) mask, divided
      // by 1 - p in float, times the input.
      const double keep = 1.0 - layer.dropout;
      const float kept_scale = layer.dropout >= 1 ? 0.0f : 1.0f / float(keep);
      layer.scale.resize(size);
      layer.dropped.resize(size);
      for (std::size_t k = 0; k < size; ++k) {
        layer.scale[k] = keeps(random, keep) ? kept_scale : 0.0f;
        layer.dropped[k] = out[k] * layer.scale[k];
      }
    }
  }
  return next_input(m_layers.back());
}

void DenseStack::backward(const float* output_gradient, float* input_gradient) {
  const std::int64_t rows = m_rows;
  const float* gradient = output_gradient;  // of the current layer's outputs, before its activation
  for (std::size_t i = m_layers.size(); i-- > 0;) {
    const Layer& layer = m_layers[i];
    const float* layer_input = i == 0 ? m_input : next_input(m_layers[i - 1]);
    gemm_row_major(true, false, layer.outputs, layer.inputs, rows, 1.0f, gradient, layer.outputs, layer_input,
                   layer.inputs, 0.0f, gradient_of(layer.weight), layer.inputs);
    float* bias_gradient = gradient_of(layer.bias);
    std::fill_n(bias_gradient, layer.outputs, 0.0f);
    for (std::int64_t row = 0; row < rows; ++row) {
      for (std::int64_t j = 0; j < layer.outputs; ++j) bias_gradient[j] += gradient[row * layer.outputs + j];
    }
    if (i == 0 && !input_gradient) break;
    float* previous;
    if (i == 0) {
      previous = input_gradient;
    } else {
      m_next_gradient.resize(std::size_t(rows * layer.inputs));
      previous = m_next_gradient.data();
    }
    gemm_row_major(false, false, rows, layer.inputs, layer.outputs, 1.0f, gradient, layer.outputs,
                   layer.weight.data_ptr<float>(), layer.inputs, 0.0f, previous, layer.inputs);
    if (i == 0) break;
    // Back through the previous layer's dropout (times its mask) and ReLU
    // (nothing where its output was not positive), as ATen's backward does.
    const Layer& before = m_layers[i - 1];
    const std::size_t size = std::size_t(rows * before.outputs);
    for (std::size_t k = 0; k < size; ++k) {
      float value = previous[k];
      if (before.dropout > 0) value = value * before.scale[k];
      if (before.relu && !(before.output[k] > 0.0f)) value = 0.0f;
      previous[k] = value;
    }
    std::swap(m_gradient, m_next_gradient);
    gradient = m_gradient.data();
  }
}

}  // namespace mlctl::torch_backend
