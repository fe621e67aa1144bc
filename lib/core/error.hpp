#pragma once

#include <stdexcept>
#include <string>

namespace mlctl {

// What went wrong, coarse enough to pick an exit code or an HTTP status.
enum class ErrorKind {
  invalid_argument,  // bad flag, field or value supplied by the user
  not_found,         // a named run, experiment, artifact... does not exist
  already_exists,    // conflict with stored state
  parse,             // malformed text: YAML, JSON, CSV, a filter expression
  io,                // the file system or a child process failed
  store,             // the database or the artifact store failed
  train,             // a training or scoring backend failed
  not_supported,     // valid request this build or platform cannot do
  failed,            // the operation ran and did not succeed (a failed run)
  internal,          // a bug in mlctl
};

// The one exception type thrown by libmlctl. Foreign exceptions (yaml-cpp,
// nlohmann-json, SQLite codes, c10) are translated into it where caught.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message, std::string hint = {})
      : std::runtime_error(message), m_kind(kind), m_hint(std::move(hint)) {}

  ErrorKind kind() const noexcept { return m_kind; }
  // A suggestion for the user ("did you mean ...?"); may be empty.
  const std::string& hint() const noexcept { return m_hint; }

 private:
  ErrorKind m_kind;
  std::string m_hint;
};

// Stable lower-case name of a kind ("not_found"), used in JSON errors.
const char* to_string(ErrorKind kind) noexcept;

// The process exit code for a kind; documented in docs/cli.md.
int exit_code_for(ErrorKind kind) noexcept;

// The HTTP status for a kind, used by the scoring service.
int http_status_for(ErrorKind kind) noexcept;

}  // namespace mlctl
