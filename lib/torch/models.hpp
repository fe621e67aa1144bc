#pragma once

// The network architectures of mlctl's built-in trainers. Torch-only: this
// header is included by libmlctl_torch.so's sources, never by libmlctl.
#include <torch/nn.h>

#include <cstdlib>
#include <string_view>

#include <mlctl/core/json.hpp>

namespace mlctl::torch_backend {

// MLCTL_TRAIN_TENSOR_OPS=1 runs on the CPU the code paths a GPU takes
// (autograd instead of the CPU training step, the optimiser's tensor
// operations, ATen's max pooling), so that machines without a GPU test
// them; the tests compare both paths' results.
inline bool device_code_paths_forced() {
  static const bool forced = [] {
    const char* value = std::getenv("MLCTL_TRAIN_TENSOR_OPS");
    return value && std::string_view(value) == "1";
  }();
  return forced;
}

// Fully connected layers with an activation and dropout between them;
// hidden_sizes empty gives a linear model.
struct MlpImpl : torch::nn::Module {
  MlpImpl(std::int64_t inputs, const std::vector<int>& hidden_sizes, std::int64_t outputs, double dropout,
          const std::string& activation);
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Sequential layers{nullptr};
};
TORCH_MODULE(Mlp);

// Bag of words: the mean of the words' embeddings, then an MLP head. With
// `sparse_gradients` the embedding's gradient names only the rows a batch
// used (for training; scoring never computes gradients).
struct TextClassifierImpl : torch::nn::Module {
  TextClassifierImpl(std::int64_t vocabulary, std::int64_t embedding_dim, const std::vector<int>& hidden_sizes,
                     std::int64_t outputs, double dropout, const std::string& activation, bool sparse_gradients);
  torch::Tensor forward(torch::Tensor ids, torch::Tensor offsets);

  torch::nn::EmbeddingBag embedding{nullptr};
  Mlp head{nullptr};
};
TORCH_MODULE(TextClassifier);

// A small convolutional net for fixed-size grey images.
struct ConvNetImpl : torch::nn::Module {
  ConvNetImpl(std::int64_t height, std::int64_t width, const std::vector<int>& channels,
              const std::vector<int>& hidden_sizes, std::int64_t outputs, double dropout, const std::string& activation);
  torch::Tensor forward(torch::Tensor x);

  std::int64_t m_height, m_width;
  torch::nn::Sequential features{nullptr};
  Mlp head{nullptr};
};
TORCH_MODULE(ConvNet);

// Any of the above, built from a model config ({"type": "mlp", ...}, plus
// "num_features" and "num_outputs"). `for_training` gives embeddings
// sparse gradients.
class Network {
 public:
  explicit Network(const Json& config, bool for_training = false);
  // Rows [begin, end) of a batch given as tensors already on the device.
  torch::Tensor forward(const torch::Tensor& features, const torch::Tensor& ids, const torch::Tensor& offsets);
  torch::nn::Module& module();
  bool is_text() const { return !m_text.is_empty(); }
  // The network by kind: the CNN or the MLP (linear included), else null.
  ConvNetImpl* conv_net() { return m_cnn ? m_cnn.get() : nullptr; }
  MlpImpl* mlp() { return m_mlp ? m_mlp.get() : nullptr; }
  // The parameters whose gradients are sparse (the text model's embedding
  // when built for training).
  std::vector<torch::Tensor> sparse_parameters();

 private:
  Mlp m_mlp{nullptr};
  TextClassifier m_text{nullptr};
  ConvNet m_cnn{nullptr};
};

}  // namespace mlctl::torch_backend
