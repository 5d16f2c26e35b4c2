// Linux headers that Glibc's Swift module leaves out; part of libc, nothing to link.
#include <sys/epoll.h>
#include <sys/socket.h>

// A GNU extension, declared by <sys/socket.h> only under _GNU_SOURCE.
int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

// Also a GNU extension: names a thread for top -H, gdb and /proc/PID/task/*/comm.
#include <pthread.h>
int pthread_setname_np(pthread_t thread, const char *name);
