// service create | run | update | keys | start | stop | delete and env:
// real services on 127.0.0.1 scored over HTTP with the three protocols,
// every error status, key authentication, a model swap under load, a killed
// process, a graceful stop, and the churn example end to end.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <set>
#include <thread>

#include <fmt/format.h>

#include <mlctl/core/files.hpp>
#include <mlctl/data/csv.hpp>
#include <mlctl/serving/http_client.hpp>

#include "cli/cli_fixture.hpp"
#include "support/local_socket.hpp"

using namespace mlctl::testing;
using mlctl::Json;
using mlctl::serving::HttpClient;
using mlctl::serving::HttpReply;

namespace {

std::string churn_csv() { return (source_dir() / "examples" / "churn" / "data" / "breast_cancer.csv").string(); }

// Trains examples/churn/train.yml on CPU (extra flags appended); returns the run id.
std::string train_churn(const ProjectFixture& project, const std::string& learning_rate = "0.01",
                        const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"experiment", "submit", "-f", (source_dir() / "examples" / "churn" / "train.yml").string(),
                                   "--set", "device=cpu", "--set", "learning_rate=" + learning_rate, "-o", "json"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto result = project.mlctl(args);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return Json::parse(result.out)["id"];
}

// churn:1 trained on the registered dataset churn:1, so that the model's
// lineage names its training data (the drift baseline).
void register_churn_with_lineage(const ProjectFixture& project) {
  project.json({"data", "register", "--name", "churn", "--path", churn_csv(), "--label", "diagnosis"});
  std::string run = train_churn(project, "0.01", {"--set", "data.train=azureml:churn:1"});
  project.json({"model", "register", "--name", "churn", "--run", run});
}

struct Endpoint {
  int port = 0;
  std::string key;
};

Endpoint create_service(const ProjectFixture& project, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"service", "create", "--port", "0"};
  args.insert(args.end(), extra.begin(), extra.end());
  Json created = project.json(args);
  REQUIRE(created["state"] == "running");
  return {created["port"].get<int>(), created.value("primary_key", "")};
}

std::vector<std::string> bearer(const std::string& key) { return {"Authorization: Bearer " + key}; }

// The first `rows` data rows of the churn table, label left out, as
// {"data": [[...]]} in schema order (the CSV's own column order).
Json churn_rows(std::size_t rows) {
  auto table = mlctl::data::read_csv(churn_csv());
  Json data = Json::array();
  for (std::size_t r = 0; r < rows; ++r) {
    Json row = Json::array();
    for (std::size_t c = 0; c < table.column_count(); ++c) {
      if (table.columns[c].name() == "diagnosis") continue;
      row.push_back(std::stod(std::string(table.cell(r, c))));
    }
    data.push_back(row);
  }
  return {{"data", data}};
}

// churn_rows with the ten mean_* measurements 1.5 times larger: traffic
// from another population.
Json shifted_rows(std::size_t rows) {
  Json shifted = churn_rows(rows);
  for (auto& row : shifted["data"]) {
    for (std::size_t c = 0; c < 10; ++c) row[c] = row[c].get<double>() * 1.5;
  }
  return shifted;
}

std::string error_message(const HttpReply& reply) { return Json::parse(reply.body)["error"]["message"]; }


}  // namespace

TEST_CASE("cli service: the churn model served from the production alias answers as model predict does",
          "[cli][service][torch]") {
  ProjectFixture project;
  std::string run = train_churn(project);
  project.json({"model", "register", "--name", "churn", "--run", run, "--alias", "production"});
  ServiceGuard guard{project, "churn-api"};
  Endpoint api = create_service(project, {"--name", "churn-api", "--model", "churn@production", "--env", "production"});
  REQUIRE(api.key.size() == 64);

  // A few rows of the table, scored from the shell and by batch scoring.
  std::string csv = mlctl::read_file(churn_csv());
  std::size_t end = 0;
  for (int line = 0; line < 6; ++line) end = csv.find('\n', end) + 1;
  write_text(project / "rows.csv", csv.substr(0, end));
  Json served = project.json({"service", "run", "--name", "churn-api", "--input-file", "rows.csv"});
  Json batch = project.json({"model", "predict", "--model", "churn@production", "--input", "rows.csv"});
  REQUIRE(served["predictions"].size() == 5);
  REQUIRE(batch.size() == 5);
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(served["predictions"][i] == batch[i]["prediction"]);
    for (std::size_t k = 0; k < 2; ++k) {
      CHECK(served["probabilities"][i][k].get<double>() ==
            Approx(batch[i]["probabilities"][k].get<double>()).margin(1e-6));
    }
  }

  HttpClient client("127.0.0.1", api.port);
  auto key = bearer(api.key);
  // Rows in schema order and named records give the same answer.
  Json rows = churn_rows(5);
  HttpReply by_position = client.request("POST", "/score", rows.dump(), key);
  REQUIRE(by_position.status == 200);
  CHECK(Json::parse(by_position.body) == served);
  CHECK(by_position.header("X-Model-Version") == "churn:1");
  CHECK(by_position.header("X-Batch-Size") == "5");
  CHECK(!by_position.header("X-Queue-Time-Ms").empty());
  CHECK(!by_position.header("X-Compute-Time-Ms").empty());
  Json schema = Json::parse(client.request("GET", "/schema", {}, key).body);
  CHECK(schema["openapi"]["openapi"] == "3.0.3");
  CHECK(schema["openapi"]["paths"]["/score"]["post"]["responses"].contains("400"));
  REQUIRE(schema["schema"]["inputs"].size() == 30);
  Json records = Json::array();
  for (const Json& row : rows["data"]) {
    Json record = Json::object();
    for (std::size_t c = 0; c < 30; ++c) record[schema["schema"]["inputs"][c]["name"].get<std::string>()] = row[c];
    records.push_back(record);
  }
  HttpReply by_name = client.request("POST", "/score", Json{{"records", records}}.dump(), key);
  REQUIRE(by_name.status == 200);
  CHECK(Json::parse(by_name.body) == served);

  // The same model through MLflow's and the Open Inference Protocol's endpoints.
  Json columns = Json::array();
  for (const Json& input : schema["schema"]["inputs"]) columns.push_back(input["name"]);
  HttpReply mlflow = client.request(
      "POST", "/invocations", Json{{"dataframe_split", {{"columns", columns}, {"data", rows["data"]}}}}.dump(), key);
  REQUIRE(mlflow.status == 200);
  CHECK(Json::parse(mlflow.body)["predictions"] == served["predictions"]);
  CHECK(client.request("POST", "/invocations", Json{{"dataframe_records", records}}.dump(), key).status == 200);
  HttpReply v2 = client.request(
      "POST", "/v2/models/churn/infer",
      Json{{"id", "q1"}, {"inputs", {{{"name", "input-0"}, {"shape", {5, 30}}, {"datatype", "FP64"}, {"data", rows["data"]}}}}}
          .dump(),
      key);
  REQUIRE(v2.status == 200);
  Json v2_answer = Json::parse(v2.body);
  CHECK(v2_answer["model_name"] == "churn");
  CHECK(v2_answer["model_version"] == "1");
  CHECK(v2_answer["id"] == "q1");
  CHECK(v2_answer["outputs"][0]["data"] == served["predictions"]);
  CHECK(v2_answer["outputs"][1]["shape"] == Json::parse("[5, 2]"));
  CHECK(Json::parse(client.request("GET", "/v2/models/churn", {}, key).body)["versions"] == Json::parse(R"(["1"])"));
  CHECK(client.request("GET", "/v2/models/other", {}, key).status == 404);
  for (const char* probe : {"/health", "/ready", "/ping", "/v2/health/live", "/v2/health/ready"}) {
    INFO(probe);
    CHECK(client.request("GET", probe).status == 200);  // probes need no key
  }
  std::string metrics = client.request("GET", "/metrics", {}, key).body;
  CHECK(metrics.find("mlctl_requests_total{service=\"churn-api\",code=\"200\"}") != std::string::npos);
  CHECK(metrics.find("mlctl_model_info{service=\"churn-api\",model=\"churn\",version=\"1\"} 1") != std::string::npos);
  CHECK(metrics.find("mlctl_batch_rows_bucket{service=\"churn-api\",le=\"8\"}") != std::string::npos);
  CHECK(metrics.find("mlctl_rows_scored_total{service=\"churn-api\"}") != std::string::npos);

  // The deployment is recorded on the model version, which cannot go while served.
  Json model = project.json({"model", "show", "churn:1"});
  REQUIRE(model["deployments"].size() == 1);
  CHECK(model["deployments"][0]["service"] == "churn-api");
  CHECK(model["deployments"][0]["environment"] == "production");
  CHECK(model["deployments"][0]["ended_at"] == nullptr);
  REQUIRE(project.mlctl({"model", "alias", "delete", "churn", "production"}).exit_code == 0);
  auto refused = project.mlctl({"model", "delete", "churn:1"});
  CHECK(refused.exit_code == 4);
  CHECK(refused.err.find("model churn:1 is served by service 'churn-api' (production)") != std::string::npos);

  // Served requests are logged for drift monitoring: inputs and predictions.
  auto log = project / ".mlctl/services/churn-api/requests/requests.jsonl";
  std::string logged;
  for (int i = 0; i < 50 && logged.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::filesystem::exists(log)) logged = mlctl::read_file(log);
  }
  REQUIRE(!logged.empty());
  Json first = Json::parse(logged.substr(0, logged.find('\n')));
  CHECK(first["model"] == "churn:1");
  CHECK(first["inputs"].size() == 5);
  CHECK(first["inputs"][0].contains("mean_radius"));
  CHECK(first["predictions"] == served["predictions"]);

  project.json({"service", "delete", "churn-api"});
  CHECK(project.json({"model", "show", "churn:1"})["deployments"][0]["ended_at"].is_string());
  CHECK(project.mlctl({"model", "delete", "churn:1"}).exit_code == 0);
}

TEST_CASE("cli service: every error status with its message, and key authentication", "[cli][service][torch]") {
  ProjectFixture project;
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project)});
  ServiceGuard guard{project, "strict"};
  Endpoint api = create_service(project, {"--name", "strict", "--model", "churn:1", "--env", "production",
                                          "--max-request-rows", "2", "--max-body-mb", "1"});
  HttpClient client("127.0.0.1", api.port);
  std::string one_row = churn_rows(1).dump();

  HttpReply no_key = client.request("POST", "/score", one_row);
  CHECK(no_key.status == 401);
  CHECK(error_message(no_key) == "a key is required: send 'Authorization: Bearer KEY' (mlctl service keys NAME)");
  HttpReply wrong_key = client.request("POST", "/score", one_row, bearer(std::string(64, 'a')));
  CHECK(wrong_key.status == 401);
  CHECK(error_message(wrong_key) == "the key is not valid for this service");
  Json keys = project.json({"service", "keys", "strict"});
  CHECK(keys["primary_key"] == api.key);
  CHECK(client.request("POST", "/score", one_row, bearer(keys["secondary_key"])).status == 200);

  auto key = bearer(api.key);
  auto expect = [&](const std::string& body, int status, const std::string& message) {
    HttpReply reply = client.request("POST", "/score", body, key);
    INFO(body.substr(0, 200));
    CHECK(reply.status == status);
    CHECK(error_message(reply).rfind(message, 0) == 0);
    return Json::parse(reply.body)["error"];
  };
  expect("{\"data\": [[1, 2", 400, "the body is not valid JSON: parse error");
  Json typed = churn_rows(1);
  typed["data"][0][3] = "large";
  Json wrong_type = expect(typed.dump(), 400, "row 0, column 'mean_area': expected a number or null, got a string");
  CHECK(wrong_type["row"] == 0);
  CHECK(wrong_type["column"] == "mean_area");
  expect(R"({"records": [{"mean_radiu": 1}]})", 400, "row 0: unknown column 'mean_radiu' (did you mean 'mean_radius'?)");
  expect(R"({"records": [{"mean_radius": 1.0}]})", 400, "row 0: column 'mean_texture' is missing");
  expect(R"({"data": []})", 400, "empty batch: the request holds no rows");
  expect(churn_rows(3).dump(), 400, "the batch of 3 rows exceeds the limit of 2 rows per request");
  expect(std::string(2 << 20, ' '), 413, "the request body of 2097152 bytes exceeds the limit of 1048576 bytes");
  HttpReply unknown = client.request("GET", "/nowhere", {}, key);
  CHECK(unknown.status == 404);
  CHECK(error_message(unknown) == "no such endpoint: /nowhere (see GET /schema)");
  HttpReply wrong_method = client.request("GET", "/score", {}, key);
  CHECK(wrong_method.status == 405);
  CHECK(error_message(wrong_method) == "/score takes POST, not GET");
  // A missing value is imputed as at training time, not refused.
  Json with_null = churn_rows(1);
  with_null["data"][0][3] = nullptr;
  CHECK(client.request("POST", "/score", with_null.dump(), key).status == 200);

  // Bad requests never take the service down.
  CHECK(client.request("GET", "/health").status == 200);
  CHECK(client.request("POST", "/score", one_row, key).status == 200);

  // service run reports the service's refusal and exits 1.
  auto refused = project.mlctl({"service", "run", "--name", "strict", "--input", R"({"data": [[1, 2]]})"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("error: service 'strict' answered 400: row 0: expected 30 values") != std::string::npos);

  // A regenerated key replaces the old one at once.
  Json regenerated = project.json({"service", "keys", "strict", "--regenerate", "primary"});
  CHECK(regenerated["primary_key"] != api.key);
  CHECK(regenerated["secondary_key"] == keys["secondary_key"]);
  CHECK(client.request("POST", "/score", one_row, key).status == 401);
  CHECK(client.request("POST", "/score", one_row, bearer(regenerated["primary_key"])).status == 200);
}

TEST_CASE("cli service: update swaps the model with no failed request while a client loop runs",
          "[cli][service][torch]") {
  ProjectFixture project;
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project, "0.01")});
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project, "0.002")});
  ServiceGuard guard{project, "live"};
  Endpoint api = create_service(project, {"--name", "live", "--model", "churn:1"});

  std::atomic<bool> stop{false};
  std::atomic<int> answered{0}, failed{0};
  std::set<std::string> versions;
  std::string body = churn_rows(1).dump();
  std::thread load([&] {
    HttpClient client("127.0.0.1", api.port);
    while (!stop) {
      try {
        HttpReply reply = client.request("POST", "/score", body);
        if (reply.status == 200) {
          ++answered;
          versions.insert(reply.header("X-Model-Version"));
        } else {
          ++failed;
        }
      } catch (const std::exception&) {
        ++failed;
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Json updated = project.json({"service", "update", "live", "--model", "churn:2"});
  CHECK(updated["model"] == "churn:2");
  CHECK(updated["serving"] == "churn:2");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // A model that fails its checks is refused; the service keeps its model.
  auto fixture = source_dir() / "tests" / "fixtures" / "torchscript";
  Json schema = Json::parse(mlctl::read_file(fixture / "schema.json"));
  schema["outputs"]["classes"] = Json::parse(R"(["a", "b", "c"])");  // the module returns 2 columns
  write_text(project / "bad_schema.json", schema.dump());
  project.json({"model", "register", "--name", "churn", "--path", (fixture / "churn_linear.pt").string(), "--format",
                "torchscript", "--schema", "bad_schema.json"});
  auto refused = project.mlctl({"service", "update", "live", "--model", "churn:3"});
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("error: service 'live' keeps serving churn:2: model churn:3 failed to load: ") != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stop = true;
  load.join();

  CHECK(failed == 0);
  CHECK(answered > 20);
  CHECK(versions == std::set<std::string>{"churn:1", "churn:2"});
  Json show = project.json({"service", "show", "live"});
  CHECK(show["model"] == "churn:2");
  CHECK(show["serving"] == "churn:2");
  CHECK(project.json({"model", "show", "churn:1"})["deployments"][0]["ended_at"].is_string());
  CHECK(project.json({"model", "show", "churn:2"})["deployments"][0]["ended_at"] == nullptr);
  CHECK(project.json({"model", "show", "churn:3"})["deployments"].empty());
}

TEST_CASE("cli service: a killed server shows as dead and comes back; stop finishes the request in flight",
          "[cli][service][torch]") {
  ProjectFixture project;
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project)});
  ServiceGuard guard{project, "fragile"};
  Endpoint api = create_service(project, {"--name", "fragile", "--model", "churn:1"});
  int pid = project.json({"service", "show", "fragile"})["pid"];
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  Json dead;
  for (int i = 0; i < 50; ++i) {
    dead = project.json({"service", "show", "fragile"});
    if (dead["state"] == "dead") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(dead["state"] == "dead");
  CHECK(dead["pid"] == nullptr);
  CHECK(dead["hint"] == "its process is gone; bring it back with: mlctl service start fragile");
  CHECK(project.json({"service", "list"})[0]["state"] == "dead");
  auto not_running = project.mlctl({"service", "run", "--name", "fragile", "--input", churn_rows(1).dump()});
  CHECK(not_running.exit_code == 1);
  CHECK(first_line(not_running.err) == "error: service 'fragile' is dead");

  Json started = project.json({"service", "start", "fragile"});
  CHECK(started["state"] == "running");
  CHECK(started["port"] == api.port);  // the same URL as before
  CHECK(project.json({"service", "run", "--name", "fragile", "--input", churn_rows(2).dump()})["predictions"].size() == 2);
  CHECK(project.mlctl({"service", "start", "fragile"}).exit_code == 4);

  // Graceful stop: a request whose body is still arriving is finished.
  std::string body = churn_rows(1).dump();
  int fd = connect_local(api.port);
  std::string head = fmt::format("POST /score HTTP/1.1\r\nContent-Length: {}\r\n\r\n", body.size());
  std::string first_half = head + body.substr(0, body.size() / 2);
  REQUIRE(::send(fd, first_half.data(), first_half.size(), 0) == ssize_t(first_half.size()));
  CliResult stopped;
  std::thread stopper([&] { stopped = project.mlctl({"service", "stop", "fragile", "-o", "json"}); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string rest = body.substr(body.size() / 2);
  REQUIRE(::send(fd, rest.data(), rest.size(), 0) == ssize_t(rest.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) answer.append(buffer, std::size_t(n));
  ::close(fd);
  stopper.join();
  CHECK(answer.rfind("HTTP/1.1 200 OK", 0) == 0);
  CHECK(answer.find("Connection: close") != std::string::npos);
  CHECK(answer.find("\"predictions\":[") != std::string::npos);
  REQUIRE(stopped.exit_code == 0);
  CHECK(Json::parse(stopped.out)["state"] == "stopped");
  HttpClient late("127.0.0.1", api.port, 2);
  CHECK_THROWS(late.request("GET", "/health"));
  auto logs = project.mlctl({"service", "logs", "fragile"});
  CHECK(logs.out.find("stopping: finishing the requests in flight") != std::string::npos);
  CHECK(logs.out.find("stopped") != std::string::npos);

  CHECK(project.json({"service", "restart", "fragile"})["state"] == "running");
  CHECK(HttpClient("127.0.0.1", api.port).request("GET", "/ready").status == 200);
}

TEST_CASE("cli env: staging and production from init, custom ones, and what refers to them", "[cli][service][torch]") {
  ProjectFixture project;
  Json environments = project.json({"env", "list"});
  REQUIRE(environments.size() == 2);
  CHECK(environments[0]["name"] == "production");
  CHECK(environments[0]["auth"] == "key");
  CHECK(environments[1]["name"] == "staging");
  CHECK(environments[1]["auth"] == "none");
  CHECK(environments[1]["host"] == "127.0.0.1");

  Json canary = project.json({"env", "create", "canary", "--port-range", "18390-18399", "--auth", "none"});
  CHECK(canary["port_range"] == "18390-18399");
  CHECK(project.mlctl({"env", "create", "canary"}).exit_code == 4);
  auto bad_range = project.mlctl({"env", "create", "odd", "--port-range", "9000-8000"});
  CHECK(bad_range.exit_code == 2);
  CHECK(first_line(bad_range.err) ==
        "error: invalid port range '9000-8000': expected LOW-HIGH with 1 <= LOW <= HIGH <= 65535");
  CHECK(project.mlctl({"env", "create", "open", "--host", "localhost"}).exit_code == 2);

  project.json({"model", "register", "--name", "churn", "--run", train_churn(project)});
  ServiceGuard guard{project, "bird"};
  Json bird = project.json({"service", "create", "--name", "bird", "--model", "churn:1", "--env", "canary"});
  CHECK(bird["port"].get<int>() >= 18390);
  CHECK(bird["port"].get<int>() <= 18399);
  CHECK(!bird.contains("primary_key"));
  CHECK(project.mlctl({"service", "create", "--name", "bird", "--model", "churn:1", "--env", "canary"}).exit_code == 4);
  CHECK(project.mlctl({"service", "create", "--name", "other", "--model", "churn:9"}).exit_code == 3);
  CHECK(project.mlctl({"service", "create", "--name", "other", "--model", "churn:1", "--env", "moon"}).exit_code == 3);
  auto in_use = project.mlctl({"env", "delete", "canary"});
  CHECK(in_use.exit_code == 4);
  CHECK(first_line(in_use.err) == "error: environment 'canary' has services: bird");
  project.json({"service", "delete", "bird"});
  CHECK(project.mlctl({"env", "delete", "canary"}).exit_code == 0);
  CHECK(project.mlctl({"service", "show", "bird"}).exit_code == 3);
}

TEST_CASE("cli service: a model package serves in the foreground as its Dockerfile runs it", "[cli][service][torch]") {
  ProjectFixture project;
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project)});
  project.json({"model", "package", "churn:1", "--output", (project / "pkg").string()});
  std::string dockerfile = mlctl::read_file(project / "pkg" / "Dockerfile");
  CHECK(dockerfile.find("FROM debian:bookworm-slim") != std::string::npos);
  CHECK(dockerfile.find("libtorch1.13 libopenblas0-pthread") != std::string::npos);
  CHECK(dockerfile.find("mlctl --project /srv/mlctl model import /opt/package --name churn") != std::string::npos);
  CHECK(dockerfile.find(R"(CMD ["mlctl", "service", "deploy", "--name", "churn", "--model", "churn", "--env", "container", )"
                        R"("--port", "8080", "--foreground"])") != std::string::npos);
  CHECK(mlctl::read_file(project / "pkg" / "README.md").find("docker build -t churn-service .") != std::string::npos);
  Json manifest = Json::parse(mlctl::read_file(project / "pkg" / "package.json"));
  // mlctl, its backend and the backend's empty stand-ins for libraries
  // libtorch never calls, when the build made them.
  std::vector<std::string> stubs;
  std::error_code ec;
  const auto built_stubs = std::filesystem::path(mlctl_binary()).parent_path() / "torch-stubs";
  for (const auto& entry : std::filesystem::directory_iterator(built_stubs, ec)) {
    stubs.push_back(entry.path().filename().string());
  }
  REQUIRE(manifest["runtime"].size() == 2 + stubs.size());
  CHECK(manifest["runtime"][0]["path"] == "bin/mlctl");
  CHECK(manifest["runtime"][1]["path"] == "bin/libmlctl_torch.so");
  for (const auto& stub : stubs) CHECK(std::filesystem::is_regular_file(project / "pkg" / "bin" / "torch-stubs" / stub));

  // What the image does, with the packaged mlctl, in a second project.
  ProjectFixture box;
  std::string packaged = (project / "pkg" / "bin" / "mlctl").string();
  auto setup = box.shell(fmt::format(
      "chmod 755 {0} && {0} --project . model import {1} --name churn -o json >/dev/null && "
      "{0} --project . env create container --port-range 18460-18469 --auth none -o json >/dev/null",
      packaged, (project / "pkg").string()));
  INFO(setup.err);
  REQUIRE(setup.exit_code == 0);
  if (!stubs.empty()) {
    // The packaged backend finds the stand-ins packaged beside it.
    auto loaded = box.shell("LD_DEBUG=libs " + packaged + " version --backend");
    CHECK(loaded.err.find((project / "pkg" / "bin" / "torch-stubs" / stubs.front()).string()) != std::string::npos);
  }
  ServiceGuard guard{box, "churn"};
  box.shell(fmt::format("{} --project . service deploy --name churn --model churn --env container --foreground "
                        ">foreground.out 2>foreground.err & echo $! > foreground.pid",
                        packaged));
  Json shown;
  for (int i = 0; i < 150; ++i) {
    // The record appears once the background process has written it.
    auto show = box.mlctl({"service", "show", "churn", "-o", "json"});
    if (show.exit_code == 0) shown = Json::parse(show.out);
    if (shown.is_object() && shown["state"] == "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  REQUIRE(shown["state"] == "running");
  CHECK(shown["port"].get<int>() >= 18460);
  CHECK(box.json({"service", "run", "--name", "churn", "--input", churn_rows(3).dump()})["predictions"].size() == 3);
  CHECK(box.json({"service", "stop", "churn"})["state"] == "stopped");
  // The foreground process ended with the service, cleanly.
  auto waited = box.shell("pid=$(cat foreground.pid); for i in $(seq 50); do kill -0 $pid 2>/dev/null || exit 0; "
                          "sleep 0.1; done; exit 1");
  CHECK(waited.exit_code == 0);
  std::string log = mlctl::read_file(box / "foreground.err");
  CHECK(log.find("listening on http://127.0.0.1:") != std::string::npos);
  CHECK(log.find("stopped") != std::string::npos);
}

TEST_CASE("cli monitor drift: served traffic against the training data, and service stats", "[cli][service][monitoring][torch]") {
  ProjectFixture project;
  register_churn_with_lineage(project);
  ServiceGuard guard{project, "watched"};
  create_service(project, {"--name", "watched", "--model", "churn:1"});

  // Too few rows: not enough data, never drift.
  project.json({"service", "run", "--name", "watched", "--input", churn_rows(5).dump()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto few = project.mlctl({"monitor", "drift", "--service", "watched", "-o", "json"});
  CHECK(few.exit_code == 0);
  CHECK(Json::parse(few.out)["enough_data"] == false);
  CHECK(few.err.find("note: not enough data to judge drift: 5 rows of service watched, at least 30 needed") !=
        std::string::npos);

  // The training rows themselves: no drift.
  project.json({"service", "run", "--name", "watched", "--input-file", churn_csv()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto same = project.mlctl({"monitor", "drift", "--service", "watched", "-o", "json"});
  INFO(same.err);
  CHECK(same.exit_code == 0);
  Json report = Json::parse(same.out);
  CHECK(report["baseline"] == "churn:1");  // from the model's lineage
  CHECK(report["drifted"] == false);
  CHECK(report["current_rows"] == 574);
  CHECK(report["columns"].back()["column"] == "prediction");
  Json run = project.json({"run", "show", report["run_id"].get<std::string>()});
  CHECK(run["kind"] == "monitoring");
  CHECK(run["tags"]["mlctl.drift"] == "none");
  CHECK(run["metrics"].contains("mean_radius.psi"));

  // Shifted traffic.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  project.json({"service", "run", "--name", "watched", "--input", shifted_rows(200).dump()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto drifted = project.mlctl({"monitor", "drift", "--service", "watched", "--since", "1s", "-o", "json"});
  CHECK(drifted.exit_code == 1);
  Json drift = Json::parse(drifted.out);
  CHECK(drift["current_rows"] == 200);
  CHECK(drift["drifted_columns"][0] == "mean_radius");
  CHECK(drifted.err.find("warning: drift in ") != std::string::npos);

  // A dataset against another, and a bad threshold.
  CHECK(project.mlctl({"monitor", "drift", "--data", "churn:1", "--baseline", "churn:1"}).exit_code == 0);
  auto bad = project.mlctl({"monitor", "drift", "--data", "churn:1", "--threshold", "psy=1"});
  CHECK(bad.exit_code == 2);

  // What the service answered.
  HttpClient("127.0.0.1", project.json({"service", "show", "watched"})["port"].get<int>())
      .request("POST", "/score", R"({"data": []})");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Json stats = project.json({"service", "stats", "watched"});
  CHECK(stats["requests"] == 4);
  CHECK(stats["errors"] == 1);
  CHECK(stats["error_rate"] == 0.25);
  CHECK(stats["rows"] == 774);
  CHECK(stats["latency_ms"]["p99"].is_number());
  CHECK(stats["predictions"]["benign"]["count"].get<int>() + stats["predictions"]["malignant"]["count"].get<int>() == 774);

  // The served rows as CSV, to be labelled and registered as new data.
  Json exported = project.json({"service", "export", "watched", "--output", "served.csv"});
  CHECK(exported["rows"] == 774);
  auto table = mlctl::data::read_csv(project / "served.csv");
  CHECK(table.row_count() == 774);
  CHECK(table.column_count() == 31);
  CHECK(table.columns.back().name() == "prediction");
  CHECK(table.columns.front().name() == "mean_radius");
  CHECK(std::stod(std::string(table.cell(0, 0))) == churn_rows(1)["data"][0][0].get<double>());  // served first
  CHECK((table.cell(0, 30) == "benign" || table.cell(0, 30) == "malignant"));
}

TEST_CASE("cli monitor check: one retraining run per detected drift, none without drift",
          "[cli][service][monitoring][torch]") {
  ProjectFixture project;
  register_churn_with_lineage(project);
  ServiceGuard guard{project, "api"};
  create_service(project, {"--name", "api", "--model", "churn:1"});
  // A stand-in retraining pipeline: it records the parameter it was given.
  write_text(project / "retrain.yml",
             "type: pipeline\ninputs:\n  reason: none\njobs:\n  note:\n    command: echo ${{inputs.r}} > ${{outputs.o}}/why.txt\n"
             "    inputs:\n      r: ${{parent.inputs.reason}}\n    outputs:\n      o: {type: uri_folder}\n");
  project.json({"pipeline", "publish", "-f", "retrain.yml", "--name", "retrain"});
  project.json({"monitor", "create", "--name", "watch", "--service", "api", "--pipeline", "retrain", "--set",
                "reason=drift"});
  auto pipeline_runs = [&] { return project.json({"run", "list", "--filter", "kind = 'pipeline'", "--query", "length(@)"}); };
  auto send_shifted = [&](std::size_t rows) {
    project.json({"service", "run", "--name", "api", "--input", shifted_rows(rows).dump()});
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  };

  project.json({"service", "run", "--name", "api", "--input-file", churn_csv()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Json calm = project.json({"monitor", "check", "watch"});
  CHECK(calm["outcome"] == "no_drift");
  CHECK(calm["pipeline_run_id"] == nullptr);
  CHECK(pipeline_runs() == 0);

  send_shifted(100);
  auto first = project.mlctl({"monitor", "check", "watch", "-o", "json"});
  REQUIRE(first.exit_code == 0);
  Json drift = Json::parse(first.out);
  CHECK(drift["outcome"] == "drift");
  CHECK(drift["rows"] == 100);  // only the traffic since the last check
  CHECK(drift["pipeline_status"] == "completed");
  CHECK(pipeline_runs() == 1);
  Json run = project.json({"run", "show", drift["pipeline_run_id"].get<std::string>()});
  CHECK(run["tags"]["mlctl.monitor"] == "watch");

  // The same drift is not handled twice: no new traffic, nothing to judge.
  CHECK(project.json({"monitor", "check", "watch"})["outcome"] == "not_enough_data");
  CHECK(pipeline_runs() == 1);

  // New shifted traffic is a new detection.
  send_shifted(60);
  CHECK(project.json({"monitor", "check", "watch"})["outcome"] == "drift");
  CHECK(pipeline_runs() == 2);
  Json history = project.json({"monitor", "history", "watch"});
  REQUIRE(history.size() == 4);
  CHECK(history[0]["outcome"] == "no_drift");
  CHECK(history[1]["outcome"] == "drift");
  CHECK(history[2]["outcome"] == "not_enough_data");
  CHECK(history[3]["outcome"] == "drift");
  CHECK(project.json({"monitor", "list"}).size() == 1);
  project.json({"monitor", "delete", "watch"});
  CHECK(project.mlctl({"monitor", "show", "watch"}).exit_code == 3);
}

TEST_CASE("cli service update: new limits restart the service and take effect", "[cli][service][torch]") {
  ProjectFixture project;
  project.json({"model", "register", "--name", "churn", "--run", train_churn(project)});
  ServiceGuard guard{project, "tuned"};
  Endpoint api = create_service(project, {"--name", "tuned", "--model", "churn:1", "--max-request-rows", "2"});
  HttpClient client("127.0.0.1", api.port);
  CHECK(client.request("POST", "/score", churn_rows(3).dump()).status == 400);
  Json updated = project.json({"service", "update", "tuned", "--max-request-rows", "5", "--max-batch", "4",
                               "--log-sample", "0"});
  CHECK(updated["state"] == "running");
  CHECK(updated["port"] == api.port);
  CHECK(updated["max_batch"] == 4);
  CHECK(updated["settings"]["max_request_rows"] == 5);
  CHECK(updated["settings"]["log_sample"] == 0.0);
  HttpClient after("127.0.0.1", api.port);
  HttpReply reply = after.request("POST", "/score", churn_rows(3).dump());
  CHECK(reply.status == 200);
  CHECK(after.request("POST", "/score", churn_rows(6).dump()).status == 400);
  auto nothing = project.mlctl({"service", "update", "tuned"});
  CHECK(nothing.exit_code == 2);
  CHECK(first_line(nothing.err) == "error: give what to change: --model, or a limit such as --max-batch");
  CHECK(project.mlctl({"service", "update", "tuned", "--max-batch", "0"}).exit_code == 2);
}
