# Warnings live on an INTERFACE target that each Matthan target links PRIVATE; no global flags.
# -Wnull-dereference is left out: with GCC 12 at -O2 it fires inside inlined system headers (CLI11,
# rapidjson, libstdc++ strings) where no null is possible, and warnings nobody can fix teach people to ignore them.
add_library(matthan_warnings INTERFACE)
add_library(matthan::warnings ALIAS matthan_warnings)
target_compile_options(matthan_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
  -Wunused -Woverloaded-virtual -Wimplicit-fallthrough
  $<$<BOOL:${MATTHAN_WARNINGS_AS_ERRORS}>:-Werror>)
