#include "cli/command_env.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/query.hpp>
#include <mlctl/tracking/run_supervisor.hpp>

namespace mlctl::cli {
namespace {

bool color_allowed(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color && *no_color) return false;
  const char* term = std::getenv("TERM");
  if (term && std::string_view(term) == "dumb") return false;
  return ::isatty(fd) == 1;
}

}  // namespace

store::Context& CommandEnv::context() {
  if (!m_context) {
    store::ContextOptions context_options;
    if (!options.project.empty()) {
      context_options.project_dir = options.project;
    } else if (const char* env = std::getenv("MLCTL_PROJECT"); env && *env) {
      context_options.project_dir = env;
    }
    m_context.emplace(context_options);
  }
  return *m_context;
}

OutputFormat CommandEnv::output_format() {
  if (!options.output.empty()) return parse_output_format(options.output);
  if (const char* env = std::getenv("MLCTL_OUTPUT"); env && *env) return parse_output_format(env);
  // Settings files live in the project; read them only when there is one.
  if (context().has_project()) {
    if (const auto& configured = context().settings().output) return parse_output_format(*configured);
  }
  return ::isatty(1) ? OutputFormat::table : OutputFormat::json;
}

bool CommandEnv::stdout_color() const { return !options.no_color && color_allowed(1); }
bool CommandEnv::stderr_color() const { return !options.no_color && color_allowed(2); }

void CommandEnv::print(const Json& result, const RenderOptions& render_options) {
  OutputFormat format = output_format();
  RenderOptions effective = render_options;
  effective.color = stdout_color();
  if (!options.query.empty()) {
    // A query reshapes the result; the command's columns no longer apply.
    Json selected = apply_query(result, options.query);
    effective.columns.clear();
    std::cout << render(selected, format, effective);
  } else {
    std::cout << render(result, format, effective);
  }
  std::cout.flush();
}

CommandEnv::RowPrinter::RowPrinter(CommandEnv& env, const RenderOptions& render_options)
    : m_env(env), m_render_options(render_options) {
  m_render_options.color = env.stdout_color();
  if (env.options.query.empty()) {
    m_writer = make_row_writer(env.output_format(), std::cout, m_render_options);
  } else {
    env.output_format();  // reject a bad --output before doing any work
  }
}

void CommandEnv::RowPrinter::add(const Json& row) {
  if (m_writer) {
    m_writer->write_row(row);
  } else {
    m_rows.push_back(row);
  }
}

void CommandEnv::RowPrinter::finish() {
  if (m_writer) {
    m_writer->finish();
    std::cout.flush();
  } else {
    m_env.print(m_rows, m_render_options);
  }
}

void CommandEnv::report_timing(double wall_seconds) const {
  const char* wanted = std::getenv("MLCTL_TIMING");
  if (!wanted || !*wanted) return;
  double lock_wait = 0;
  if (m_context && m_context->opened_db()) lock_wait = m_context->opened_db()->longest_lock_wait();
  std::cerr << fmt::format("timing: wall_ms={:.3f} lock_wait_ms={:.3f}\n", wall_seconds * 1000.0, lock_wait * 1000.0);
}

void CommandEnv::note(std::string_view message) const {
  std::cerr << (stderr_color() ? "\033[2mnote:\033[0m " : "note: ") << message << '\n';
}

void CommandEnv::warn(std::string_view message) const {
  std::cerr << (stderr_color() ? "\033[33mwarning:\033[0m " : "warning: ") << message << '\n';
}

std::pair<std::string, std::string> parse_key_value(std::string_view text, std::string_view flag) {
  auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    throw Error(ErrorKind::invalid_argument, fmt::format("{} '{}': expected KEY=VALUE", flag, text));
  }
  return {std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

std::vector<std::pair<std::string, std::string>> parse_key_values(const std::vector<std::string>& items,
                                                                  std::string_view flag) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : items) pairs.push_back(parse_key_value(item, flag));
  return pairs;
}

std::filesystem::path worker_outputs_dir(store::Context& context, std::string_view run_id) {
  const char* outputs = std::getenv("MLCTL_OUTPUTS");
  return outputs ? std::filesystem::path(outputs) : tracking::RunDirectory::of(context.project(), run_id).outputs;
}

void print_worker_event(std::string_view line) {
  std::fprintf(stderr, "%.*s\n", int(line.size()), line.data());
  std::fflush(stderr);
}

}  // namespace mlctl::cli
