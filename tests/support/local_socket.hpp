#pragma once

namespace mlctl::testing {

// A blocking TCP connection to 127.0.0.1:port with a 10 s receive timeout,
// for tests that speak raw HTTP. Fails the test when it cannot connect.
int connect_local(int port);

}  // namespace mlctl::testing
