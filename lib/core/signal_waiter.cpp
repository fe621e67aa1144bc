#include <mlctl/core/signal_waiter.hpp>

#include <ctime>
#include <initializer_list>

namespace mlctl {

SignalWaiter::SignalWaiter() {
  sigemptyset(&m_set);
  for (int signal_number : {SIGCHLD, SIGINT, SIGTERM, SIGHUP}) sigaddset(&m_set, signal_number);
  ::sigprocmask(SIG_BLOCK, &m_set, &m_previous);
}

SignalWaiter::~SignalWaiter() { ::sigprocmask(SIG_SETMASK, &m_previous, nullptr); }

int SignalWaiter::wait(int milliseconds) {
  timespec timeout{milliseconds / 1000, long(milliseconds % 1000) * 1000000L};
  int signal_number = ::sigtimedwait(&m_set, nullptr, &timeout);
  return signal_number > 0 ? signal_number : 0;
}

}  // namespace mlctl
