/*
 * version.h - the version a spoke process speaks.
 *
 * A client and a coordinator of different versions never run a build
 * together: the coordinator answers "restart" and exits once idle, and the
 * client starts one of its own version.  SPOKE_TEST_VERSION overrides the
 * compiled-in version so that tests can stage an old coordinator.
 */
#ifndef SPOKE_COMMON_VERSION_H
#define SPOKE_COMMON_VERSION_H

const char *spoke_version(void);

#endif
