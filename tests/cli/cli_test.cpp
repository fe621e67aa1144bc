// The CLI conventions every command follows: help, output formats, --query,
// project discovery, errors and exit codes, completion, version.
#include "cli/cli_fixture.hpp"

using namespace mlctl::testing;
using mlctl::Json;

TEST_CASE("cli: --help lists the command groups, exit codes and examples", "[cli]") {
  auto result = run_mlctl({"--help"});
  CHECK(result.exit_code == 0);
  for (const char* word : {"init", "experiment", "run", "completion", "version", "Exit codes", "Examples:"}) {
    CHECK(result.out.find(word) != std::string::npos);
  }
  auto sub = run_mlctl({"run", "list", "--help"});
  CHECK(sub.exit_code == 0);
  CHECK(sub.out.find("--filter") != std::string::npos);
  CHECK(sub.out.find("Examples:") != std::string::npos);
  CHECK(sub.out.find("supervise") == std::string::npos);
}

TEST_CASE("cli: usage errors are one line on stderr with exit code 2", "[cli]") {
  auto unknown = run_mlctl({"frobnicate"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.rfind("error: ", 0) == 0);
  CHECK(unknown.out.empty());

  ProjectFixture project;
  auto bad_output = project.mlctl({"run", "list", "-o", "xml"});
  CHECK(bad_output.exit_code == 2);
  CHECK(first_line(bad_output.err) ==
        "error: unknown output format 'xml' (expected one of: table, json, yaml, tsv, markdown)");
}

TEST_CASE("cli: outside a project commands fail with not found (3) and a hint", "[cli]") {
  TempDir empty;
  CliOptions options;
  options.cwd = empty.path();
  auto result = run_mlctl({"run", "list"}, options);
  CHECK(result.exit_code == 3);
  CHECK(first_line(result.err) == "error: no mlctl project in '" + empty.path().string() + "' or any parent directory");
  CHECK(result.err.find("hint: run 'mlctl init'") != std::string::npos);
}

TEST_CASE("cli: the project is found from a subdirectory, --project and MLCTL_PROJECT", "[cli]") {
  ProjectFixture project;
  std::filesystem::create_directories(project / "src" / "deep");
  CliOptions nested = project.options();
  nested.cwd = project / "src" / "deep";
  CHECK(run_mlctl({"experiment", "create", "from-subdir"}, nested).exit_code == 0);

  TempDir elsewhere;
  CliOptions outside;
  outside.cwd = elsewhere.path();
  CHECK(run_mlctl({"--project", project.path().string(), "experiment", "create", "by-flag"}, outside).exit_code == 0);
  outside.env["MLCTL_PROJECT"] = project.path().string();
  CHECK(run_mlctl({"experiment", "create", "by-env"}, outside).exit_code == 0);
  auto names = project.json({"experiment", "list", "--query", "[].name"});
  CHECK(names == Json::parse(R"(["by-env", "by-flag", "from-subdir"])"));

  auto not_a_project = run_mlctl({"--project", elsewhere.path().string(), "run", "list"});
  CHECK(not_a_project.exit_code == 3);
}

TEST_CASE("cli: init twice is a conflict (4)", "[cli]") {
  ProjectFixture project;
  auto again = run_mlctl({"init", project.path().string()});
  CHECK(again.exit_code == 4);
  CHECK(first_line(again.err) == "error: '" + project.path().string() + "' is already an mlctl project");
}

TEST_CASE("cli: --query picks fields and a bad query is a usage error", "[cli]") {
  ProjectFixture project;
  project.mlctl({"experiment", "create", "a", "--description", "first"});
  project.mlctl({"experiment", "create", "b"});
  CHECK(project.json({"experiment", "list", "--query", "[?description=='first'].name"}) == Json::parse(R"(["a"])"));
  auto tsv = project.mlctl({"experiment", "list", "-o", "tsv", "--query", "[].name"});
  CHECK(tsv.out == "a\nb\n");
  auto bad = project.mlctl({"experiment", "list", "--query", "[?name=="});
  CHECK(bad.exit_code == 2);
  CHECK(first_line(bad.err).rfind("error: --query:1:", 0) == 0);
}

TEST_CASE("cli: every output format renders a listing", "[cli]") {
  ProjectFixture project;
  project.mlctl({"experiment", "create", "churn", "--description", "a|b"});
  auto table = project.mlctl({"experiment", "list", "-o", "table"});
  CHECK(table.out.find("Name") != std::string::npos);
  CHECK(table.out.find("churn") != std::string::npos);
  CHECK(table.out.find("\033[") == std::string::npos);  // not a terminal: no colour
  auto yaml = project.mlctl({"experiment", "list", "-o", "yaml"});
  CHECK(yaml.out.rfind("- name: churn\n", 0) == 0);
  auto markdown = project.mlctl({"experiment", "list", "-o", "markdown"});
  CHECK(markdown.out.find("| Name |") != std::string::npos);
  CHECK(markdown.out.find("a\\|b") != std::string::npos);
  auto json = project.json({"experiment", "list"});
  CHECK(json[0]["name"] == "churn");
}

TEST_CASE("cli: version, and the backend is loaded only when asked", "[cli][torch]") {
  auto version = run_mlctl({"version", "-o", "json"});
  REQUIRE(version.exit_code == 0);
  CHECK(Json::parse(version.out)["mlctl"] == "0.1.0");
  CHECK(run_mlctl({"--version"}).out.find("0.1.0") != std::string::npos);

  // The mlctl binary itself never links libtorch (start-up cost).
  auto ldd = run_shell("ldd '" + mlctl_binary() + "' | grep -c torch || true");
  CHECK(ldd.out == "0\n");
  auto backend = run_mlctl({"version", "--backend", "-o", "json"});
  INFO(backend.err);
  REQUIRE(backend.exit_code == 0);
  auto info = Json::parse(backend.out)["backend"];
  CHECK(info["torch_version"].get<std::string>().rfind("1.", 0) == 0);
  CHECK(info["threads"].get<int>() >= 1);

  CliOptions missing;
  missing.env["MLCTL_BACKEND"] = "/nonexistent/libmlctl_torch.so";
  auto failed = run_mlctl({"version", "--backend"}, missing);
  CHECK(failed.exit_code == 2);
  CHECK(first_line(failed.err) ==
        "error: cannot load the libtorch backend: tried /nonexistent/libmlctl_torch.so (missing)");
}

TEST_CASE("cli: the bash completion script completes commands and verbs", "[cli]") {
  auto script = run_mlctl({"completion", "bash"});
  REQUIRE(script.exit_code == 0);
  TempDir dir;
  write_text(dir / "completion.bash", script.out);
  auto complete = [&](const std::string& words, int index) {
    return run_shell("bash -c 'source " + (dir / "completion.bash").string() + "; COMP_WORDS=(" + words +
                     "); COMP_CWORD=" + std::to_string(index) + "; _mlctl_complete; echo \"${COMPREPLY[*]}\"'")
        .out;
  };
  CHECK(complete("mlctl ru", 1) == "run\n");
  CHECK(complete("mlctl run li", 2) == "list\n");
  CHECK(complete("mlctl run list --fil", 3) == "--filter\n");
  CHECK(complete("mlctl run list -o js", 4) == "json\n");
  CHECK(run_mlctl({"completion", "zsh"}).out.find("bashcompinit") != std::string::npos);
  CHECK(run_mlctl({"completion", "fish"}).exit_code == 2);
}
