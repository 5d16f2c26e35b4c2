#!/usr/bin/env python3
"""Load and memory probes for `make bench` that redis-benchmark cannot do.

  load.py redeem  PORT USER PASS --clients 8 --members 10000 --seconds 20
      REDEEM with a fresh request-id per call (redis-benchmark can only repeat ids), one request
      in flight per client like pgbench; prints a JSON line with ops/s and p50/p99 latency in ms.
  load.py hold-capture PORT USER PASS ...   the same with HOLD then CAPTURE (one op = both).
  load.py idle PORT --connections 1000 --pid PID
      opens that many connections, each answering one PING, holds them, and prints the server's
      VmRSS/VmHWM (KiB) read from /proc while they are open.

Only the standard library: the benchmark must run on a clean machine.
"""
import argparse
import json
import os
import random
import socket
import sys
import threading
import time

# Replies this client reads are small; a larger one means the server misbehaves.
REPLY_BYTES_MAX = 1 << 20


class Connection:
    """One RESP2 connection; requests go out as RESP arrays, replies are parsed minimally."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def send(self, *words):
        out = [b"*%d\r\n" % len(words)]
        for word in words:
            data = word if isinstance(word, bytes) else str(word).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
        self.sock.sendall(b"".join(out))

    def call(self, *words):
        self.send(*words)
        return self.reply()

    def _line(self):
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
            if len(self.buffer) > REPLY_BYTES_MAX:
                raise ValueError("reply too large")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return ServerError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            length = int(rest)
            if length < 0:
                return None
            while len(self.buffer) < length + 2:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buffer += chunk
            data, self.buffer = self.buffer[:length], self.buffer[length + 2:]
            return data.decode()
        if kind == b"*":
            count = int(rest)
            return None if count < 0 else [self.reply() for _ in range(count)]
        raise ValueError("unexpected reply %r" % line)


class ServerError(str):
    pass


def percentile(sorted_values, fraction):
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def spend_load(args, operation):
    """`clients` threads, each one request at a time, for `seconds`; one shared deadline."""
    deadline = time.monotonic() + args.seconds
    results = []
    lock = threading.Lock()
    run_id = "%x%x" % (int(time.time()), os.getpid())

    def client(index):
        conn = Connection(args.port)
        reply = conn.call("AUTH", args.user, args.password)
        if isinstance(reply, ServerError):
            raise SystemExit("AUTH failed: %s" % reply)
        rng = random.Random(index)
        latencies, errors, sequence = [], {}, 0
        while time.monotonic() < deadline:
            sequence += 1
            member = "M%012d" % rng.randrange(args.members)
            request_id = "b%s-%d-%d" % (run_id, index, sequence)
            started = time.perf_counter()
            error = operation(conn, request_id, member)
            latencies.append(time.perf_counter() - started)
            if error:
                errors[error.split(" ", 1)[0]] = errors.get(error.split(" ", 1)[0], 0) + 1
        with lock:
            results.append((latencies, errors))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = sorted(value for result in results for value in result[0])
    errors = {}
    for _, result_errors in results:
        for code, count in result_errors.items():
            errors[code] = errors.get(code, 0) + count
    print(json.dumps({
        "ops": len(latencies), "seconds": round(elapsed, 3), "ops_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 3), "p99_ms": round(percentile(latencies, 0.99) * 1000, 3),
        "errors": errors,
    }))


def redeem(conn, request_id, member):
    reply = conn.call("REDEEM", request_id, member, "POINTS", "1")
    return reply if isinstance(reply, ServerError) else None


def hold_capture(conn, request_id, member):
    hold = conn.call("HOLD", request_id, member, "1")
    if isinstance(hold, ServerError):
        return hold
    reply = conn.call("CAPTURE", hold[0])
    return reply if isinstance(reply, ServerError) else None


def memory(pid):
    fields = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0])
    return fields


def idle(args):
    before = memory(args.pid)
    connections = []
    for _ in range(args.connections):
        conn = Connection(args.port)
        conn.send("PING")
        connections.append(conn)
    # Every connection answered: the server holds them all as sessions now.
    for conn in connections:
        if conn.reply() != "PONG":
            raise SystemExit("a connection was refused")
    time.sleep(1)
    during = memory(args.pid)
    for conn in connections:
        conn.sock.close()
    print(json.dumps({"connections": len(connections), "rss_before_kib": before["VmRSS"],
                      "rss_kib": during["VmRSS"], "hwm_kib": during["VmHWM"]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["redeem", "hold-capture", "idle"])
    parser.add_argument("port", type=int)
    parser.add_argument("user", nargs="?")
    parser.add_argument("password", nargs="?")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--members", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    if args.mode == "idle":
        idle(args)
    else:
        spend_load(args, redeem if args.mode == "redeem" else hold_capture)


if __name__ == "__main__":
    sys.exit(main())
