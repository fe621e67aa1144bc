#include <mlctl/core/yaml_overrides.hpp>

#include <mlctl/core/did_you_mean.hpp>
#include <mlctl/core/error.hpp>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

using mlctl::ErrorKind;

namespace {

// Runs `body`, which must throw mlctl::Error, and returns it for checks.
template <typename Body>
mlctl::Error error_from(Body&& body) {
  try {
    body();
  } catch (const mlctl::Error& error) {
    return error;
  }
  FAIL("expected mlctl::Error");
  throw;  // unreachable: FAIL throws
}

std::string dump(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

YAML::Node overridden(std::string_view text, std::string_view assignment) {
  YAML::Node root = mlctl::load_yaml(text, "job.yml");
  mlctl::apply_override(root, assignment);
  return root;
}

}  // namespace

TEST_CASE("did you mean: suggests the closest candidate within two edits", "[core]") {
  const std::vector<std::string> fields = {"command", "code", "compute", "inputs"};
  CHECK(mlctl::closest_match("comand", fields) == "command");
  CHECK(mlctl::closest_match("inptus", fields) == "inputs");  // a swap is two edits
  CHECK(mlctl::closest_match("cod", fields) == "code");
  CHECK_FALSE(mlctl::closest_match("environment", fields).has_value());
  CHECK(mlctl::closest_match("environment", fields, 20).has_value());
}

TEST_CASE("did you mean: ties go to the first candidate and short words need a shared letter",
          "[core]") {
  CHECK(mlctl::closest_match("ab", {"ax", "ay"}) == "ax");
  CHECK_FALSE(mlctl::closest_match("lr", {"x"}).has_value());
  CHECK(mlctl::closest_match("lr", {"lr0"}) == "lr0");
  CHECK_FALSE(mlctl::closest_match("anything", {}).has_value());
}

TEST_CASE("did you mean: the hint is a ready-made suffix or empty", "[core]") {
  CHECK(mlctl::did_you_mean_hint("trian", {"train", "sweep"}) == " (did you mean 'train'?)");
  CHECK(mlctl::did_you_mean_hint("pipeline", {"train", "sweep"}).empty());
}

TEST_CASE("load_yaml: malformed YAML is a parse error with 1-based line and column", "[core]") {
  struct Case {
    std::string text;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"command: echo\ninputs: [a, b\n", "job.yml:3:1: end of sequence flow not found"},
      {"a: 1\n  b: 2\n", "job.yml:2:4: illegal map value"},
      {"a: {b: 1\n", "job.yml:2:1: end of map flow not found"},
      {"- a\nb: 1\n", "job.yml:2:1: expected a single YAML document, found another one here"},
      {"a: 1\n---\nb: 2\n", "job.yml:3:1: expected a single YAML document, found another one here"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    const mlctl::Error error = error_from([&] { mlctl::load_yaml(c.text, "job.yml"); });
    CHECK(error.kind() == ErrorKind::parse);
    CHECK(std::string(error.what()) == c.message);
  }
}

TEST_CASE("load_yaml: an empty text is a null document", "[core]") {
  CHECK(mlctl::load_yaml("", "job.yml").IsNull());
  CHECK(mlctl::load_yaml("# only a comment\n", "job.yml").IsNull());
}

TEST_CASE("yaml_location: names the source, and the place when yaml-cpp knows it", "[core]") {
  const YAML::Node root = mlctl::load_yaml("a: 1\nb:\n  c: 2\n", "job.yml");
  CHECK(mlctl::yaml_location("job.yml", root["b"]["c"].Mark()) == "job.yml:3:6");
  CHECK(mlctl::yaml_location("", root["b"]["c"].Mark()) == "3:6");
  CHECK(mlctl::yaml_location("job.yml", YAML::Node(1).Mark()) == "job.yml");
}

TEST_CASE("set override: values are read as YAML scalars, sequences and maps", "[core]") {
  CHECK(dump(overridden("lr: 0.01\n", "lr=0.1")) == "{lr: 0.1}");
  CHECK(dump(overridden("name: a\n", "name=foo")) == "{name: foo}");
  CHECK(dump(overridden("a: 1\n", "model.hidden_sizes=[64,32]")) ==
        "{a: 1, model: {hidden_sizes: [64, 32]}}");
  CHECK(dump(overridden("a: 1\n", "model={depth: 2, act: relu}")) ==
        "{a: 1, model: {depth: 2, act: relu}}");
  const YAML::Node quoted = overridden("a: 1\n", "a=\"two words\"");
  CHECK(quoted["a"].Scalar() == "two words");
  const YAML::Node empty = overridden("a: 1\n", "a=");
  CHECK(empty["a"].IsNull());
  const YAML::Node spaced = overridden("a: 1\n", " a = 3 ");
  CHECK(spaced["a"].Scalar() == "3");
}

TEST_CASE("set override: plain text that YAML would mangle is kept as written", "[core]") {
  CHECK(overridden("{}", "note=run #3")["note"].Scalar() == "run #3");
  CHECK(overridden("{}", "command=echo a: b")["command"].Scalar() == "echo a: b");
  CHECK(overridden("{}", "command=python train.py --lr ${{inputs.lr}}")["command"].Scalar() ==
        "python train.py --lr ${{inputs.lr}}");
  CHECK(overridden("{}", "dash=- a")["dash"].Scalar() == "- a");
  // `=` after the first belongs to the value.
  CHECK(overridden("{}", "env=A=1")["env"].Scalar() == "A=1");
}

TEST_CASE("set override: a dotted path creates the maps it needs and keeps siblings", "[core]") {
  const YAML::Node root = overridden("tags:\n  team: vision\n", "tags.stage=dev");
  CHECK(dump(root) == "{tags: {team: vision, stage: dev}}");
  CHECK(dump(overridden("outputs:\n", "outputs.model.type=mlflow_model")) ==
        "{outputs: {model: {type: mlflow_model}}}");
  CHECK(dump(overridden("", "a.b.c=1")) == "{a: {b: {c: 1}}}");
}

TEST_CASE("set override: sequence items by [i] or .i, appending at the end", "[core]") {
  const std::string text = "model:\n  hidden_sizes: [64, 32]\n";
  CHECK(dump(overridden(text, "model.hidden_sizes[1]=16")) == "{model: {hidden_sizes: [64, 16]}}");
  CHECK(dump(overridden(text, "model.hidden_sizes.0=128")) == "{model: {hidden_sizes: [128, 32]}}");
  CHECK(dump(overridden(text, "model.hidden_sizes[2]=8")) ==
        "{model: {hidden_sizes: [64, 32, 8]}}");
  CHECK(dump(overridden("steps:\n  - {name: a}\n  - {name: b}\n", "steps[1].name=c")) ==
        "{steps: [{name: a}, {name: c}]}");
  CHECK(dump(overridden("{}", "layers[0].units=4")) == "{layers: [{units: 4}]}");
  // On a map a number is just a key.
  CHECK(dump(overridden("codes: {}\n", "codes.0=zero")) == "{codes: {0: zero}}");
}

TEST_CASE("set override: a scalar input is replaced, not merged", "[core]") {
  const YAML::Node root = overridden("inputs:\n  lr: 0.01\n  epochs: 3\n", "inputs.lr=0.1");
  CHECK(dump(root) == "{inputs: {lr: 0.1, epochs: 3}}");
}

TEST_CASE("set override: set values have no position in the file", "[core]") {
  const YAML::Node root = overridden("a: 1\n", "b=[1, 2]");
  CHECK(root["b"].Mark().is_null());
  CHECK(root["b"][1].Mark().is_null());
  CHECK_FALSE(root["a"].Mark().is_null());
}

TEST_CASE("set override: bad assignments are rejected naming the assignment", "[core]") {
  struct Case {
    std::string text;
    std::string assignment;
    ErrorKind kind;
    std::string message;
  };
  const std::string job = "command: echo\ninputs:\n  lr: 0.01\nsizes: [1, 2]\n";
  const std::vector<Case> cases = {
      {job, "inputs.lr", ErrorKind::invalid_argument,
       "--set 'inputs.lr': expected PATH=VALUE, such as inputs.lr=0.01"},
      {job, "=3", ErrorKind::invalid_argument, "--set '=3': the path before '=' is empty"},
      {job, "inputs..lr=3", ErrorKind::invalid_argument,
       "--set 'inputs..lr=3': empty field name in path 'inputs..lr'"},
      {job, "sizes[x]=3", ErrorKind::invalid_argument,
       "--set 'sizes[x]=3': sequence index 'x' in path 'sizes[x]' is not a number"},
      {job, "sizes[1=3", ErrorKind::invalid_argument,
       "--set 'sizes[1=3': unclosed '[' in path 'sizes[1'"},
      {job, "command.x=3", ErrorKind::invalid_argument,
       "--set 'command.x=3': 'command' is a scalar, so it has no field 'x'"},
      {job, "inputs[0]=3", ErrorKind::invalid_argument,
       "--set 'inputs[0]=3': 'inputs' is a map, not a sequence"},
      {job, "sizes.first=3", ErrorKind::invalid_argument,
       "--set 'sizes.first=3': 'sizes' is a sequence, so it has no field 'first'"},
      {job, "sizes[5]=3", ErrorKind::invalid_argument,
       "--set 'sizes[5]=3': index 5 is out of range for 'sizes', which has 2 items"},
      {job, "new[1]=3", ErrorKind::invalid_argument,
       "--set 'new[1]=3': index 1 is out of range for 'new', which has no items"},
      {"just text\n", "a=1", ErrorKind::invalid_argument,
       "--set 'a=1': the document is a scalar, so it has no field 'a'"},
      {job, "sizes=[1, 2", ErrorKind::parse,
       "--set 'sizes=[1, 2': the value is not valid YAML: end of sequence flow not found"},
  };
  for (const Case& c : cases) {
    INFO(c.assignment);
    YAML::Node root = mlctl::load_yaml(c.text, "job.yml");
    const std::string before = dump(root);
    const mlctl::Error error = error_from([&] { mlctl::apply_override(root, c.assignment); });
    CHECK(error.kind() == c.kind);
    CHECK(std::string(error.what()) == c.message);
    CHECK(dump(root) == before);  // a failed assignment changes nothing
  }
}

TEST_CASE("set override: the source name prefixes messages", "[core]") {
  YAML::Node root = mlctl::load_yaml("a: 1\n", "job.yml");
  const mlctl::Error error = error_from([&] { mlctl::apply_override(root, "a", "MLCTL_SET"); });
  CHECK(std::string(error.what()) == "MLCTL_SET 'a': expected PATH=VALUE, such as inputs.lr=0.01");
}
