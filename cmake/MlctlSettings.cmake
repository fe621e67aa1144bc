# Compiler settings shared by every target: one interface target for
# warnings, one for the include root, and fast tools where Debian has them.

add_library(mlctl_warnings INTERFACE)
target_compile_options(mlctl_warnings INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(MLCTL_WERROR)
  target_compile_options(mlctl_warnings INTERFACE -Werror)
endif()

# Sources include each other as <mlctl/DOMAIN/file.hpp> while living in
# lib/DOMAIN/: a symlink in the build tree maps the one onto the other.
set(MLCTL_INCLUDE_ROOT ${CMAKE_BINARY_DIR}/include)
file(MAKE_DIRECTORY ${MLCTL_INCLUDE_ROOT})
file(CREATE_LINK ${CMAKE_SOURCE_DIR}/lib ${MLCTL_INCLUDE_ROOT}/mlctl SYMBOLIC)

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CCACHE_PROGRAM})
endif()

find_program(LLD_PROGRAM ld.lld)
if(LLD_PROGRAM)
  add_link_options(-fuse-ld=lld)
endif()
