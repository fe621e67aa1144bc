#include <mlctl/serving/http_server.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>
#include <mlctl/core/json.hpp>

namespace mlctl::serving {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (equals_ignore_case(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct Connection {
  int fd = -1;
  std::string in;   // bytes read and not yet answered
  std::string out;  // bytes to write
  std::size_t out_sent = 0;
  std::size_t consumed = 0;  // bytes of `in` taken by this round's requests
  bool in_round = false;     // has requests in the round being handled
  bool close_after_write = false;
  bool peer_closed = false;
  bool sent_continue = false;
  bool writing = false;  // EPOLLOUT is registered
  // Answered with "Connection: close": our side is shut, and what the
  // client still sends is read and dropped until it closes (closing at once
  // with unread bytes would reset the connection and could destroy the
  // answer before the client reads it, e.g. a 413 sent mid-upload).
  bool draining = false;
  double last_active = 0;
  int error_status = 0;  // a request the server answers itself, after the round
  std::string error_message;
};

enum class Parse { incomplete, complete, failed };

// Parses the request at `conn.in[conn.consumed...]`.
Parse parse_request(Connection& conn, const HttpServerOptions& options, HttpRequest& request, bool& keep_alive) {
  std::string_view data = std::string_view(conn.in).substr(conn.consumed);
  const auto header_end = data.find("\r\n\r\n");
  if (header_end == std::string_view::npos) {
    if (data.size() > options.max_header_bytes) {
      conn.error_status = 431;
      conn.error_message = fmt::format("the request headers exceed {} bytes", options.max_header_bytes);
      return Parse::failed;
    }
    return Parse::incomplete;
  }
  auto fail = [&](std::string message) {
    conn.error_status = 400;
    conn.error_message = std::move(message);
    return Parse::failed;
  };
  std::string_view head = data.substr(0, header_end);
  const auto line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  const auto first_space = line.find(' ');
  const auto second_space = line.rfind(' ');
  if (first_space == std::string_view::npos || second_space == first_space) {
    return fail("malformed request line: expected 'METHOD TARGET HTTP/1.1'");
  }
  std::string_view version = line.substr(second_space + 1);
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || (version[7] != '0' && version[7] != '1')) {
    return fail(fmt::format("unsupported protocol '{}': expected HTTP/1.0 or HTTP/1.1", version.substr(0, 20)));
  }
  request = HttpRequest{};
  request.method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
  const auto question = target.find('?');
  request.path = target.substr(0, question);
  if (question != std::string_view::npos) request.query = target.substr(question + 1);

  std::size_t content_length = 0;
  bool has_length = false, chunked = false, expect_continue = false;
  std::string_view connection_header;
  std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    std::string_view header = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    const auto colon = header.find(':');
    if (colon == std::string_view::npos || colon == 0) return fail("malformed header line: expected 'Name: value'");
    std::string_view name = header.substr(0, colon);
    std::string_view value = header.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    request.headers.emplace_back(name, value);
    if (equals_ignore_case(name, "content-length")) {
      std::size_t length = 0;
      auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || ptr != value.data() + value.size() || (has_length && length != content_length)) {
        return fail("invalid Content-Length header");
      }
      content_length = length;
      has_length = true;
    } else if (equals_ignore_case(name, "transfer-encoding")) {
      chunked = true;
    } else if (equals_ignore_case(name, "expect")) {
      expect_continue = equals_ignore_case(value, "100-continue");
    } else if (equals_ignore_case(name, "connection")) {
      connection_header = value;
    }
  }
  if (chunked) {
    conn.error_status = 501;
    conn.error_message = "chunked request bodies are not supported: send the body with a Content-Length";
    return Parse::failed;
  }
  if (content_length > options.max_body_bytes) {
    conn.error_status = 413;
    conn.error_message =
        fmt::format("the request body of {} bytes exceeds the limit of {} bytes", content_length, options.max_body_bytes);
    return Parse::failed;
  }
  const std::size_t total = header_end + 4 + content_length;
  if (data.size() < total) {
    if (expect_continue && !conn.sent_continue) {
      conn.out += "HTTP/1.1 100 Continue\r\n\r\n";
      conn.sent_continue = true;
    }
    return Parse::incomplete;
  }
  request.body = data.substr(header_end + 4, content_length);
  keep_alive = version[7] == '1' ? !contains_token(connection_header, "close")
                                 : contains_token(connection_header, "keep-alive");
  conn.consumed += total;
  conn.sent_continue = false;
  return Parse::complete;
}

void append_response(std::string& out, const HttpResponse& response, bool close) {
  fmt::format_to(std::back_inserter(out), "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}{}\r\n",
                 response.status, reason_phrase(response.status), response.content_type, response.body.size(),
                 response.headers, close ? "Connection: close\r\n" : "");
  out += response.body;
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignore_case(key, name)) return value;
  }
  return {};
}

std::string error_body(int status, std::string_view message) {
  return Json{{"error", {{"code", status}, {"message", std::string(message)}}}}.dump();
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

// One I/O thread: an epoll loop over its connections. Loop 0 also accepts
// and deals new connections out in turn, so that each thread gets its
// share (a thread woken by the listener would otherwise take them all).
struct HttpServer::Loop {
  HttpServer& server;
  std::size_t index;
  int epoll_fd = -1;
  int wake_fd = -1;
  std::thread thread;
  std::unordered_map<int, std::unique_ptr<Connection>> connections;
  std::mutex inbox_mutex;
  std::vector<int> inbox;  // accepted by loop 0 for this loop
  std::vector<Exchange> exchanges;
  std::vector<Connection*> owners;      // owners[i] sent exchanges[i]
  std::vector<char> keep_alive;         // per exchange
  std::size_t next_loop = 0;            // loop 0: who gets the next connection
  double last_sweep = 0;

  Loop(HttpServer& server_, std::size_t index_) : server(server_), index(index_) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd < 0 || wake_fd < 0) throw Error(ErrorKind::io, fmt::format("epoll: {}", std::strerror(errno)));
    add(wake_fd, EPOLLIN);
  }
  ~Loop() {
    for (auto& [fd, conn] : connections) ::close(fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
    if (wake_fd >= 0) ::close(wake_fd);
  }

  void add(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
  }
  void modify(int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, fd, &event);
  }
  void wake() {
    std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd, &one, sizeof one);
  }

  void adopt(int fd) {
    auto conn = std::make_unique<Connection>();
    conn->fd = fd;
    conn->last_active = now_seconds();
    add(fd, EPOLLIN | EPOLLRDHUP);
    connections.emplace(fd, std::move(conn));
  }

  void accept_all() {
    for (;;) {
      int fd = ::accept4(server.m_listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or an aborted connection: nothing to do
      // Small answers must leave at once: Nagle's algorithm against the
      // client's delayed ACK costs 40 ms a request.
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      Loop& target = *server.m_loops[next_loop];
      next_loop = (next_loop + 1) % server.m_loops.size();
      if (&target == this) {
        adopt(fd);
      } else {
        {
          std::lock_guard lock(target.inbox_mutex);
          target.inbox.push_back(fd);
        }
        target.wake();
      }
    }
  }

  void close_connection(Connection* conn) {
    ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, conn->fd, nullptr);
    ::close(conn->fd);
    connections.erase(conn->fd);
  }

  // Reads what the socket holds; marks the connection when the peer has gone.
  void read_from(Connection& conn) {
    char buffer[65536];
    for (;;) {
      ssize_t n = ::read(conn.fd, buffer, sizeof buffer);
      if (n > 0) {
        conn.in.append(buffer, std::size_t(n));
        conn.last_active = now_seconds();
        if (std::size_t(n) < sizeof buffer) return;
        continue;
      }
      if (n == 0) {
        conn.peer_closed = true;
        return;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) conn.peer_closed = true;
      return;
    }
  }

  // Parses every complete request of a connection into the round.
  void collect(Connection& conn) {
    while (!conn.close_after_write && conn.error_status == 0) {
      Exchange exchange;
      bool keep = true;
      Parse result = parse_request(conn, server.m_options, exchange.request, keep);
      if (result != Parse::complete) break;
      exchange.request.received_at = now_seconds();
      exchanges.push_back(std::move(exchange));
      owners.push_back(&conn);
      keep_alive.push_back(keep);
      conn.in_round = true;
      if (!keep) break;
    }
  }

  // Writes what is queued; returns false when the connection was closed.
  bool flush(Connection& conn) {
    while (conn.out_sent < conn.out.size()) {
      ssize_t n = ::send(conn.fd, conn.out.data() + conn.out_sent, conn.out.size() - conn.out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        conn.out_sent += std::size_t(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!conn.writing) modify(conn.fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        conn.writing = true;
        return true;
      }
      close_connection(&conn);
      return false;
    }
    conn.out.clear();
    conn.out_sent = 0;
    if (conn.writing) modify(conn.fd, EPOLLIN | EPOLLRDHUP);
    conn.writing = false;
    if (conn.peer_closed && (conn.in.empty() || conn.close_after_write)) {
      close_connection(&conn);
      return false;
    }
    if (conn.close_after_write) {
      ::shutdown(conn.fd, SHUT_WR);
      conn.draining = true;
      conn.in.clear();
      conn.last_active = now_seconds();
      return false;
    }
    return true;
  }

  void handle_events(const epoll_event* events, int count) {
    for (int i = 0; i < count; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd) {
        std::uint64_t value = 0;
        [[maybe_unused]] auto got = ::read(wake_fd, &value, sizeof value);
        std::vector<int> adopted;
        {
          std::lock_guard lock(inbox_mutex);
          adopted.swap(inbox);
        }
        for (int new_fd : adopted) adopt(new_fd);
        continue;
      }
      if (fd == server.m_listen_fd) {
        if (!server.m_stopping) accept_all();
        continue;
      }
      auto it = connections.find(fd);
      if (it == connections.end()) continue;
      Connection& conn = *it->second;
      if (events[i].events & EPOLLOUT) {
        if (!flush(conn)) continue;
      }
      if (conn.draining) {
        char sink[65536];
        ssize_t n;
        while ((n = ::read(fd, sink, sizeof sink)) > 0) {
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) close_connection(&conn);
        continue;
      }
      // A connection with requests in the round is read only after the
      // round: its buffer holds the requests' bytes.
      if (conn.in_round) continue;
      if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        read_from(conn);
        const std::size_t before = exchanges.size();
        collect(conn);
        if (exchanges.size() == before) {
          // Nothing complete: a 100 Continue, a protocol error or a closed
          // peer may still need writing or closing.
          if (conn.error_status != 0) {
            finish_connection(conn);
          } else if (!conn.out.empty()) {
            flush(conn);
          } else if (conn.peer_closed) {
            close_connection(&conn);
          }
        }
      }
    }
  }

  // After the round: the server's own error answer, if any, then the bytes.
  void finish_connection(Connection& conn) {
    if (conn.error_status != 0) {
      server.m_handler.on_protocol_error(conn.error_status);
      HttpResponse response;
      response.status = conn.error_status;
      response.body = error_body(conn.error_status, conn.error_message);
      append_response(conn.out, response, true);
      conn.close_after_write = true;
      conn.error_status = 0;
      conn.in.clear();
      conn.consumed = 0;
    }
    flush(conn);
  }

  void answer_round() {
    if (exchanges.empty()) return;
    server.m_handler.handle(exchanges);
    const bool stopping = server.m_stopping;
    for (std::size_t i = 0; i < exchanges.size(); ++i) {
      Connection& conn = *owners[i];
      const bool close = !keep_alive[i] || stopping;
      append_response(conn.out, exchanges[i].response, close);
      if (close) conn.close_after_write = true;
    }
    // Each connection once: drop the answered bytes, then write.
    std::vector<Connection*> done;
    for (Connection* conn : owners) {
      if (!conn->in_round) continue;
      conn->in_round = false;
      conn->in.erase(0, conn->consumed);
      conn->consumed = 0;
      done.push_back(conn);
    }
    exchanges.clear();
    owners.clear();
    keep_alive.clear();
    for (Connection* conn : done) {
      // Requests that arrived behind the answered ones (pipelining) are
      // read on the next round; the error of a bad one is sent now.
      if (conn->error_status != 0) {
        finish_connection(*conn);
      } else {
        flush(*conn);
      }
    }
  }

  void sweep_idle(double now, bool stopping) {
    if (!stopping && now - last_sweep < 1.0) return;
    last_sweep = now;
    std::vector<Connection*> idle;
    for (auto& [fd, conn] : connections) {
      const bool quiet = conn->in.empty() && conn->out.empty();
      // A draining client gets two seconds to read the answer and close.
      const double limit = conn->draining ? 2.0 : server.m_options.idle_timeout_seconds;
      if ((stopping && quiet && !conn->draining) || now - conn->last_active > limit) {
        idle.push_back(conn.get());
      }
    }
    for (Connection* conn : idle) close_connection(conn);
  }

  void run() {
    std::vector<epoll_event> events(256);
    const auto& options = server.m_options;
    double drain_deadline = 0;
    for (;;) {
      const bool stopping = server.m_stopping;
      if (stopping) {
        if (drain_deadline == 0) {
          drain_deadline = now_seconds() + options.drain_seconds;
          if (index == 0) ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, server.m_listen_fd, nullptr);
        }
        sweep_idle(now_seconds(), true);
        if (connections.empty() || now_seconds() > drain_deadline) return;
      }
      int count = ::epoll_wait(epoll_fd, events.data(), int(events.size()), stopping ? 50 : 1000);
      if (count < 0 && errno != EINTR) return;
      if (count > 0) handle_events(events.data(), count);
      // Batching: give other requests max_delay to join the round.
      if (!exchanges.empty() && options.gather_delay_ms > 0 && exchanges.size() < options.gather_requests) {
        const double deadline = now_seconds() + options.gather_delay_ms / 1000.0;
        while (exchanges.size() < options.gather_requests) {
          const double left_ms = (deadline - now_seconds()) * 1000.0;
          if (left_ms <= 0) break;
          int more = ::epoll_wait(epoll_fd, events.data(), int(events.size()), std::max(1, int(left_ms)));
          if (more > 0) handle_events(events.data(), more);
        }
      }
      answer_round();
      sweep_idle(now_seconds(), false);
    }
  }
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler)
    : m_options(std::move(options)), m_handler(handler) {
  if (m_options.threads < 1) m_options.threads = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(std::uint16_t(m_options.port));
  if (::inet_pton(AF_INET, m_options.host.c_str(), &address.sin_addr) != 1) {
    throw Error(ErrorKind::invalid_argument, fmt::format("'{}' is not an IPv4 address to listen on", m_options.host));
  }
  m_listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (m_listen_fd < 0) throw Error(ErrorKind::io, fmt::format("socket: {}", std::strerror(errno)));
  int one = 1;
  ::setsockopt(m_listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const std::string where = fmt::format("{}:{}", m_options.host, m_options.port);
  if (::bind(m_listen_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    ::close(m_listen_fd);
    if (error == EADDRINUSE) throw Error(ErrorKind::already_exists, fmt::format("{} is already in use", where));
    throw Error(ErrorKind::io, fmt::format("cannot listen on {}: {}", where, std::strerror(error)));
  }
  if (::listen(m_listen_fd, 1024) != 0) {
    const int error = errno;
    ::close(m_listen_fd);
    throw Error(ErrorKind::io, fmt::format("cannot listen on {}: {}", where, std::strerror(error)));
  }
  socklen_t length = sizeof address;
  ::getsockname(m_listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  m_port = ntohs(address.sin_port);
  for (int i = 0; i < m_options.threads; ++i) m_loops.push_back(std::make_unique<Loop>(*this, std::size_t(i)));
  m_loops.front()->add(m_listen_fd, EPOLLIN);
}

HttpServer::~HttpServer() {
  m_loops.clear();
  if (m_listen_fd >= 0) ::close(m_listen_fd);
}

void HttpServer::run() {
  for (auto& loop : m_loops) {
    Loop* raw = loop.get();
    loop->thread = std::thread([raw] { raw->run(); });
  }
  for (auto& loop : m_loops) loop->thread.join();
}

void HttpServer::stop() {
  m_stopping = true;
  for (auto& loop : m_loops) loop->wake();
}

}  // namespace mlctl::serving
