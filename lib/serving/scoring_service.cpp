#include <mlctl/serving/scoring_service.hpp>

#include <chrono>
#include <iterator>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/version.hpp>
#include <mlctl/serving/score_request.hpp>

namespace mlctl::serving {
namespace {

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

enum class Route {
  score,           // POST /score
  invocations,     // POST /invocations (MLflow)
  v2_infer,        // POST /v2/models/NAME[/versions/V]/infer
  health,          // GET /health
  ready,           // GET /ready
  schema,          // GET /schema
  metrics,         // GET /metrics
  ping,            // GET /ping (MLflow)
  v2_live,         // GET /v2/health/live
  v2_ready,        // GET /v2/health/ready
  v2_server,       // GET /v2
  v2_model,        // GET /v2/models/NAME[/versions/V]
  v2_model_ready,  // GET /v2/models/NAME[/versions/V]/ready
  not_found,
  wrong_model,     // a /v2/models path naming another model
};

bool is_public(Route route) {
  return route == Route::health || route == Route::ready || route == Route::ping || route == Route::v2_live ||
         route == Route::v2_ready || route == Route::v2_model_ready;
}

bool is_scoring(Route route) { return route == Route::score || route == Route::invocations || route == Route::v2_infer; }

const char* method_of(Route route) { return is_scoring(route) ? "POST" : "GET"; }

// Where a path goes; `model` is the name /v2/models/NAME must match.
Route route_of(std::string_view path, std::string_view model, std::string_view service) {
  if (path == "/score") return Route::score;
  if (path == "/invocations") return Route::invocations;
  if (path == "/health") return Route::health;
  if (path == "/ready") return Route::ready;
  if (path == "/schema") return Route::schema;
  if (path == "/metrics") return Route::metrics;
  if (path == "/ping") return Route::ping;
  if (path == "/v2/health/live") return Route::v2_live;
  if (path == "/v2/health/ready") return Route::v2_ready;
  if (path == "/v2" || path == "/v2/") return Route::v2_server;
  constexpr std::string_view prefix = "/v2/models/";
  if (path.substr(0, prefix.size()) != prefix) return Route::not_found;
  std::string_view rest = path.substr(prefix.size());
  std::string_view name = rest.substr(0, rest.find('/'));
  rest.remove_prefix(name.size());
  if (rest.substr(0, 10) == "/versions/") {
    rest.remove_prefix(10);
    rest.remove_prefix(std::min(rest.size(), rest.find('/') == std::string_view::npos ? rest.size() : rest.find('/')));
  }
  Route route = rest.empty() ? Route::v2_model
                : rest == "/ready" ? Route::v2_model_ready
                : rest == "/infer" ? Route::v2_infer
                                   : Route::not_found;
  if (route != Route::not_found && name != model && name != service) return Route::wrong_model;
  return route;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Keys have one length; only their contents must not leak through timing.
  if (a.size() != b.size() || a.empty()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < a.size(); ++i) difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  return difference == 0;
}

std::string json_string(std::string_view text) { return Json(std::string(text)).dump(); }

void set_json(HttpResponse& response, int status, std::string body) {
  response.status = status;
  response.content_type = "application/json";
  response.body = std::move(body);
}

void set_error(HttpResponse& response, int status, std::string_view message) {
  set_json(response, status, error_body(status, message));
}

// The OpenAPI 3 document of POST /score for a model's schema.
Json openapi_document(const ScoringModel& model, const std::string& service) {
  Json properties = Json::object();
  Json positional = Json::array();
  std::vector<std::string> required;
  for (const InputColumn& input : model.inputs()) {
    Json type = input.type == data::ColumnType::numeric ? Json{{"type", "number"}, {"nullable", true}}
                                                        : Json{{"type", "string"}, {"nullable", true}};
    type["description"] = data::to_string(input.type);
    properties[input.name] = type;
    positional.push_back(type);
    required.push_back(input.name);
  }
  Json row_array = {{"type", "array"}, {"items", positional}, {"minItems", model.inputs().size()},
                    {"maxItems", model.inputs().size()}, {"description", "values in schema column order"}};
  Json record = {{"type", "object"}, {"properties", properties}, {"required", required},
                 {"additionalProperties", false}};
  Json request = {{"oneOf",
                   {{{"type", "object"},
                     {"required", {"data"}},
                     {"properties", {{"data", {{"type", "array"}, {"minItems", 1}, {"items", row_array}}}}}},
                    {{"type", "object"},
                     {"required", {"records"}},
                     {"properties", {{"records", {{"type", "array"}, {"minItems", 1}, {"items", record}}}}}}}}};
  Json prediction = model.classification() ? Json{{"type", "string"}, {"enum", model.classes()}} : Json{{"type", "number"}};
  Json answer = {{"type", "object"}, {"properties", {{"predictions", {{"type", "array"}, {"items", prediction}}}}}};
  if (model.classification()) {
    answer["properties"]["probabilities"] = {
        {"type", "array"},
        {"description", fmt::format("per row, the probability of each class in the order {}", fmt::join(model.classes(), ", "))},
        {"items", {{"type", "array"}, {"items", {{"type", "number"}}}}}};
  }
  Json error = {{"type", "object"},
                {"properties",
                 {{"error",
                   {{"type", "object"},
                    {"properties",
                     {{"code", {{"type", "integer"}}},
                      {"message", {{"type", "string"}}},
                      {"row", {{"type", "integer"}}},
                      {"column", {{"type", "string"}}}}}}}}}};
  auto error_response = [&](const char* what) {
    return Json{{"description", what}, {"content", {{"application/json", {{"schema", error}}}}}};
  };
  return {{"openapi", "3.0.3"},
          {"info", {{"title", fmt::format("mlctl service {}", service)}, {"version", model.reference()}}},
          {"paths",
           {{"/score",
             {{"post",
               {{"summary", fmt::format("Score rows with {}", model.reference())},
                {"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", request}}}}}}},
                {"responses",
                 {{"200", {{"description", "predictions"}, {"content", {{"application/json", {{"schema", answer}}}}}}},
                  {"400", error_response("invalid input, naming the row and column")},
                  {"401", error_response("missing or wrong key")},
                  {"413", error_response("body over the size limit")}}}}}}}}},
          {"components",
           {{"securitySchemes", {{"key", {{"type", "http"}, {"scheme", "bearer"}}}}}}}};
}

}  // namespace

struct ScoringService::Loaded {
  std::shared_ptr<const ScoringModel> model;
  std::vector<std::string> class_json;   // class names, JSON-quoted
  std::vector<std::string> column_json;  // column names, JSON-quoted
  std::string schema_body;               // GET /schema
  std::string v2_metadata;               // GET /v2/models/NAME
  std::string headers;                   // X-Model-Version
  std::string reference_json;            // "churn:3", JSON-quoted, for every log line
};

struct ScoringService::Pending {
  Exchange* exchange = nullptr;
  Route route = Route::score;
  ScoreInput input;
  std::size_t batch_rows = 0;
  double queue_seconds = 0, compute_seconds = 0;
};

ScoringService::ScoringService(std::string service_name, ServiceMetrics& metrics, RequestLog* log)
    : m_service_name(std::move(service_name)), m_metrics(metrics), m_log(log) {}

void ScoringService::set_model(std::shared_ptr<const ScoringModel> model) {
  auto loaded = std::make_shared<Loaded>();
  loaded->model = model;
  for (const auto& name : model->classes()) loaded->class_json.push_back(json_string(name));
  for (const auto& input : model->inputs()) loaded->column_json.push_back(json_string(input.name));
  loaded->schema_body = Json{{"service", m_service_name},
                             {"model", model->reference()},
                             {"schema", model->schema()},
                             {"openapi", openapi_document(*model, m_service_name)}}
                            .dump();
  Json inputs = Json::array();
  for (const auto& input : model->inputs()) {
    inputs.push_back({{"name", input.name},
                      {"datatype", input.type == data::ColumnType::numeric ? "FP64" : "BYTES"},
                      {"shape", {-1}}});
  }
  Json outputs = Json::array();
  outputs.push_back({{"name", "predictions"}, {"datatype", model->classification() ? "BYTES" : "FP64"}, {"shape", {-1}}});
  if (model->classification()) {
    outputs.push_back({{"name", "probabilities"}, {"datatype", "FP32"}, {"shape", {-1, std::int64_t(model->classes().size())}}});
  }
  loaded->v2_metadata = Json{{"name", model->name()},
                             {"versions", {std::to_string(model->version())}},
                             {"platform", "mlctl"},
                             {"inputs", inputs},
                             {"outputs", outputs}}
                            .dump();
  loaded->headers = fmt::format("X-Model-Version: {}\r\n", model->reference());
  loaded->reference_json = json_string(model->reference());
  m_metrics.set_model(model->name(), model->version());
  std::lock_guard lock(m_mutex);
  m_loaded = std::move(loaded);
}

std::shared_ptr<const ScoringModel> ScoringService::model() const {
  std::lock_guard lock(m_mutex);
  return m_loaded ? m_loaded->model : nullptr;
}

void ScoringService::set_access(ServiceAccess access) {
  std::lock_guard lock(m_mutex);
  m_access = std::move(access);
}

void ScoringService::set_limits(ScoringLimits limits) {
  std::lock_guard lock(m_mutex);
  m_limits = limits;
}

void ScoringService::on_protocol_error(int status) { m_metrics.count_status(status); }

bool ScoringService::authorized(const HttpRequest& request, const ServiceAccess& access) const {
  if (access.auth == AuthMode::none) return true;
  std::string_view value = request.header("authorization");
  constexpr std::string_view bearer = "Bearer ";
  if (value.substr(0, bearer.size()) == bearer) value.remove_prefix(bearer.size());
  // Both comparisons always run, so the time does not tell which key matched.
  const bool primary = constant_time_equals(value, access.primary_key);
  const bool secondary = constant_time_equals(value, access.secondary_key);
  return primary | secondary;
}

void ScoringService::handle(std::span<Exchange> exchanges) {
  std::shared_ptr<const Loaded> loaded;
  ServiceAccess access;
  ScoringLimits limits;
  {
    std::lock_guard lock(m_mutex);
    loaded = m_loaded;
    access = m_access;
    limits = m_limits;
  }
  std::vector<Pending> pending;
  for (Exchange& exchange : exchanges) {
    const HttpRequest& request = exchange.request;
    HttpResponse& response = exchange.response;
    const Route route = route_of(request.path, loaded->model->name(), m_service_name);
    if (route == Route::not_found) {
      set_error(response, 404, fmt::format("no such endpoint: {} (see GET /schema)", request.path));
    } else if (route == Route::wrong_model) {
      set_error(response, 404, fmt::format("no model here by that name: this service serves '{}'", loaded->model->name()));
    } else if (request.method != method_of(route)) {
      set_error(response, 405, fmt::format("{} takes {}, not {}", request.path, method_of(route), request.method));
      response.headers = fmt::format("Allow: {}\r\n", method_of(route));
    } else if (!is_public(route) && !authorized(request, access)) {
      set_error(response, 401,
                request.header("authorization").empty()
                    ? "a key is required: send 'Authorization: Bearer KEY' (mlctl service keys NAME)"
                    : "the key is not valid for this service");
      response.headers = "WWW-Authenticate: Bearer\r\n";
    } else if (is_scoring(route)) {
      const BodyDialect dialect = route == Route::score ? BodyDialect::mlctl
                                  : route == Route::invocations ? BodyDialect::mlflow
                                                                : BodyDialect::inference_v2;
      try {
        Pending item;
        item.exchange = &exchange;
        item.route = route;
        item.input = decode_score_request(request.body, dialect, loaded->model->inputs(), limits.max_request_rows,
                                          loaded->model->imputes_missing());
        pending.push_back(std::move(item));
        continue;
      } catch (const BadRequest& bad) {
        set_json(response, bad.status, bad.body());
        // Refused requests count in `service stats` (error rate).
        if (m_log && m_log->sample()) {
          m_log->write(fmt::format(R"({{"time":{:.3f},"model":{},"status":{}}})", unix_now(),
                                   loaded->reference_json, bad.status));
        }
      }
    } else {
      answer_other(exchange, *loaded);
    }
    m_metrics.count_status(response.status);
  }
  if (!pending.empty()) score_pending(pending, *loaded, limits);
}

void ScoringService::answer_other(Exchange& exchange, const Loaded& loaded) {
  HttpResponse& response = exchange.response;
  const ScoringModel& model = *loaded.model;
  switch (route_of(exchange.request.path, model.name(), m_service_name)) {
    case Route::health:
    case Route::v2_live:
      set_json(response, 200, R"({"status":"alive"})");
      break;
    case Route::ready:
    case Route::v2_ready:
    case Route::v2_model_ready:
      set_json(response, 200, fmt::format(R"({{"status":"ready","model":{}}})", loaded.reference_json));
      break;
    case Route::ping:
      response.status = 200;
      response.content_type = "text/plain";
      response.body = "\n";
      break;
    case Route::schema:
      set_json(response, 200, loaded.schema_body);
      break;
    case Route::metrics:
      response.status = 200;
      response.content_type = "text/plain; version=0.0.4";
      response.body = m_metrics.render(m_service_name, m_log ? m_log->dropped() : 0);
      break;
    case Route::v2_server:
      set_json(response, 200, Json{{"name", "mlctl"}, {"version", mlctl_version()}, {"extensions", Json::array()}}.dump());
      break;
    case Route::v2_model:
      set_json(response, 200, loaded.v2_metadata);
      break;
    default:
      set_error(response, 404, "no such endpoint");
  }
  response.headers += loaded.headers;
}

void ScoringService::score_pending(std::span<Pending> pending, const Loaded& loaded, const ScoringLimits& limits) {
  const ScoringModel& model = *loaded.model;
  const std::size_t width = model.inputs().size();
  BatchScores scores;
  std::vector<train::InputCell> cells;
  std::size_t begin = 0;
  while (begin < pending.size()) {
    // Whole requests, up to max_batch_rows rows (a larger request alone).
    std::size_t end = begin, rows = 0;
    while (end < pending.size() && (end == begin || rows + pending[end].input.rows <= limits.max_batch_rows)) {
      rows += pending[end].input.rows;
      ++end;
    }
    cells.clear();
    for (std::size_t i = begin; i < end; ++i) {
      cells.insert(cells.end(), pending[i].input.cells.begin(), pending[i].input.cells.end());
    }
    const double started = steady_seconds();
    std::string failure;
    try {
      model.score(cells, rows, scores);
    } catch (const std::exception& error) {
      failure = error.what();
    }
    const double finished = steady_seconds();
    m_metrics.observe_batch(rows);

    std::size_t offset = 0;
    for (std::size_t i = begin; i < end; ++i) {
      Pending& item = pending[i];
      HttpResponse& response = item.exchange->response;
      const std::size_t count = item.input.rows;
      if (!failure.empty()) {
        set_error(response, 500, fmt::format("scoring failed: {}", failure));
        m_metrics.count_status(500);
        offset += count;
        continue;
      }
      std::string& body = response.body;
      body.clear();
      auto out = std::back_inserter(body);
      const std::size_t classes = model.classes().size();
      auto write_predictions = [&] {
        for (std::size_t r = 0; r < count; ++r) {
          if (r) body += ',';
          if (model.classification()) {
            body += loaded.class_json[std::size_t(scores.best_class[offset + r])];
          } else {
            fmt::format_to(out, "{}", scores.values[offset + r]);
          }
        }
      };
      auto write_probabilities = [&](bool nested) {
        for (std::size_t r = 0; r < count; ++r) {
          if (r) body += ',';
          if (nested) body += '[';
          const float* p = scores.probabilities.data() + (offset + r) * classes;
          for (std::size_t k = 0; k < classes; ++k) {
            if (k) body += ',';
            fmt::format_to(out, "{}", p[k]);
          }
          if (nested) body += ']';
        }
      };
      if (item.route == Route::v2_infer) {
        fmt::format_to(out, R"({{"model_name":{},"model_version":"{}",)", json_string(model.name()), model.version());
        if (item.input.request_id) fmt::format_to(out, R"("id":{},)", json_string(*item.input.request_id));
        fmt::format_to(out, R"("outputs":[{{"name":"predictions","datatype":"{}","shape":[{}],"data":[)",
                       model.classification() ? "BYTES" : "FP64", count);
        write_predictions();
        body += "]}";
        if (model.classification()) {
          fmt::format_to(out, R"(,{{"name":"probabilities","datatype":"FP32","shape":[{},{}],"data":[)", count, classes);
          write_probabilities(false);
          body += "]}";
        }
        body += "]}";
      } else {
        body += R"({"predictions":[)";
        write_predictions();
        body += ']';
        if (item.route == Route::score && model.classification()) {
          body += R"(,"probabilities":[)";
          write_probabilities(true);
          body += ']';
        }
        body += '}';
      }
      response.status = 200;
      response.content_type = "application/json";
      item.queue_seconds = std::max(0.0, started - item.exchange->request.received_at);
      item.compute_seconds = finished - started;
      fmt::format_to(std::back_inserter(response.headers),
                     "{}X-Queue-Time-Ms: {:.3f}\r\nX-Compute-Time-Ms: {:.3f}\r\nX-Batch-Size: {}\r\n", loaded.headers,
                     item.queue_seconds * 1e3, item.compute_seconds * 1e3, rows);
      m_metrics.count_status(200);
      m_metrics.observe_request(steady_seconds() - item.exchange->request.received_at, item.queue_seconds,
                                item.compute_seconds);
      if (m_log && m_log->sample()) {
        std::string line;
        auto log_out = std::back_inserter(line);
        fmt::format_to(log_out, R"({{"time":{:.3f},"model":{},"inputs":[)", unix_now(), loaded.reference_json);
        for (std::size_t r = 0; r < count; ++r) {
          if (r) line += ',';
          line += '{';
          const train::InputCell* row = item.input.cells.data() + r * width;
          for (std::size_t c = 0; c < width; ++c) {
            if (c) line += ',';
            line += loaded.column_json[c];
            line += ':';
            switch (row[c].kind) {
              case train::InputCell::Kind::missing: line += "null"; break;
              case train::InputCell::Kind::number: fmt::format_to(log_out, "{}", row[c].number); break;
              case train::InputCell::Kind::text: line += json_string(row[c].text); break;
            }
          }
          line += '}';
        }
        line += R"(],"predictions":[)";
        for (std::size_t r = 0; r < count; ++r) {
          if (r) line += ',';
          if (model.classification()) {
            line += loaded.class_json[std::size_t(scores.best_class[offset + r])];
          } else {
            fmt::format_to(log_out, "{}", scores.values[offset + r]);
          }
        }
        fmt::format_to(log_out, R"(],"latency_ms":{:.3f}}})",
                       (steady_seconds() - item.exchange->request.received_at) * 1e3);
        m_log->write(std::move(line));
      }
      offset += count;
    }
    begin = end;
  }
}

}  // namespace mlctl::serving
