#pragma once

// A blocking HTTP/1.1 client for talking to mlctl's own services from the
// shell (`service run`, readiness checks) and from tests: one keep-alive
// connection, reopened when the server closes it, Content-Length bodies.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mlctl::serving {

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The first header of that name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

class HttpClient {
 public:
  HttpClient(std::string host, int port, double timeout_seconds = 30);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads the answer. `headers` are extra lines,
  // each "Name: value". Throws Error(io) naming the address when it cannot
  // connect, send or read (after one retry on a fresh connection when a
  // kept-alive one turns out closed).
  HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                    const std::vector<std::string>& headers = {});

 private:
  void connect();
  void disconnect();
  HttpReply exchange(const std::string& wire);

  std::string m_host;
  int m_port;
  double m_timeout;
  int m_fd = -1;
};

}  // namespace mlctl::serving
