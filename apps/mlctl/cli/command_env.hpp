#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <mlctl/core/json.hpp>
#include <mlctl/core/render.hpp>
#include <mlctl/store/context.hpp>

namespace mlctl::cli {

// Flags every command accepts (-o, --query, --project, --verbose, --no-color).
struct GlobalOptions {
  std::string output;
  std::string query;
  std::string project;
  bool verbose = false;
  bool no_color = false;
};

// What a command needs from the terminal side: the project context, output
// in the chosen format, diagnostics on stderr and its exit code.
class CommandEnv {
 public:
  GlobalOptions options;

  // The project context, opened lazily (--project > MLCTL_PROJECT > walk up).
  store::Context& context();

  OutputFormat output_format();
  // Whether stdout / stderr are terminals that take colour (never with NO_COLOR).
  bool stdout_color() const;
  bool stderr_color() const;

  // Prints a result: --query applied, then rendered in the chosen format.
  void print(const Json& result, const RenderOptions& render_options = {});

  // Prints rows as they come (long listings); with --query they are
  // gathered first, since a query sees the whole list.
  class RowPrinter {
   public:
    RowPrinter(CommandEnv& env, const RenderOptions& render_options);
    void add(const Json& row);
    void finish();

   private:
    CommandEnv& m_env;
    RenderOptions m_render_options;
    std::unique_ptr<RowWriter> m_writer;
    Json m_rows = Json::array();
  };

  // With MLCTL_TIMING set: one line on stderr with the command's wall time
  // and its longest wait for the database lock (benchmarks read it).
  void report_timing(double wall_seconds) const;

  // One line on stderr: "note: ..." / "warning: ...".
  void note(std::string_view message) const;
  void warn(std::string_view message) const;

  // The words after `--` (the command of `experiment submit`). main()
  // splits them off before parsing: a command that takes them sets
  // `trailing_args_used`, and for any other command they are an error.
  std::vector<std::string> trailing_args;
  bool trailing_args_used = false;

  // The exit code of the command; 0 unless a command sets it (a failed run
  // exits 1 without being an error of mlctl itself).
  int exit_code = 0;

  // Closes the project database (main() does it before a quick exit).
  void close_context() { m_context.reset(); }

 private:
  std::optional<store::Context> m_context;
};

// For the hidden worker commands (sweep, pipeline) a run's supervisor
// starts: where the run's outputs go ($MLCTL_OUTPUTS, else the run's own
// outputs folder), and a sink that writes each event line to stderr (the
// run's log) at once.
std::filesystem::path worker_outputs_dir(store::Context& context, std::string_view run_id);
void print_worker_event(std::string_view line);

// Splits "key=value"; Error(invalid_argument) naming `flag` otherwise.
std::pair<std::string, std::string> parse_key_value(std::string_view text, std::string_view flag);
std::vector<std::pair<std::string, std::string>> parse_key_values(const std::vector<std::string>& items,
                                                                  std::string_view flag);

}  // namespace mlctl::cli
