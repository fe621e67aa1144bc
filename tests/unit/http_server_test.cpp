// The event-driven HTTP server against raw sockets and the blocking client:
// keep-alive, pipelining, 100-continue, the server's own error answers,
// batching of requests that arrive together, and a graceful stop that
// finishes a request in flight.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include <mlctl/serving/http_client.hpp>
#include <mlctl/serving/http_server.hpp>

#include "support/local_socket.hpp"

using namespace mlctl::serving;

namespace {

// Echoes method, path and body; records the size of every round.
class EchoHandler : public HttpHandler {
 public:
  void handle(std::span<Exchange> exchanges) override {
    {
      std::lock_guard lock(mutex);
      rounds.push_back(exchanges.size());
    }
    for (Exchange& exchange : exchanges) {
      exchange.response.status = exchange.request.path == "/missing" ? 404 : 200;
      exchange.response.content_type = "text/plain";
      exchange.response.body = fmt::format("{} {} {}", exchange.request.method, exchange.request.path, exchange.request.body);
    }
  }
  void on_protocol_error(int status) override { protocol_errors.push_back(status); }
  std::mutex mutex;
  std::vector<std::size_t> rounds;
  std::vector<int> protocol_errors;
};

struct RunningServer {
  EchoHandler handler;
  HttpServer server;
  std::thread thread;
  explicit RunningServer(HttpServerOptions options) : server(std::move(options), handler) {
    thread = std::thread([this] { server.run(); });
  }
  ~RunningServer() {
    server.stop();
    thread.join();
  }
};


void send_all(int fd, std::string_view text) { REQUIRE(::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == ssize_t(text.size())); }

// Reads until `needle` has been seen `count` times or the peer closes.
std::string read_until(int fd, std::string_view needle, int count = 1) {
  std::string data;
  char buffer[4096];
  for (;;) {
    int seen = 0;
    for (auto at = data.find(needle); at != std::string::npos; at = data.find(needle, at + 1)) ++seen;
    if (seen >= count) return data;
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) return data;
    data.append(buffer, std::size_t(n));
  }
}

}  // namespace

TEST_CASE("http server: keep-alive requests and the blocking client", "[serving][http]") {
  RunningServer running({});
  HttpClient client("127.0.0.1", running.server.port());
  for (int i = 0; i < 3; ++i) {
    HttpReply reply = client.request("POST", "/echo?x=1", fmt::format("body {}", i));
    CHECK(reply.status == 200);
    CHECK(reply.body == fmt::format("POST /echo body {}", i));
    CHECK(reply.header("content-type") == "text/plain");
  }
  CHECK(client.request("GET", "/missing").status == 404);
}

TEST_CASE("http server: pipelined requests are answered in order", "[serving][http]") {
  RunningServer running({});
  int fd = mlctl::testing::connect_local(running.server.port());
  send_all(fd, "POST /a HTTP/1.1\r\nContent-Length: 1\r\n\r\n1POST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\n22"
               "GET /c HTTP/1.1\r\n\r\n");
  std::string answers = read_until(fd, "HTTP/1.1 200", 3);
  auto a = answers.find("POST /a 1"), b = answers.find("POST /b 22"), c = answers.find("GET /c ");
  CHECK(a != std::string::npos);
  CHECK(b != std::string::npos);
  CHECK(c != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  ::close(fd);
}

TEST_CASE("http server: 100-continue, then the body", "[serving][http]") {
  RunningServer running({});
  int fd = mlctl::testing::connect_local(running.server.port());
  send_all(fd, "POST /up HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  CHECK(read_until(fd, "\r\n\r\n").rfind("HTTP/1.1 100 Continue\r\n\r\n", 0) == 0);
  send_all(fd, "hello");
  CHECK(read_until(fd, "POST /up hello").find("POST /up hello") != std::string::npos);
  ::close(fd);
}

TEST_CASE("http server: the server's own answers to bad requests", "[serving][http]") {
  HttpServerOptions options;
  options.max_body_bytes = 100;
  options.max_header_bytes = 200;
  RunningServer running(options);
  auto answer = [&](const std::string& request) {
    int fd = mlctl::testing::connect_local(running.server.port());
    send_all(fd, request);
    std::string reply = read_until(fd, "}}");
    ::close(fd);
    return reply;
  };
  std::string too_big = answer("POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
  CHECK(too_big.rfind("HTTP/1.1 413 Payload Too Large", 0) == 0);
  CHECK(too_big.find("the request body of 101 bytes exceeds the limit of 100 bytes") != std::string::npos);
  CHECK(too_big.find("Connection: close") != std::string::npos);
  CHECK(answer("GET /x HTTP/1.1\r\nX-Long: " + std::string(300, 'a')).rfind("HTTP/1.1 431", 0) == 0);
  CHECK(answer("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").rfind("HTTP/1.1 501", 0) == 0);
  std::string garbage = answer("HELLO\r\n\r\n");
  CHECK(garbage.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(garbage.find("malformed request line") != std::string::npos);
  CHECK(answer("GET / HTTP/2.0\r\n\r\n").find("unsupported protocol 'HTTP/2.0'") != std::string::npos);
  // Still serving.
  HttpClient client("127.0.0.1", running.server.port());
  CHECK(client.request("GET", "/alive").status == 200);
  CHECK(running.handler.protocol_errors == std::vector<int>{413, 431, 501, 400, 400});
}

TEST_CASE("http server: requests that arrive together are handled as one round", "[serving][http]") {
  HttpServerOptions options;
  options.threads = 1;
  options.gather_requests = 4;
  options.gather_delay_ms = 500;
  RunningServer running(options);
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      HttpClient client("127.0.0.1", running.server.port());
      if (client.request("POST", "/score", std::to_string(i)).status == 200) ++ok;
    });
  }
  for (auto& client : clients) client.join();
  CHECK(ok == 4);
  std::lock_guard lock(running.handler.mutex);
  // All four waited for each other (within the 500 ms delay).
  CHECK(running.handler.rounds == std::vector<std::size_t>{4});
}

TEST_CASE("http server: stop finishes a request in flight and refuses new connections", "[serving][http]") {
  auto running = std::make_unique<RunningServer>(HttpServerOptions{});
  const int port = running->server.port();
  int fd = mlctl::testing::connect_local(port);
  send_all(fd, "POST /late HTTP/1.1\r\nContent-Length: 4\r\n\r\nha");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  running->server.stop();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  send_all(fd, "lf");
  std::string reply = read_until(fd, "POST /late half");
  CHECK(reply.find("HTTP/1.1 200 OK") != std::string::npos);
  CHECK(reply.find("Connection: close") != std::string::npos);
  ::close(fd);
  running.reset();  // run() has returned
  HttpClient late("127.0.0.1", port, 2);
  CHECK_THROWS(late.request("GET", "/"));
}
