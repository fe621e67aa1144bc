#pragma once

// A small event-driven HTTP/1.1 server for the scoring service.
//
// Why not cpp-httplib: Debian's 0.11 runs a thread per connection (about
// 24,000 empty requests/s on two cores, and connections beyond its pool
// wait), and it hands requests to the handler one at a time, so requests
// that arrive together cannot be scored together. Here each I/O thread runs
// an epoll loop over its own connections: one round reads every request
// that has arrived, hands them all to the handler at once (the batch the
// model scores in one forward pass), and writes the answers back.
//
// Supported: keep-alive and pipelining, Content-Length bodies, "Expect:
// 100-continue", HTTP/1.0 and "Connection: close". Answered by the server
// itself: 400 for a malformed request, 413 for a body over the limit, 431
// for headers over the limit, 501 for chunked request bodies.

#include <atomic>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace mlctl::serving {

struct HttpRequest {
  std::string_view method;
  std::string_view path;   // the target up to '?'
  std::string_view query;  // after '?', may be empty
  std::string_view body;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  double received_at = 0;  // steady-clock seconds when the request was complete

  // The first header of that name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra header lines, each "Name: value\r\n".
  std::string headers;
};

// One request and the response the handler fills in. The request's views
// are valid only during HttpHandler::handle.
struct Exchange {
  HttpRequest request;
  HttpResponse response;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // Answers every exchange of one round of an I/O thread. Called from
  // several I/O threads at once; must not throw.
  virtual void handle(std::span<Exchange> exchanges) = 0;
  // A request the server answered itself (400, 413, 431, 501), for metrics.
  virtual void on_protocol_error(int status) { (void)status; }
};

// {"error": {"code": STATUS, "message": MESSAGE}}: the body of every error
// answer, the server's and the handler's.
std::string error_body(int status, std::string_view message);
// "OK", "Bad Request", ...
std::string_view reason_phrase(int status);

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  int threads = 2;
  std::size_t max_body_bytes = 8u << 20;
  std::size_t max_header_bytes = 64u << 10;
  // Batching: after a round has read some requests, wait up to
  // gather_delay_ms for more until gather_requests are pending.
  std::size_t gather_requests = 1;
  double gather_delay_ms = 0;
  // Connections idle this long are closed.
  double idle_timeout_seconds = 120;
  // On stop(): how long requests already begun may take to finish.
  double drain_seconds = 10;
};

class HttpServer {
 public:
  // Binds and listens. Throws Error(already_exists) "127.0.0.1:8100 is
  // already in use" or Error(io) naming the address.
  HttpServer(HttpServerOptions options, HttpHandler& handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port bound (the one chosen when options.port was 0).
  int port() const { return m_port; }
  // Serves until stop(); then stops accepting, finishes the requests in
  // flight (up to drain_seconds) and returns.
  void run();
  // Asks run() to return. Safe from any thread.
  void stop();

  struct Loop;

 private:
  HttpServerOptions m_options;
  HttpHandler& m_handler;
  int m_listen_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stopping{false};
  std::vector<std::unique_ptr<Loop>> m_loops;
};

}  // namespace mlctl::serving
