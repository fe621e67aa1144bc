#include <mlctl/serving/service_runtime.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/signal_waiter.hpp>
#include <mlctl/registry/model_registry.hpp>
#include <mlctl/serving/environments.hpp>
#include <mlctl/serving/http_server.hpp>
#include <mlctl/serving/request_log.hpp>
#include <mlctl/serving/scoring_service.hpp>
#include <mlctl/serving/service_control.hpp>
#include <mlctl/serving/service_metrics.hpp>
#include <mlctl/serving/service_store.hpp>
#include <mlctl/store/context.hpp>

namespace mlctl::serving {
namespace {

namespace fs = std::filesystem;

void log_line(std::string_view message) {
  std::fprintf(stderr, "%s %.*s\n", format_iso8601(unix_now()).c_str(), int(message.size()), message.data());
  std::fflush(stderr);
}

// Takes the service's lock, retrying briefly: a CLI probing liveness holds
// it for a moment.
int take_lock(const ServiceFiles& files, std::string_view name) {
  int fd = ::open(files.lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ErrorKind::io, fmt::format("cannot open {}", files.lock.string()));
  for (int attempt = 0; attempt < 200; ++attempt) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::close(fd);
  throw Error(ErrorKind::already_exists, fmt::format("service '{}' is already running", name));
}

// Scores a made-up row (zeros, empty texts) until the model answers with
// finite values: the first forward passes allocate and pick kernels, and no
// client should wait for that. Throws Error(train) for non-finite outputs.
void warm_up(const ScoringModel& model, std::size_t max_batch) {
  const std::size_t width = model.inputs().size();
  for (std::size_t rows : {std::size_t(1), std::max<std::size_t>(1, max_batch)}) {
    std::vector<train::InputCell> cells(rows * width);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (model.inputs()[i % width].type == data::ColumnType::numeric) {
        cells[i].kind = train::InputCell::Kind::number;
        cells[i].number = 0;
      } else {
        cells[i].kind = train::InputCell::Kind::text;
        cells[i].text = "";
      }
    }
    BatchScores scores;
    for (int round = 0; round < 3; ++round) model.score(cells, rows, scores);
    for (float p : scores.probabilities) {
      if (!std::isfinite(p)) throw Error(ErrorKind::train, fmt::format("model {} gives non-finite outputs", model.reference()));
    }
    for (double v : scores.values) {
      if (!std::isfinite(v)) throw Error(ErrorKind::train, fmt::format("model {} gives non-finite outputs", model.reference()));
    }
  }
}

class ServiceProcess {
 public:
  ServiceProcess(const store::ProjectPaths& project, std::string_view name)
      : m_project(project), m_name(name), m_files(ServiceFiles::of(project, name)) {}

  int run() {
    std::error_code ec;
    fs::create_directories(m_files.directory, ec);
    // Blocked before any thread starts, so that every thread inherits the
    // mask and the signals reach only the control loop below.
    SignalWaiter signals;
    m_lock_fd = take_lock(m_files, m_name);
    m_status = {{"pid", ::getpid()}, {"state", "starting"}, {"started_at", unix_now()}, {"generation", 0}};
    write_status();
    try {
      start();
    } catch (const std::exception& error) {
      m_status["state"] = "failed";
      m_status["error"] = error.what();
      write_status();
      throw;
    }
    std::atomic<bool> done{false};
    std::thread control([&] {
      while (!done) {
        int signal_number = signals.wait(200);
        if (signal_number == SIGTERM || signal_number == SIGINT) {
          log_line("stopping: finishing the requests in flight");
          m_status["state"] = "stopping";
          write_status();
          m_server->stop();
          return;
        }
        if (signal_number == SIGHUP) reload();
      }
    });
    m_server->run();
    done = true;
    control.join();
    m_server.reset();
    m_log.reset();  // writes what is queued
    m_status["state"] = "stopped";
    m_status["stopped_at"] = unix_now();
    write_status();
    log_line("stopped");
    return 0;
  }

 private:
  void write_status() {
    m_status["updated_at"] = unix_now();
    write_file_atomic(m_files.status, m_status.dump());
  }

  // Materialises the version's files (verifying each hash), loads and warms
  // the model.
  std::shared_ptr<const ScoringModel> load(const Service& service, fs::path& files_dir) {
    store::Context context({m_project.root, m_project.root});
    registry::ModelRegistry models(context.db(), context.artifacts());
    registry::ModelVersion model = models.get(service.model());
    files_dir = m_files.models / fmt::format("{}-{}-{}", model.name, model.version, ++m_loads);
    std::error_code ec;
    fs::remove_all(files_dir, ec);
    models.materialize(model, files_dir);
    auto loaded = ScoringModel::load(model, files_dir);
    warm_up(*loaded, std::size_t(service.max_batch));
    return loaded;
  }

  void apply_settings(const Service& service, const Environment& environment) {
    ServiceAccess access;
    access.auth = environment.auth;
    access.primary_key = service.primary_key;
    access.secondary_key = service.secondary_key;
    m_app->set_access(access);
    m_app->set_limits({std::size_t(service.max_batch), service.settings.max_request_rows});
  }

  void start() {
    store::Context context({m_project.root, m_project.root});
    ServiceStore services(context.db());
    Service service = services.get(m_name);
    Environment environment = EnvironmentStore(context.db()).get(service.environment);
    log_line(fmt::format("starting service '{}' with model {} in environment '{}'", m_name, service.model(),
                         service.environment));
    const double began = monotonic_seconds();
    fs::path files_dir;
    auto model = load(service, files_dir);
    m_model_dir = files_dir;
    m_model_version_id = service.model_version_id;
    log_line(fmt::format("model {} loaded and warmed up in {:.0f} ms", model->reference(),
                         (monotonic_seconds() - began) * 1e3));
    m_log = std::make_unique<RequestLog>(m_files.requests, service.settings.log_sample, service.settings.log_max_bytes,
                                         service.settings.log_files);
    m_app = std::make_unique<ScoringService>(m_name, m_metrics, m_log.get());
    m_app->set_model(model);
    apply_settings(service, environment);
    HttpServerOptions options;
    options.host = environment.host;
    options.port = service.port;
    options.threads = service.threads;
    options.max_body_bytes = service.settings.max_body_bytes;
    options.gather_requests = std::size_t(std::max(1, service.max_batch));
    options.gather_delay_ms = service.max_delay_ms;
    m_server = std::make_unique<HttpServer>(options, *m_app);
    const std::string url = service_url(environment.host, m_server->port());
    m_status["state"] = "ready";
    m_status["host"] = environment.host;
    m_status["port"] = m_server->port();
    m_status["url"] = url;
    m_status["model"] = model->reference();
    m_status["generation"] = 1;
    m_status["ready_at"] = unix_now();
    write_status();
    log_line(fmt::format("listening on {} with {} I/O threads (max batch {} rows, max delay {} ms)", url,
                         options.threads, service.max_batch, service.max_delay_ms));
  }

  // SIGHUP: re-reads the record; a new model is loaded and checked while
  // the old one keeps answering, then swapped in.
  void reload() {
    std::string outcome;
    try {
      store::Context context({m_project.root, m_project.root});
      Service service = ServiceStore(context.db()).get(m_name);
      Environment environment = EnvironmentStore(context.db()).get(service.environment);
      if (service.model_version_id != m_model_version_id) {
        log_line(fmt::format("loading model {} to replace {}", service.model(), m_app->model()->reference()));
        fs::path files_dir;
        auto model = load(service, files_dir);
        m_app->set_model(model);
        std::error_code ec;
        fs::remove_all(m_model_dir, ec);  // the old model's files; it stays in memory until its last round ends
        m_model_dir = files_dir;
        m_model_version_id = service.model_version_id;
        m_status["model"] = model->reference();
        outcome = fmt::format("now serving model {}", model->reference());
      } else {
        outcome = "settings re-read";
      }
      apply_settings(service, environment);
      m_status.erase("error");
      m_metrics.count_reload(true);
    } catch (const std::exception& error) {
      outcome = fmt::format("reload failed, still serving {}: {}", m_app->model()->reference(), error.what());
      m_status["error"] = error.what();
      m_metrics.count_reload(false);
    }
    log_line(outcome);
    m_status["generation"] = m_status.value("generation", 0) + 1;
    write_status();
  }

  store::ProjectPaths m_project;
  std::string m_name;
  ServiceFiles m_files;
  int m_lock_fd = -1;
  Json m_status;
  ServiceMetrics m_metrics;
  std::unique_ptr<RequestLog> m_log;
  std::unique_ptr<ScoringService> m_app;
  std::unique_ptr<HttpServer> m_server;
  fs::path m_model_dir;
  std::int64_t m_model_version_id = 0;
  int m_loads = 0;
};

}  // namespace

int run_service(const store::ProjectPaths& project, std::string_view name) {
  ServiceProcess process(project, name);
  return process.run();
}

}  // namespace mlctl::serving
