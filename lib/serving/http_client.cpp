#include <mlctl/serving/http_client.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include <mlctl/core/error.hpp>

namespace mlctl::serving {
namespace {

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Thrown inside exchange() when a kept-alive connection proves closed
// before any answer byte: the request can be sent again safely.
struct StaleConnection {};

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equals_ignore_case(key, name)) return value;
  }
  return {};
}

HttpClient::HttpClient(std::string host, int port, double timeout_seconds)
    : m_host(std::move(host)), m_port(port), m_timeout(timeout_seconds) {}

HttpClient::~HttpClient() { disconnect(); }

void HttpClient::disconnect() {
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

void HttpClient::connect() {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(std::uint16_t(m_port));
  if (::inet_pton(AF_INET, m_host.c_str(), &address.sin_addr) != 1) {
    throw Error(ErrorKind::invalid_argument, fmt::format("'{}' is not an IPv4 address", m_host));
  }
  m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (m_fd < 0) throw Error(ErrorKind::io, fmt::format("socket: {}", std::strerror(errno)));
  timeval timeout{};
  timeout.tv_sec = long(m_timeout);
  timeout.tv_usec = long((m_timeout - double(timeout.tv_sec)) * 1e6);
  ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(m_fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  int one = 1;
  ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    disconnect();
    throw Error(ErrorKind::io, fmt::format("cannot connect to {}:{}: {}", m_host, m_port, std::strerror(error)));
  }
}

HttpReply HttpClient::request(std::string_view method, std::string_view target, std::string_view body,
                              const std::vector<std::string>& headers) {
  std::string wire = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Length: {}\r\n", method, target, m_host,
                                 m_port, body.size());
  if (!body.empty()) wire += "Content-Type: application/json\r\n";
  for (const auto& header : headers) wire += header + "\r\n";
  wire += "\r\n";
  wire += body;
  const bool reused = m_fd >= 0;
  if (!reused) connect();
  try {
    return exchange(wire);
  } catch (const StaleConnection&) {
    disconnect();
    if (!reused) throw Error(ErrorKind::io, fmt::format("{}:{} closed the connection without answering", m_host, m_port));
    connect();
    try {
      return exchange(wire);
    } catch (const StaleConnection&) {
      disconnect();
      throw Error(ErrorKind::io, fmt::format("{}:{} closed the connection without answering", m_host, m_port));
    }
  }
}

HttpReply HttpClient::exchange(const std::string& wire) {
  std::size_t sent = 0;
  while (sent < wire.size()) {
    ssize_t n = ::send(m_fd, wire.data() + sent, wire.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    // The server may have answered before reading everything (413): read
    // that answer; a connection that gives none is stale (below).
    if (n <= 0) break;
    sent += std::size_t(n);
  }
  std::string data;
  char buffer[65536];
  std::size_t header_end = std::string::npos;
  std::size_t body_length = 0;
  HttpReply reply;
  bool close_after = false;
  for (;;) {
    if (header_end == std::string::npos) {
      header_end = data.find("\r\n\r\n");
      if (header_end != std::string::npos) {
        std::string_view head(data.data(), header_end);
        auto line_end = head.find("\r\n");
        std::string_view status_line = head.substr(0, line_end);
        if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") {
          disconnect();
          throw Error(ErrorKind::io, fmt::format("{}:{} answered something that is not HTTP", m_host, m_port));
        }
        std::from_chars(status_line.data() + 9, status_line.data() + 12, reply.status);
        std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
        while (!rest.empty()) {
          auto end = rest.find("\r\n");
          std::string_view line = rest.substr(0, end);
          rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
          auto colon = line.find(':');
          if (colon == std::string_view::npos) continue;
          std::string_view value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
          reply.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
        }
        if (reply.status == 100) {  // an interim answer: the real one follows
          data.erase(0, header_end + 4);
          header_end = std::string::npos;
          reply = HttpReply{};
          continue;
        }
        std::string length = reply.header("content-length");
        std::from_chars(length.data(), length.data() + length.size(), body_length);
        close_after = equals_ignore_case(reply.header("connection"), "close");
      }
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + body_length) break;
    ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      disconnect();
      throw Error(ErrorKind::io, fmt::format("{}:{} did not answer within {} s", m_host, m_port, m_timeout));
    }
    if (n <= 0) {
      if (data.empty()) throw StaleConnection{};
      disconnect();
      throw Error(ErrorKind::io, fmt::format("{}:{} closed the connection mid-answer", m_host, m_port));
    }
    data.append(buffer, std::size_t(n));
  }
  reply.body = data.substr(header_end + 4, body_length);
  if (close_after) disconnect();
  return reply;
}

}  // namespace mlctl::serving
