#include "models.hpp"

#include "max_pool.hpp"

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl::torch_backend {
namespace {

torch::nn::AnyModule make_activation(const std::string& name) {
  if (name == "relu") return torch::nn::AnyModule(torch::nn::ReLU());
  if (name == "tanh") return torch::nn::AnyModule(torch::nn::Tanh());
  if (name == "gelu") return torch::nn::AnyModule(torch::nn::GELU());
  if (name == "sigmoid") return torch::nn::AnyModule(torch::nn::Sigmoid());
  throw Error(ErrorKind::invalid_argument, fmt::format("unknown activation '{}'", name));
}

}  // namespace

MlpImpl::MlpImpl(std::int64_t inputs, const std::vector<int>& hidden_sizes, std::int64_t outputs, double dropout,
                 const std::string& activation) {
  layers = register_module("layers", torch::nn::Sequential());
  std::int64_t width = inputs;
  for (int hidden : hidden_sizes) {
    layers->push_back(torch::nn::Linear(width, hidden));
    layers->push_back(make_activation(activation));
    if (dropout > 0) layers->push_back(torch::nn::Dropout(dropout));
    width = hidden;
  }
  layers->push_back(torch::nn::Linear(width, outputs));
}

torch::Tensor MlpImpl::forward(torch::Tensor x) { return layers->forward(x); }

TextClassifierImpl::TextClassifierImpl(std::int64_t vocabulary, std::int64_t embedding_dim,
                                       const std::vector<int>& hidden_sizes, std::int64_t outputs, double dropout,
                                       const std::string& activation, bool sparse_gradients) {
  embedding = register_module("embedding", torch::nn::EmbeddingBag(torch::nn::EmbeddingBagOptions(vocabulary, embedding_dim)
                                                                       .mode(torch::kMean)
                                                                       .sparse(sparse_gradients)));
  head = register_module("head", Mlp(embedding_dim, hidden_sizes, outputs, dropout, activation));
}

torch::Tensor TextClassifierImpl::forward(torch::Tensor ids, torch::Tensor offsets) {
  return head->forward(embedding->forward(ids, offsets));
}

ConvNetImpl::ConvNetImpl(std::int64_t height, std::int64_t width, const std::vector<int>& channels,
                         const std::vector<int>& hidden_sizes, std::int64_t outputs, double dropout,
                         const std::string& activation)
    : m_height(height), m_width(width) {
  features = register_module("features", torch::nn::Sequential());
  std::int64_t in = 1, h = height, w = width;
  for (int out : channels) {
    features->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1)));
    features->push_back(make_activation(activation));
    // Halve the image while it stays at least 2x2.
    if (h >= 4 && w >= 4) {
      features->push_back(MaxPool2x2());
      h /= 2;
      w /= 2;
    }
    in = out;
  }
  head = register_module("head", Mlp(in * h * w, hidden_sizes, outputs, dropout, activation));
}

torch::Tensor ConvNetImpl::forward(torch::Tensor x) {
  x = x.view({x.size(0), 1, m_height, m_width});
  x = features->forward(x);
  return head->forward(x.flatten(1));
}

Network::Network(const Json& config, bool for_training) {
  const Json& model = config.at("model");
  std::string type = model.at("type");
  std::int64_t inputs = config.at("num_features");
  std::int64_t outputs = config.at("num_outputs");
  auto hidden = model.value("hidden_sizes", std::vector<int>{});
  double dropout = model.value("dropout", 0.0);
  std::string activation = model.value("activation", "relu");
  if (type == "linear") {
    m_mlp = Mlp(inputs, std::vector<int>{}, outputs, 0.0, activation);
  } else if (type == "mlp") {
    m_mlp = Mlp(inputs, hidden, outputs, dropout, activation);
  } else if (type == "text") {
    m_text =
        TextClassifier(inputs, model.value("embedding_dim", 64), hidden, outputs, dropout, activation, for_training);
  } else if (type == "cnn") {
    m_cnn = ConvNet(model.at("image_height"), model.at("image_width"), model.value("channels", std::vector<int>{16, 32}),
                    hidden, outputs, dropout, activation);
  } else {
    throw Error(ErrorKind::invalid_argument, fmt::format("unknown model type '{}'", type));
  }
}

torch::Tensor Network::forward(const torch::Tensor& features, const torch::Tensor& ids, const torch::Tensor& offsets) {
  if (m_text) return m_text->forward(ids, offsets);
  if (m_cnn) return m_cnn->forward(features);
  return m_mlp->forward(features);
}

std::vector<torch::Tensor> Network::sparse_parameters() {
  if (m_text && m_text->embedding->options.sparse()) return {m_text->embedding->weight};
  return {};
}

torch::nn::Module& Network::module() {
  if (m_text) return *m_text;
  if (m_cnn) return *m_cnn;
  return *m_mlp;
}

}  // namespace mlctl::torch_backend
