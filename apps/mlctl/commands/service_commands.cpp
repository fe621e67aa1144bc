// `mlctl service ...`: real-time scoring services (az ml service ...
// realtime): create, inspect, score through, update, restart and delete.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>
#include <mlctl/core/process.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/serving/environments.hpp>
#include <mlctl/serving/http_client.hpp>
#include <mlctl/serving/score_request.hpp>
#include <mlctl/serving/service_control.hpp>
#include <mlctl/serving/service_manager.hpp>
#include <mlctl/serving/service_runtime.hpp>

#include "commands/registry.hpp"

namespace mlctl::cli {
namespace {

const RenderOptions k_service_columns{{{"Name", "name"},
                                       {"Environment", "environment"},
                                       {"Model", "model"},
                                       {"State", "state"},
                                       {"URL", "url"},
                                       {"PID", "pid"}}};

serving::ServiceManager manager(CommandEnv& env) { return serving::ServiceManager(env.context(), current_executable()); }

struct RunOptions {
  std::string name, input, input_file;
};

// The body to send: a JSON document as given (arrays of rows or records
// wrapped), or a CSV file turned into records with the service's schema.
std::string request_body(const RunOptions& options, serving::HttpClient& client, const std::vector<std::string>& headers) {
  if (options.input.empty() == options.input_file.empty()) {
    throw Error(ErrorKind::invalid_argument, "give the rows to score: --input JSON or --input-file FILE.json|FILE.csv");
  }
  if (!options.input_file.empty() && options.input_file.size() > 4 &&
      options.input_file.substr(options.input_file.size() - 4) == ".csv") {
    serving::HttpReply schema = client.request("GET", "/schema", {}, headers);
    if (schema.status != 200) {
      throw Error(ErrorKind::failed, fmt::format("GET /schema answered {}: {}", schema.status, schema.body));
    }
    data::CsvTable table = data::read_csv(options.input_file);
    return serving::csv_to_request(table, serving::input_columns(Json::parse(schema.body).at("schema"))).dump();
  }
  const std::string source = options.input.empty() ? options.input_file : "--input";
  Json document;
  try {
    document = Json::parse(options.input.empty() ? read_file(options.input_file) : options.input);
  } catch (const Json::parse_error& error) {
    throw Error(ErrorKind::parse, fmt::format("{}: not valid JSON: {}", source, error.what()));
  }
  if (document.is_array()) {
    const bool records = !document.empty() && document.front().is_object();
    document = Json{{records ? "records" : "data", document}};
  }
  return document.dump();
}

void run_scoring(CommandEnv& env, const RunOptions& options) {
  auto& context = env.context();
  serving::ServiceStore services(context.db());
  serving::Service service = services.get(options.name);
  serving::ServiceHealth health = serving::inspect_service(context.project(), service);
  if (!health.running()) {
    throw Error(ErrorKind::failed, fmt::format("service '{}' is {}", service.name, health.state),
                fmt::format("start it with: mlctl service start {}", service.name));
  }
  serving::Environment environment = serving::EnvironmentStore(context.db()).get(service.environment);
  const std::string host = environment.host == "0.0.0.0" ? "127.0.0.1" : environment.host;
  serving::HttpClient client(host, health.status.value("port", service.port));
  std::vector<std::string> headers;
  if (environment.auth == serving::AuthMode::key) headers.push_back("Authorization: Bearer " + service.primary_key);
  const std::string body = request_body(options, client, headers);
  serving::HttpReply reply = client.request("POST", "/score", body, headers);
  Json answer = Json::parse(reply.body, nullptr, false);
  if (reply.status != 200) {
    std::string message = answer.is_object() && answer.contains("error") ? answer["error"].value("message", reply.body)
                                                                          : reply.body;
    throw Error(ErrorKind::failed, fmt::format("service '{}' answered {}: {}", service.name, reply.status, message));
  }
  if (env.output_format() != OutputFormat::table) {
    env.print(answer);
    return;
  }
  Json rows = Json::array();
  const Json& predictions = answer["predictions"];
  for (std::size_t i = 0; i < predictions.size(); ++i) {
    Json row = {{"row", i}, {"prediction", predictions[i]}};
    if (answer.contains("probabilities")) row["probabilities"] = answer["probabilities"][i];
    rows.push_back(row);
  }
  env.print(rows, {{{"Row", "row"}, {"Prediction", "prediction"}, {"Probabilities", "probabilities"}}});
}

void print_logs(CommandEnv& env, const std::string& name, bool follow, int tail) {
  auto& context = env.context();
  serving::ServiceStore services(context.db());
  serving::Service service = services.get(name);
  serving::ServiceFiles files = serving::ServiceFiles::of(context.project(), name);
  std::string text;
  try {
    text = read_file(files.log);
  } catch (const Error&) {
  }
  const std::string_view shown = serving::last_lines(text, std::size_t(std::max(tail, 0)));
  if (!shown.empty()) std::printf("%.*s\n", int(shown.size()), shown.data());
  std::fflush(stdout);
  if (!follow) return;
  std::size_t offset = text.size();
  // Until the service stops (or Ctrl-C).
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    try {
      text = read_file(files.log);
    } catch (const Error&) {
      text.clear();
    }
    if (text.size() > offset) {
      std::fwrite(text.data() + offset, 1, text.size() - offset, stdout);
      std::fflush(stdout);
      offset = text.size();
    }
    if (!serving::inspect_service(context.project(), services.get(name)).running()) return;
  }
}

}  // namespace

void register_service_commands(CLI::App& app, CommandEnv& env) {
  auto* group = app.add_subcommand("service", "Real-time scoring services: serve a registered model over HTTP");
  group->require_subcommand(1);

  struct CreateOptions {
    serving::CreateServiceRequest request;
    int port = -1;
    double log_sample = 1.0;
    std::size_t max_body_mb = 8;
    std::size_t max_request_rows = 10000;
    std::size_t log_max_mb = 64;
  };
  auto create_options = std::make_shared<CreateOptions>();
  auto* create = group->add_subcommand("create", "Start a scoring service for a model and wait until it is ready");
  create->add_option("--name", create_options->request.name, "Service name")->required();
  create->add_option("--model", create_options->request.model, "Model: NAME, NAME:V or NAME@ALIAS")->required();
  create->add_option("--env", create_options->request.environment, "Environment (default staging)");
  create->add_option("--port", create_options->port, "Port; 0 for any free port (default: a free one of the environment's range)");
  create->add_option("--threads", create_options->request.threads, "I/O threads (default 2)");
  create->add_option("--max-batch", create_options->request.max_batch, "Rows scored together in one forward pass (default 32)");
  create->add_option("--max-delay-ms", create_options->request.max_delay_ms,
                     "How long a request may wait for others to fill its batch (default 0: only those already waiting)");
  create->add_option("--max-body-mb", create_options->max_body_mb, "Largest request body in MiB; larger ones get 413 (default 8)");
  create->add_option("--max-request-rows", create_options->max_request_rows, "Most rows per request; more get 400 (default 10000)");
  create->add_option("--log-sample", create_options->log_sample,
                     "Share of scoring requests whose inputs and predictions are logged for drift monitoring (default 1)");
  create->add_option("--log-max-mb", create_options->log_max_mb,
                     "Size of a request-log file before it rotates, MiB (default 64)");
  create->add_option("--log-files", create_options->request.settings.log_files, "Rotated request-log files kept (default 4)");
  set_examples(*create,
               "mlctl service create --name churn-api --model churn@production --env production\n"
               "  mlctl service create --name churn-stage --model churn:3 --port 0 --max-batch 64 --max-delay-ms 2");
  create->callback([&env, create_options] {
    serving::CreateServiceRequest request = create_options->request;
    if (create_options->port >= 0) request.port = create_options->port;
    request.settings.log_sample = create_options->log_sample;
    request.settings.log_max_bytes = create_options->log_max_mb << 20;
    request.settings.max_body_bytes = create_options->max_body_mb << 20;
    request.settings.max_request_rows = create_options->max_request_rows;
    if (request.settings.log_sample < 0 || request.settings.log_sample > 1) {
      throw Error(ErrorKind::invalid_argument, fmt::format("--log-sample {}: expected 0 to 1", request.settings.log_sample));
    }
    if (request.settings.max_body_bytes == 0 || request.settings.max_request_rows == 0 ||
        request.settings.log_max_bytes == 0 || request.settings.log_files < 1) {
      throw Error(ErrorKind::invalid_argument,
                  "--max-body-mb, --max-request-rows, --log-max-mb and --log-files must be at least 1");
    }
    env.print(manager(env).create(request));
  });

  // The pipeline `deploy` step's verb, idempotent for CI: the same flags as
  // create; an existing service only has its model swapped.
  auto deploy_options = std::make_shared<CreateOptions>();
  auto model_json = std::make_shared<std::string>();
  auto foreground = std::make_shared<bool>(false);
  auto* deploy = group->add_subcommand("deploy", "Create the service, or swap its model when it exists (for pipelines and CI)");
  deploy->add_option("--name", deploy_options->request.name, "Service name")->required();
  deploy->add_option("--model", deploy_options->request.model, "Model: NAME, NAME:V or NAME@ALIAS");
  deploy->add_option("--model-json", *model_json, "The model as `model register -o json` printed it (a register step's output)");
  deploy->add_option("--env", deploy_options->request.environment, "Environment (default staging)");
  deploy->add_option("--threads", deploy_options->request.threads, "I/O threads (default 2)");
  deploy->add_option("--max-batch", deploy_options->request.max_batch, "Rows scored together (default 32)");
  deploy->add_option("--max-delay-ms", deploy_options->request.max_delay_ms, "Batching delay (default 0)");
  deploy->add_option("--port", deploy_options->port, "Port (default: a free one of the environment's range)");
  deploy->add_flag("--foreground", *foreground,
                   "Serve in this process until SIGTERM instead of in the background (containers, systemd)");
  set_examples(*deploy,
               "mlctl service deploy --name churn-staging --model churn@staging --env staging\n"
               "  mlctl service deploy --name churn --model churn --env container --port 8080 --foreground");
  deploy->callback([&env, deploy_options, model_json, foreground] {
    serving::CreateServiceRequest request = deploy_options->request;
    if (deploy_options->port >= 0) request.port = deploy_options->port;
    if (!model_json->empty()) {
      Json registered;
      try {
        registered = Json::parse(read_file(*model_json));
      } catch (const Json::parse_error& error) {
        throw Error(ErrorKind::parse, fmt::format("{}: not valid JSON: {}", *model_json, error.what()));
      }
      if (!registered.is_object() || !registered.contains("ref") || !registered["ref"].is_string()) {
        throw Error(ErrorKind::parse, fmt::format("{}: expected a registered model with a 'ref' (NAME:V)", *model_json));
      }
      request.model = registered["ref"];
    }
    if (request.model.empty()) throw Error(ErrorKind::invalid_argument, "give the model: --model NAME[:V|@ALIAS]");
    if (*foreground) {
      env.exit_code = manager(env).deploy_foreground(request);
      return;
    }
    // Keys stay out of what a pipeline step stores: mlctl service keys NAME.
    Json deployed = manager(env).deploy(request);
    deployed.erase("primary_key");
    deployed.erase("secondary_key");
    env.print(deployed);
  });

  auto* list = group->add_subcommand("list", "List services and whether their processes run");
  auto list_env = std::make_shared<std::string>();
  list->add_option("--env", *list_env, "Only this environment");
  list->callback([&env, list_env] {
    serving::ServiceStore services(env.context().db());
    std::optional<std::string_view> environment;
    if (!list_env->empty()) environment = *list_env;
    auto services_manager = manager(env);
    Json rows = Json::array();
    for (const auto& service : services.list(environment)) rows.push_back(services_manager.describe(service, false));
    env.print(rows, k_service_columns);
  });

  auto name = std::make_shared<std::string>();
  auto* show = group->add_subcommand("show", "Show a service: model, state, URL, limits");
  show->add_option("name", *name, "Service name")->required();
  show->callback([&env, name] { env.print(manager(env).describe(*name, false)); });

  struct LogOptions {
    bool follow = false;
    int tail = 100;
  };
  auto log_options = std::make_shared<LogOptions>();
  auto* logs = group->add_subcommand("logs", "Print the server's log");
  logs->add_option("name", *name, "Service name")->required();
  logs->add_flag("-f,--follow", log_options->follow, "Keep printing new lines until the service stops");
  logs->add_option("--tail", log_options->tail, "Lines from the end (default 100)");
  logs->callback([&env, name, log_options] { print_logs(env, *name, log_options->follow, log_options->tail); });

  auto* remove = group->add_subcommand("delete", "Stop a service and delete it (its deployment ends)");
  remove->add_option("name", *name, "Service name")->required();
  remove->callback([&env, name] {
    manager(env).remove(*name);
    env.print({{"name", *name}, {"deleted", true}});
  });

  auto regenerate = std::make_shared<std::string>();
  auto* keys = group->add_subcommand("keys", "Print a service's keys, or regenerate one");
  keys->add_option("name", *name, "Service name")->required();
  keys->add_option("--regenerate", *regenerate, "primary or secondary")->check(CLI::IsMember({"primary", "secondary"}));
  keys->callback([&env, name, regenerate] {
    if (!regenerate->empty()) {
      env.print(manager(env).regenerate_key(*name, *regenerate));
      return;
    }
    Json service = manager(env).describe(*name, true);
    if (!service.contains("primary_key")) {
      throw Error(ErrorKind::invalid_argument,
                  fmt::format("service '{}' is in environment '{}', which uses no keys", *name,
                              service["environment"].get<std::string>()));
    }
    env.print({{"name", *name}, {"primary_key", service["primary_key"]}, {"secondary_key", service["secondary_key"]}});
  });

  auto model = std::make_shared<std::string>();
  auto limits = std::make_shared<serving::ServiceManager::Limits>();
  auto* update = group->add_subcommand(
      "update", "Serve another model version (no request fails during the swap), or change threads, batching and limits");
  update->add_option("name", *name, "Service name")->required();
  update->add_option("--model", *model, "Model: NAME, NAME:V or NAME@ALIAS");
  update->add_option("--threads", limits->threads, "I/O threads");
  update->add_option("--max-batch", limits->max_batch, "Rows scored together in one forward pass");
  update->add_option("--max-delay-ms", limits->max_delay_ms, "How long a request may wait for others to fill its batch");
  update->add_option("--max-body-mb", limits->max_body_bytes, "Largest request body in MiB");
  update->add_option("--max-request-rows", limits->max_request_rows, "Most rows per request");
  update->add_option("--log-sample", limits->log_sample, "Share of scoring requests logged (0 to 1)");
  update->add_option("--log-max-mb", limits->log_max_bytes, "Size of a request-log file before it rotates, MiB");
  update->add_option("--log-files", limits->log_files, "Rotated request-log files kept");
  set_examples(*update,
               "mlctl service update churn-api --model churn:4\n"
               "  mlctl service update churn-api --max-batch 64 --max-delay-ms 2   # restarts the service");
  update->callback([&env, name, model, limits] {
    serving::ServiceManager::Limits changes = *limits;
    if (changes.max_body_bytes) *changes.max_body_bytes <<= 20;
    if (changes.log_max_bytes) *changes.log_max_bytes <<= 20;
    if (model->empty() && changes.empty()) {
      throw Error(ErrorKind::invalid_argument, "give what to change: --model, or a limit such as --max-batch");
    }
    Json result;
    if (!model->empty()) result = manager(env).update_model(*name, *model);
    if (!changes.empty()) result = manager(env).update_limits(*name, changes);
    env.print(result);
  });

  auto* restart = group->add_subcommand("restart", "Stop a service (finishing its requests) and start it again");
  restart->add_option("name", *name, "Service name")->required();
  restart->callback([&env, name] { env.print(manager(env).restart(*name)); });

  auto* start = group->add_subcommand("start", "Start a stopped service, or one whose process died");
  start->add_option("name", *name, "Service name")->required();
  start->callback([&env, name] { env.print(manager(env).start(*name)); });

  auto* stop = group->add_subcommand("stop", "Stop a service, finishing the requests in flight; it stays recorded");
  stop->add_option("name", *name, "Service name")->required();
  stop->callback([&env, name] { env.print(manager(env).stop(*name)); });

  auto run_options = std::make_shared<RunOptions>();
  auto* run = group->add_subcommand("run", "Score rows through a running service and print the predictions");
  run->add_option("--name", run_options->name, "Service name")->required();
  run->add_option("--input", run_options->input, "JSON: {\"data\": [[...]]}, {\"records\": [...]} or an array of rows");
  run->add_option("--input-file", run_options->input_file, "A JSON file as --input, or a CSV file with a header row");
  set_examples(*run,
               "mlctl service run --name churn-api --input '{\"data\": [[17.99, 10.38, ...]]}'\n"
               "  mlctl service run --name churn-api --input-file holdout.csv -o json");
  run->callback([&env, run_options] { run_scoring(env, *run_options); });

  register_service_stats_command(*group, env);

  auto* serve = group->add_subcommand("serve", "Run a service's server in the foreground (started by service create)");
  serve->group("");
  serve->add_option("name", *name)->required();
  serve->callback([&env, name] { env.exit_code = serving::run_service(env.context().project(), *name); });
}

}  // namespace mlctl::cli
