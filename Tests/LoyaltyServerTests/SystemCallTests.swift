import Foundation
import LoyaltyTesting
import XCTest

/// The server's system calls under faults injected with LD_PRELOAD: a call interrupted by a
/// signal (EINTR) is retried, and a client that epoll refuses to watch is closed with a log line
/// instead of being left connected and never served.
final class SystemCallTests: EndToEndTestCase {
    /// Built once per test process.
    private static let faults: Result<String, any Error> = Result {
        let directory = NSTemporaryDirectory() + "loyalty-faults-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try faultsSource.write(toFile: directory + "/faults.c", atomically: true, encoding: .utf8)
        let build = try Command.run(executable: "/usr/bin/env", ["cc", "-shared", "-fPIC", "-O1", "-o", directory + "/faults.so",
                                                              directory + "/faults.c", "-ldl"])
        guard build.status == 0 else { throw XCTSkip("cannot build the fault injector: \(build.stderr)") }
        return directory + "/faults.so"
    }

    private func server(faults: String) throws -> ServerProcess {
        try ServerProcess(database: database, environment: ["LD_PRELOAD": try Self.faults.get(), "LOYALTY_FAULTS": faults])
    }

    func testEveryOtherCallInterruptedBySignalsStillServesEveryRequest() throws {
        let server = try server(faults: "eintr")
        let clients = try (0..<4).map { _ in try RawClient(port: server.port) }
        for round in 0..<50 {
            for (index, client) in clients.enumerated() {
                XCTAssertEqual(try client.call(["ECHO", "r\(round)-c\(index)"]), .bulk("r\(round)-c\(index)"))
            }
        }
        for call in ["accept4", "epoll_wait", "epoll_ctl", "read", "send"] {
            XCTAssertTrue(server.log.contains("faults: EINTR from \(call)"), "\(call) was interrupted: \(server.log)")
        }
        XCTAssertFalse(server.log.contains("level=error"), server.log)
    }

    func testAClientEpollRefusesIsClosedWithALogLine() throws {
        let server = try server(faults: "epoll_add")
        let client = try RawClient(port: server.port, timeoutSeconds: 5)
        XCTAssertTrue(client.isClosedByServer(), "closed, not left waiting for a reply that never comes: \(server.log)")
        // The line is written just after the socket is closed.
        try waitUntil("the disconnect is logged") { server.log.contains("reason=epoll_ctl_failed") }
        XCTAssertTrue(server.log.contains("level=error event=epoll_ctl client=1 errno=28"), server.log)
    }
}

/// Only on the serving threads (`loyaltyd-N`; libdispatch has an epoll set of its own):
/// LOYALTY_FAULTS=eintr: every other accept4, epoll_wait, epoll_ctl, read and send fails with
/// EINTR first. LOYALTY_FAULTS=epoll_add: every EPOLL_CTL_ADD (a new client's) fails with ENOSPC,
/// as when max_user_watches is reached.
private let faultsSource = #"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int mode(const char *name) {
    char thread[16] = "";
    pthread_getname_np(pthread_self(), thread, sizeof thread);
    const char *m = getenv("LOYALTY_FAULTS");
    return m && strcmp(m, name) == 0 && strncmp(thread, "loyaltyd-", 9) == 0;
}
static __thread unsigned calls;
/* Says on stderr (the server's log), once per call, that the fault was injected. */
static int interrupt(const char *call, int *said) {
    if (!mode("eintr") || calls++ % 2 == 0) return 0;
    if (!__atomic_exchange_n(said, 1, __ATOMIC_SEQ_CST)) {
        char line[64];
        int length = snprintf(line, sizeof line, "faults: EINTR from %s\n", call);
        syscall(SYS_write, 2, line, length);
    }
    errno = EINTR;
    return 1;
}
#define REAL(name) static __typeof__(name) *real; static int said; if (!real) real = dlsym(RTLD_NEXT, #name)

int accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    REAL(accept4);
    return interrupt("accept4", &said) ? -1 : real(fd, address, length, flags);
}
int epoll_wait(int fd, struct epoll_event *events, int count, int timeout) {
    REAL(epoll_wait);
    return interrupt("epoll_wait", &said) ? -1 : real(fd, events, count, timeout);
}
int epoll_ctl(int fd, int operation, int target, struct epoll_event *event) {
    REAL(epoll_ctl);
    if (operation == EPOLL_CTL_ADD && mode("epoll_add")) {
        errno = ENOSPC;
        return -1;
    }
    return interrupt("epoll_ctl", &said) ? -1 : real(fd, operation, target, event);
}
ssize_t read(int fd, void *buffer, size_t count) {
    REAL(read);
    return interrupt("read", &said) ? -1 : real(fd, buffer, count);
}
ssize_t send(int fd, const void *buffer, size_t count, int flags) {
    REAL(send);
    return interrupt("send", &said) ? -1 : real(fd, buffer, count, flags);
}
"""#
