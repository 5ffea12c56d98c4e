# Bazel's own Java rules under the names @rules_java exports, for the
# same reason as ../../rules_cc/cc/defs.bzl: bazel_tools loads them, and
# no Java is built.
java_binary = native.java_binary
java_import = native.java_import
java_library = native.java_library
java_proto_library = native.java_proto_library
java_runtime = native.java_runtime
java_toolchain = native.java_toolchain
