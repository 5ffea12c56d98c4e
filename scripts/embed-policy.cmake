# Writes OUT, a C file holding IN (data/policy.json) as policy_table[]
# (NUL-terminated) and policy_table_len: the platform policy is part of
# the binary, so no command reads a file at run time that a build system
# would not see as an input.  The table must parse as JSON of format 2,
# else the build fails here rather than a user's command later.
#
#   cmake -DIN=data/policy.json -DOUT=policy_table.c -P embed-policy.cmake
file(READ "${IN}" text)
string(JSON format ERROR_VARIABLE err GET "${text}" format)
if(err OR NOT format EQUAL 2)
  message(FATAL_ERROR "${IN} is not a spoke platform policy of format 2: ${err}")
endif()
file(SIZE "${IN}" len)
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}.tmp"
  "/* Generated from data/policy.json by scripts/embed-policy.cmake. */\n"
  "#include \"worker/repair/policy_table.h\"\n\n"
  "const unsigned char policy_table[] = {\n${bytes}0};\n"
  "const size_t policy_table_len = ${len};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
