# Warnings live on an INTERFACE target that each Matthan target links PRIVATE; no global flags.
add_library(matthan_warnings INTERFACE)
add_library(matthan::warnings ALIAS matthan_warnings)
target_compile_options(matthan_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
  $<$<BOOL:${MATTHAN_WARNINGS_AS_ERRORS}>:-Werror>)
