#pragma once

// The HTTP face of a served model: routes, key authentication, request
// validation, batched scoring, the answers of the three protocols (mlctl's
// /score, the Open Inference Protocol v2, MLflow's /invocations), health,
// schema and metrics. The model can be swapped while requests flow
// (service update): each round of requests scores with the model that was
// current when the round began, and the old model is freed when the last
// round using it ends.

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include <mlctl/serving/environments.hpp>
#include <mlctl/serving/http_server.hpp>
#include <mlctl/serving/request_log.hpp>
#include <mlctl/serving/scoring_model.hpp>
#include <mlctl/serving/service_metrics.hpp>

namespace mlctl::serving {

struct ServiceAccess {
  AuthMode auth = AuthMode::none;
  std::string primary_key, secondary_key;
};

struct ScoringLimits {
  std::size_t max_batch_rows = 32;  // rows per forward pass
  std::size_t max_request_rows = 10000;
};

class ScoringService final : public HttpHandler {
 public:
  ScoringService(std::string service_name, ServiceMetrics& metrics, RequestLog* log);

  // Makes `model` the one that answers from the next round on.
  void set_model(std::shared_ptr<const ScoringModel> model);
  std::shared_ptr<const ScoringModel> model() const;
  void set_access(ServiceAccess access);
  void set_limits(ScoringLimits limits);

  void handle(std::span<Exchange> exchanges) override;
  void on_protocol_error(int status) override;

 private:
  struct Loaded;  // a model with what is precomputed for its answers
  struct Pending;

  bool authorized(const HttpRequest& request, const ServiceAccess& access) const;
  void answer_other(Exchange& exchange, const Loaded& loaded);
  void score_pending(std::span<Pending> pending, const Loaded& loaded, const ScoringLimits& limits);

  std::string m_service_name;
  ServiceMetrics& m_metrics;
  RequestLog* m_log;
  mutable std::mutex m_mutex;  // guards the three below
  std::shared_ptr<const Loaded> m_loaded;
  ServiceAccess m_access;
  ScoringLimits m_limits;
};

}  // namespace mlctl::serving
