// Linux headers that Glibc's Swift module leaves out; part of libc, nothing to link.
#include <sys/epoll.h>
