#include <mlctl/core/error.hpp>

namespace mlctl {

const char* to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument: return "invalid_argument";
    case ErrorKind::not_found: return "not_found";
    case ErrorKind::already_exists: return "already_exists";
    case ErrorKind::parse: return "parse";
    case ErrorKind::io: return "io";
    case ErrorKind::store: return "store";
    case ErrorKind::train: return "train";
    case ErrorKind::not_supported: return "not_supported";
    case ErrorKind::failed: return "failed";
    case ErrorKind::internal: return "internal";
  }
  return "internal";
}

// Exit codes: 0 success, 1 ran and failed, 2 usage/validation, 3 not found,
// 4 conflict, 5 environment (I/O, database), 70 internal error.
int exit_code_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument:
    case ErrorKind::parse:
    case ErrorKind::not_supported: return 2;
    case ErrorKind::not_found: return 3;
    case ErrorKind::already_exists: return 4;
    case ErrorKind::io:
    case ErrorKind::store: return 5;
    case ErrorKind::failed:
    case ErrorKind::train: return 1;
    case ErrorKind::internal: return 70;
  }
  return 70;
}

int http_status_for(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::invalid_argument:
    case ErrorKind::parse: return 400;
    case ErrorKind::not_found: return 404;
    case ErrorKind::already_exists: return 409;
    case ErrorKind::not_supported: return 501;
    case ErrorKind::failed:
    case ErrorKind::train: return 422;
    case ErrorKind::io:
    case ErrorKind::store:
    case ErrorKind::internal: return 500;
  }
  return 500;
}

}  // namespace mlctl
