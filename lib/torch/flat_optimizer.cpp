#include "flat_optimizer.hpp"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <fmt/format.h>

#include <cmath>

#include <mlctl/core/error.hpp>

namespace mlctl::torch_backend {
namespace {

enum class Rule { adam, adamw, sgd };

Rule rule_of(const std::string& name) {
  if (name == "adam") return Rule::adam;
  if (name == "adamw") return Rule::adamw;
  return Rule::sgd;
}

bool contains(const std::vector<torch::Tensor>& tensors, const torch::Tensor& tensor) {
  for (const auto& candidate : tensors) {
    if (candidate.unsafeGetTensorImpl() == tensor.unsafeGetTensorImpl()) return true;
  }
  return false;
}

// The per-step constants of one update, in the float arithmetic the
// tensor kernels use (torch casts its double scalars to the tensor's type).
struct StepConstants {
  Rule rule;
  float lr, weight_decay, decay_factor, beta1, beta2, one_minus_beta1, one_minus_beta2, eps, momentum;
  float step_size;        // adam, adamw: lr / (1 - beta1^t)
  float sqrt_correction;  // adam, adamw: sqrt(1 - beta2^t)
  float lazy_step_size;   // SparseAdam: lr * sqrt(1 - beta2^t) / (1 - beta1^t)

  StepConstants(const OptimizerSettings& s, std::int64_t step) {
    rule = rule_of(s.name);
    lr = float(s.learning_rate);
    weight_decay = float(s.weight_decay);
    decay_factor = float(1 - s.learning_rate * s.weight_decay);
    beta1 = float(s.beta1);
    beta2 = float(s.beta2);
    one_minus_beta1 = float(1 - s.beta1);
    one_minus_beta2 = float(1 - s.beta2);
    eps = float(s.eps);
    momentum = float(s.momentum);
    double correction1 = 1 - std::pow(s.beta1, double(step)), correction2 = 1 - std::pow(s.beta2, double(step));
    step_size = float(s.learning_rate / correction1);
    sqrt_correction = float(std::sqrt(correction2));
    lazy_step_size = float(s.learning_rate * std::sqrt(correction2) / correction1);
  }
};

// The update loops. Constants come by value and arrays as __restrict, so
// that GCC keeps the constants in registers and vectorises the loops (a
// constant read through a reference might change with every store).

// torch::optim::SGD with momentum (dampening 0): buf = momentum * buf + g.
void sgd_update(float* __restrict p, const float* __restrict g, float* __restrict buf, std::int64_t n,
                StepConstants c) {
  for (std::int64_t i = 0; i < n; ++i) {
    float gradient = g[i] + c.weight_decay * p[i];
    if (c.momentum != 0) {
      buf[i] = buf[i] * c.momentum + gradient;
      gradient = buf[i];
    }
    p[i] = p[i] + -c.lr * gradient;
  }
}

// torch::optim::Adam and AdamW, term by term (`lazy` false), or
// torch.optim.SparseAdam's rule for rows (`lazy` true), whose bias
// correction sits outside the square root.
template <bool lazy, bool decoupled>
void adam_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                 std::int64_t n, StepConstants c) {
  for (std::int64_t i = 0; i < n; ++i) {
    float gradient = g[i];
    if constexpr (decoupled) {
      p[i] = p[i] * c.decay_factor;
    } else {
      gradient = gradient + c.weight_decay * p[i];
    }
    m[i] = m[i] * c.beta1 + c.one_minus_beta1 * gradient;
    v[i] = v[i] * c.beta2 + c.one_minus_beta2 * gradient * gradient;
    if constexpr (lazy) {
      p[i] = p[i] + -c.lazy_step_size * m[i] / (std::sqrt(v[i]) + c.eps);
    } else {
      p[i] = p[i] + -c.step_size * m[i] / (std::sqrt(v[i]) / c.sqrt_correction + c.eps);
    }
  }
}

template <bool lazy>
void update(float* p, const float* g, float* m, float* v, std::int64_t n, const StepConstants& c) {
  switch (c.rule) {
    case Rule::sgd: return sgd_update(p, g, m, n, c);
    case Rule::adam: return adam_update<lazy, false>(p, g, m, v, n, c);
    case Rule::adamw: return adam_update<lazy, true>(p, g, m, v, n, c);
  }
}

}  // namespace

OptimizerSettings OptimizerSettings::from_config(const Json& config) {
  OptimizerSettings settings;
  settings.name = config.value("optimizer", "adam");
  if (settings.name != "adam" && settings.name != "adamw" && settings.name != "sgd") {
    throw Error(ErrorKind::invalid_argument,
                fmt::format("unknown optimizer '{}'; expected adam, adamw or sgd", settings.name));
  }
  settings.learning_rate = config.at("learning_rate");
  auto number = [&](const char* key, double fallback) {
    return config.contains(key) && config[key].is_number() ? config[key].get<double>() : fallback;
  };
  settings.weight_decay = number("weight_decay", 0.0);
  settings.momentum = number("momentum", 0.9);
  return settings;
}

FlatOptimizer::FlatOptimizer(torch::nn::Module& module, OptimizerSettings settings,
                             const std::vector<torch::Tensor>& sparse, bool force_tensor_ops)
    : m_settings(std::move(settings)) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> dense;
  std::int64_t total = 0;
  for (auto& item : module.named_parameters()) {
    torch::Tensor parameter = item.value();
    if (!parameter.requires_grad()) continue;
    if (parameter.scalar_type() != torch::kFloat32) {
      throw Error(ErrorKind::internal, fmt::format("parameter {} is not float32", item.key()));
    }
    if (contains(sparse, parameter)) {
      m_sparse.push_back({item.key(), parameter, torch::zeros_like(parameter), torch::zeros_like(parameter)});
    } else {
      dense.push_back(parameter);
      total += parameter.numel();
    }
  }
  torch::TensorOptions options = torch::TensorOptions().dtype(torch::kFloat32).device(
      dense.empty() ? torch::Device(torch::kCPU) : dense.front().device());
  m_parameters = torch::empty({total}, options);
  m_gradients = torch::zeros({total}, options);
  m_first_moment = torch::zeros({total}, options);
  m_second_moment = torch::zeros({total}, options);
  std::int64_t offset = 0;
  for (auto& parameter : dense) {
    std::int64_t count = parameter.numel();
    torch::Tensor slot = m_parameters.narrow(0, offset, count).view(parameter.sizes());
    slot.copy_(parameter);
    parameter.set_data(slot);
    // Autograd adds into a gradient that exists, in place: backward writes
    // straight into the flat buffer.
    parameter.mutable_grad() = m_gradients.narrow(0, offset, count).view(parameter.sizes());
    offset += count;
  }
  bool on_cpu = m_parameters.device().is_cpu();
  for (const auto& item : m_sparse) on_cpu = on_cpu && item.parameter.device().is_cpu();
  m_tensor_ops = force_tensor_ops || !on_cpu;
}

void FlatOptimizer::zero_grad() {
  m_gradients.zero_();
  for (auto& sparse : m_sparse) sparse.parameter.mutable_grad().reset();
}

void FlatOptimizer::step() {
  torch::NoGradGuard no_grad;
  ++m_steps;
  if (m_parameters.numel() > 0) {
    if (m_tensor_ops) {
      step_dense_tensors();
    } else {
      step_dense_cpu();
    }
  }
  for (auto& sparse : m_sparse) {
    if (!sparse.parameter.grad().defined()) continue;
    if (m_tensor_ops) {
      step_sparse_tensors(sparse);
    } else {
      step_sparse_cpu(sparse);
    }
  }
}

void FlatOptimizer::step_dense_cpu() {
  const StepConstants constants(m_settings, m_steps);
  float* p = m_parameters.data_ptr<float>();
  const float* g = m_gradients.data_ptr<float>();
  float* m = m_first_moment.data_ptr<float>();
  float* v = m_second_moment.data_ptr<float>();
  at::parallel_for(0, m_parameters.numel(), 1 << 16, [&](std::int64_t begin, std::int64_t end) {
    update<false>(p + begin, g + begin, m + begin, v + begin, end - begin, constants);
  });
}

void FlatOptimizer::step_dense_tensors() {
  update_tensors(m_parameters, m_gradients, m_first_moment, m_second_moment, /*lazy=*/false);
}

void FlatOptimizer::update_tensors(const torch::Tensor& parameter, torch::Tensor gradient, const torch::Tensor& first,
                                   const torch::Tensor& second, bool lazy) const {
  const StepConstants c(m_settings, m_steps);
  const OptimizerSettings& s = m_settings;
  if (c.rule == Rule::sgd) {
    if (s.weight_decay != 0) gradient = gradient.add(parameter, s.weight_decay);
    if (s.momentum != 0) {
      first.mul_(s.momentum).add_(gradient);
      gradient = first;
    }
    parameter.add_(gradient, -s.learning_rate);
    return;
  }
  if (c.rule == Rule::adamw) {
    parameter.mul_(1 - s.learning_rate * s.weight_decay);
  } else if (s.weight_decay != 0) {
    gradient = gradient.add(parameter, s.weight_decay);
  }
  first.mul_(s.beta1).add_(gradient, 1 - s.beta1);
  second.mul_(s.beta2).addcmul_(gradient, gradient, 1 - s.beta2);
  if (lazy) {
    parameter.addcdiv_(first, second.sqrt().add_(s.eps), -double(c.lazy_step_size));
  } else {
    parameter.addcdiv_(first, (second.sqrt() / double(c.sqrt_correction)).add_(s.eps), -double(c.step_size));
  }
}

void FlatOptimizer::step_sparse_cpu(SparseParameter& sparse) {
  const StepConstants constants(m_settings, m_steps);
  torch::Tensor gradient = sparse.parameter.grad();
  const std::int64_t rows = sparse.parameter.size(0), width = sparse.parameter.size(1);
  torch::Tensor indices = gradient._indices().contiguous(), values = gradient._values().contiguous();
  const std::int64_t* index = indices.data_ptr<std::int64_t>();
  const float* value = values.data_ptr<float>();
  const std::int64_t entries = indices.size(1);
  if (std::int64_t(m_row_slot.size()) < rows) m_row_slot.assign(std::size_t(rows), -1);
  m_touched.clear();
  m_row_gradients.clear();
  for (std::int64_t k = 0; k < entries; ++k) {
    std::int64_t row = index[k];
    std::int32_t& slot = m_row_slot[std::size_t(row)];
    if (slot < 0) {
      slot = std::int32_t(m_touched.size());
      m_touched.push_back(row);
      m_row_gradients.resize(m_row_gradients.size() + std::size_t(width), 0.0f);
    }
    float* sum = m_row_gradients.data() + std::int64_t(slot) * width;
    const float* add = value + k * width;
    for (std::int64_t j = 0; j < width; ++j) sum[j] += add[j];
  }
  float* p = sparse.parameter.data_ptr<float>();
  float* m = sparse.first_moment.data_ptr<float>();
  float* v = sparse.second_moment.data_ptr<float>();
  for (std::size_t slot = 0; slot < m_touched.size(); ++slot) {
    std::int64_t base = m_touched[slot] * width;
    const float* g = m_row_gradients.data() + std::int64_t(slot) * width;
    update<true>(p + base, g, m + base, v + base, width, constants);
    m_row_slot[std::size_t(m_touched[slot])] = -1;
  }
}

void FlatOptimizer::step_sparse_tensors(SparseParameter& sparse) {
  // The touched rows, updated as a dense block and written back.
  torch::Tensor gradient = sparse.parameter.grad().coalesce();
  torch::Tensor rows = gradient._indices()[0];
  torch::Tensor parameter = sparse.parameter.index_select(0, rows);
  torch::Tensor first = sparse.first_moment.index_select(0, rows);
  torch::Tensor second = sparse.second_moment.index_select(0, rows);
  update_tensors(parameter, gradient._values(), first, second, /*lazy=*/true);
  sparse.parameter.index_copy_(0, rows, parameter);
  sparse.first_moment.index_copy_(0, rows, first);
  sparse.second_moment.index_copy_(0, rows, second);
}

std::vector<std::pair<std::string, torch::Tensor>> FlatOptimizer::parameter_tensors() {
  std::vector<std::pair<std::string, torch::Tensor>> tensors = {{"dense", m_parameters}};
  for (auto& sparse : m_sparse) tensors.emplace_back(sparse.name, sparse.parameter);
  return tensors;
}

std::vector<std::pair<std::string, torch::Tensor>> FlatOptimizer::state_tensors() {
  auto tensors = parameter_tensors();
  tensors.emplace_back("dense.moment1", m_first_moment);
  tensors.emplace_back("dense.moment2", m_second_moment);
  for (auto& sparse : m_sparse) {
    tensors.emplace_back(sparse.name + ".moment1", sparse.first_moment);
    tensors.emplace_back(sparse.name + ".moment2", sparse.second_moment);
  }
  return tensors;
}

}  // namespace mlctl::torch_backend
