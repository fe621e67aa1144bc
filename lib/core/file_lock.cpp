#include <mlctl/core/file_lock.hpp>

#include <fmt/format.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <mutex>

#include <mlctl/core/clock.hpp>
#include <mlctl/core/error.hpp>
#include <mlctl/core/files.hpp>

namespace mlctl {
namespace {

// The timer's signal: it only interrupts the blocking flock (no
// SA_RESTART), its handler does nothing.
int wake_signal() { return SIGRTMIN + 5; }

void install_wake_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = [](int) {};
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    sigaction(wake_signal(), &action, nullptr);
  });
}

// A timer that sends wake_signal() to the calling thread every `period`.
class ThreadTimer {
 public:
  explicit ThreadTimer(double period_seconds) {
    sigevent event{};
    event.sigev_notify = SIGEV_THREAD_ID;
    event.sigev_signo = wake_signal();
    event._sigev_un._tid = pid_t(::syscall(SYS_gettid));
    if (::timer_create(CLOCK_MONOTONIC, &event, &m_timer) != 0) return;
    m_armed = true;
    itimerspec spec{};
    spec.it_value.tv_sec = time_t(period_seconds);
    spec.it_value.tv_nsec = long((period_seconds - double(time_t(period_seconds))) * 1e9);
    spec.it_interval = spec.it_value;
    ::timer_settime(m_timer, 0, &spec, nullptr);
  }
  ~ThreadTimer() {
    if (m_armed) ::timer_delete(m_timer);
  }
  ThreadTimer(const ThreadTimer&) = delete;
  ThreadTimer& operator=(const ThreadTimer&) = delete;

 private:
  timer_t m_timer{};
  bool m_armed = false;
};

}  // namespace

bool lock_exclusive(int fd, double timeout_seconds) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
  if (errno != EWOULDBLOCK) throw Error(ErrorKind::io, fmt::format("cannot lock: {}", errno_text(errno)));
  install_wake_handler();
  const double deadline = monotonic_seconds() + timeout_seconds;
  // Without a timer (or with the signal blocked in this thread) the wait
  // is as a plain blocking flock: unbounded, never wrong.
  ThreadTimer timer(0.1);
  while (true) {
    if (::flock(fd, LOCK_EX) == 0) return true;
    if (errno != EINTR) throw Error(ErrorKind::io, fmt::format("cannot lock: {}", errno_text(errno)));
    if (monotonic_seconds() >= deadline) return false;
  }
}

}  // namespace mlctl
