#pragma once

#include <csignal>

namespace mlctl {

// For workers that run child processes (sweeps, pipelines): blocks
// SIGCHLD, SIGINT, SIGTERM and SIGHUP while it lives, so they are waited
// for (wait()) instead of handled, and restores the mask on destruction.
// Children should start with previous() as their mask. Not copyable.
class SignalWaiter {
 public:
  SignalWaiter();
  ~SignalWaiter();
  SignalWaiter(const SignalWaiter&) = delete;
  SignalWaiter& operator=(const SignalWaiter&) = delete;

  // Waits up to `milliseconds` for one of the signals; returns it, or 0.
  int wait(int milliseconds);
  // The mask from before: what a child process should run with.
  const sigset_t& previous() const { return m_previous; }

 private:
  sigset_t m_set, m_previous;
};

}  // namespace mlctl
