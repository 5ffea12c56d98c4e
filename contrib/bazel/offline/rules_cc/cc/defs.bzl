# Bazel's own C++ rules under the names @rules_cc exports.  bazel_tools
# loads them from @rules_cc, which Bazel would otherwise download: with
# --override_repository=rules_cc=<this folder> nothing is fetched.
cc_binary = native.cc_binary
cc_import = native.cc_import
cc_library = native.cc_library
cc_proto_library = native.cc_proto_library
cc_test = native.cc_test
cc_toolchain = native.cc_toolchain
cc_toolchain_suite = native.cc_toolchain_suite
objc_library = native.objc_library
