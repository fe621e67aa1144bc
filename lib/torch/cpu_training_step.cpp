#include "cpu_training_step.hpp"

#include <ATen/core/LegacyTypeDispatch.h>
#include <ATen/ops/convolution.h>
#include <ATen/ops/convolution_backward.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include <mlctl/core/error.hpp>

#include "max_pool.hpp"

namespace mlctl::torch_backend {
namespace {

void write_gradient(const torch::Tensor& parameter, const torch::Tensor& gradient) {
  if (gradient.numel() != parameter.numel()) {
    throw Error(ErrorKind::internal, "a convolution's gradient does not match its parameter's size");
  }
  torch::Tensor source = gradient.contiguous();
  std::memcpy(gradient_of(parameter), source.data_ptr<float>(), std::size_t(source.numel()) * sizeof(float));
}

constexpr std::int64_t k_stride[] = {1, 1}, k_dilation[] = {1, 1}, k_output_padding[] = {0, 0};

}  // namespace

std::unique_ptr<CpuTrainingStep> CpuTrainingStep::for_network(Network& network, bool classification) {
#ifndef MLCTL_HAVE_BLAS
  // Built without BLAS, which the dense layers call.
  return nullptr;
#endif
  if (device_code_paths_forced()) return nullptr;
  if (MlpImpl* mlp = network.mlp()) {
    auto dense = DenseStack::of(*mlp);
    if (!dense) return nullptr;
    return std::unique_ptr<CpuTrainingStep>(new CpuTrainingStep(classification, {}, std::move(*dense), 0, 0));
  }
  ConvNetImpl* cnn = network.conv_net();
  if (!cnn) return nullptr;
  std::vector<ConvLayer> convolutions;
  std::int64_t height = cnn->m_height, width = cnn->m_width;
  for (const auto& child : cnn->features->children()) {
    if (auto* conv = dynamic_cast<torch::nn::Conv2dImpl*>(child.get())) {
      const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&conv->options.padding());
      const auto& stride = conv->options.stride(), &dilation = conv->options.dilation();
      if (!padding || (*stride)[0] != 1 || (*stride)[1] != 1 || (*dilation)[0] != 1 || (*dilation)[1] != 1 ||
          conv->options.groups() != 1 || !c10::get_if<torch::enumtype::kZeros>(&conv->options.padding_mode()) ||
          !is_cpu_float(conv->weight) || !is_cpu_float(conv->bias)) {
        return nullptr;
      }
      ConvLayer layer;
      layer.weight = conv->weight;
      layer.bias = conv->bias;
      layer.padding = {(**padding)[0], (**padding)[1]};
      layer.channels = conv->weight.size(0);
      layer.height = height + 2 * layer.padding[0] - conv->weight.size(2) + 1;
      layer.width = width + 2 * layer.padding[1] - conv->weight.size(3) + 1;
      height = layer.height;
      width = layer.width;
      convolutions.push_back(std::move(layer));
    } else if (dynamic_cast<torch::nn::ReLUImpl*>(child.get()) && !convolutions.empty() &&
               !convolutions.back().relu) {
      convolutions.back().relu = true;
    } else if (dynamic_cast<MaxPool2x2Impl*>(child.get()) && !convolutions.empty() && convolutions.back().relu &&
               !convolutions.back().pool) {
      convolutions.back().pool = true;
      height /= 2;
      width /= 2;
    } else {
      return nullptr;
    }
  }
  // The step runs ReLU after every convolution.
  const bool all_relu =
      std::all_of(convolutions.begin(), convolutions.end(), [](const ConvLayer& layer) { return layer.relu; });
  auto dense = DenseStack::of(*cnn->head);
  if (convolutions.empty() || !all_relu || !dense ||
      dense->inputs() != convolutions.back().channels * height * width) {
    return nullptr;
  }
  return std::unique_ptr<CpuTrainingStep>(
      new CpuTrainingStep(classification, std::move(convolutions), std::move(*dense), cnn->m_height, cnn->m_width));
}

CpuTrainingStep::CpuTrainingStep(bool classification, std::vector<ConvLayer> convolutions, DenseStack dense,
                                 std::int64_t image_height, std::int64_t image_width)
    : m_classification(classification),
      m_convolutions(std::move(convolutions)),
      m_dense(std::move(dense)),
      m_image_height(image_height),
      m_image_width(image_width) {}

double CpuTrainingStep::run(const torch::Tensor& features, const torch::Tensor& labels) {
  // Straight to the CPU kernels: nothing here is recorded for autograd.
  at::AutoDispatchBelowADInplaceOrView below_autograd;
  const std::int64_t rows = features.size(0);
  const float* dense_input;
  torch::Tensor flat_features;
  if (m_convolutions.empty()) {
    flat_features = features.contiguous();
    dense_input = flat_features.data_ptr<float>();
  } else {
    dense_input = forward_convolutions(features);
  }
  const float* outputs = m_dense.forward(dense_input, rows);
  double batch_loss = loss(outputs, rows, labels);
  if (m_convolutions.empty()) {
    m_dense.backward(m_output_gradient.data(), nullptr);
  } else {
    m_feature_gradient.resize(std::size_t(rows * m_dense.inputs()));
    m_dense.backward(m_output_gradient.data(), m_feature_gradient.data());
    backward_convolutions(m_feature_gradient.data());
  }
  return batch_loss;
}

const float* CpuTrainingStep::forward_convolutions(const torch::Tensor& features) {
  const std::int64_t rows = features.size(0);
  torch::Tensor input = features.contiguous().view({rows, 1, m_image_height, m_image_width});
  for (ConvLayer& layer : m_convolutions) {
    layer.input = input;
    torch::Tensor output = at::convolution(input, layer.weight, layer.bias, k_stride, layer.padding, k_dilation,
                                           /*transposed=*/false, k_output_padding, /*groups=*/1)
                               .contiguous();
    float* values = output.data_ptr<float>();
    if (!layer.pool) {
      // NaN stays NaN, as in ATen's relu.
      for (std::int64_t k = 0, n = output.numel(); k < n; ++k) values[k] = values[k] < 0.0f ? 0.0f : values[k];
      layer.output = output;
    } else {
      // ReLU commutes with the maximum: pooling first, then ReLU on the
      // quarter as many maxima, gives max_pool2d(relu(x)) exactly, and the
      // gradient still reaches the window's first maximum when it is
      // positive, and nothing otherwise, as through relu and max_pool2d.
      const std::int64_t planes = rows * layer.channels;
      const std::int64_t pooled_size = planes * (layer.height / 2) * (layer.width / 2);
      layer.pooled.resize(std::size_t(pooled_size));
      layer.winners.resize(std::size_t(pooled_size));
      pool_windows_2x2(values, planes, layer.height, layer.width, layer.pooled.data(), layer.winners.data());
      for (float& value : layer.pooled) value = value < 0.0f ? 0.0f : value;
      layer.output = torch::from_blob(layer.pooled.data(), {rows, layer.channels, layer.height / 2, layer.width / 2},
                                      torch::kFloat32);
    }
    input = layer.output;
  }
  return input.data_ptr<float>();
}

void CpuTrainingStep::backward_convolutions(const float* feature_gradient) {
  // The gradient of the last layer's output (its ReLU, then pooling),
  // flattened as the dense input was.
  torch::Tensor output_gradient =
      torch::from_blob(const_cast<float*>(feature_gradient), m_convolutions.back().output.sizes(), torch::kFloat32);
  for (std::size_t i = m_convolutions.size(); i-- > 0;) {
    ConvLayer& layer = m_convolutions[i];
    const std::int64_t rows = layer.input.size(0), planes = rows * layer.channels;
    float* gradient = output_gradient.data_ptr<float>();
    const float* output = layer.output.data_ptr<float>();
    // Nothing flows back where ReLU's output was not positive: a select,
    // which vectorises, not a branch, which mispredicts on ReLU outputs.
    for (std::int64_t k = 0, n = output_gradient.numel(); k < n; ++k) {
      gradient[k] = output[k] > 0.0f ? gradient[k] : 0.0f;
    }
    torch::Tensor conv_gradient;
    if (layer.pool) {
      layer.conv_gradient.assign(std::size_t(planes * layer.height * layer.width), 0.0f);
      add_pooled_gradient(gradient, layer.winners.data(), planes, layer.height, layer.width,
                          layer.conv_gradient.data());
      conv_gradient = torch::from_blob(layer.conv_gradient.data(), {rows, layer.channels, layer.height, layer.width},
                                       torch::kFloat32);
    } else {
      conv_gradient = output_gradient;
    }
    const std::int64_t bias_size = layer.channels;
    auto [input_gradient, weight_gradient, bias_gradient] = at::convolution_backward(
        conv_gradient, layer.input, layer.weight, at::IntArrayRef(&bias_size, 1), k_stride, layer.padding, k_dilation,
        /*transposed=*/false, k_output_padding, /*groups=*/1, {i > 0, true, true});
    write_gradient(layer.weight, weight_gradient);
    write_gradient(layer.bias, bias_gradient);
    if (i > 0) output_gradient = input_gradient.contiguous();
  }
}

double CpuTrainingStep::loss(const float* outputs, std::int64_t rows, const torch::Tensor& labels) {
  const std::int64_t width = m_dense.outputs();
  m_output_gradient.resize(std::size_t(rows * width));
  float* gradient = m_output_gradient.data();
  const float scale = 1.0f / float(rows);
  double total = 0;
  if (m_classification) {
    torch::Tensor classes = labels.contiguous();
    const std::int64_t* label = classes.data_ptr<std::int64_t>();
    // Cross-entropy through a stable log-softmax; the gradient is
    // (softmax - one-hot) / rows.
    for (std::int64_t row = 0; row < rows; ++row) {
      const float* logits = outputs + row * width;
      float* row_gradient = gradient + row * width;
      if (label[row] < 0 || label[row] >= width) {
        throw Error(ErrorKind::invalid_argument,
                    fmt::format("class label {} is out of range for {} classes", label[row], width));
      }
      const float largest = *std::max_element(logits, logits + width);
      float sum = 0;
      for (std::int64_t j = 0; j < width; ++j) {
        row_gradient[j] = std::exp(logits[j] - largest);
        sum += row_gradient[j];
      }
      total += double(largest) + std::log(double(sum)) - double(logits[label[row]]);
      for (std::int64_t j = 0; j < width; ++j) row_gradient[j] = row_gradient[j] / sum * scale;
      row_gradient[label[row]] -= scale;
    }
  } else {
    torch::Tensor targets = labels.contiguous();
    const float* target = targets.data_ptr<float>();
    for (std::int64_t row = 0; row < rows; ++row) {
      const float difference = outputs[row] - target[row];
      total += double(difference) * double(difference);
      gradient[row] = 2.0f * difference * scale;
    }
  }
  return total / double(rows);
}

}  // namespace mlctl::torch_backend
