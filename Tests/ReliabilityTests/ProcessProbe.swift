import Foundation
import Glibc

/// What /proc says about a process: memory, CPU time, descriptor limit.
struct ProcessProbe {
    let pid: Int32

    /// Resident memory in KiB (VmRSS).
    var residentKilobytes: Int {
        field("/proc/\(pid)/status", prefix: "VmRSS:").flatMap { Int($0.split(separator: " ").first ?? "") } ?? -1
    }

    /// User plus system CPU time so far, in clock ticks (1/100 s).
    var cpuTicks: Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After "pid (comm)": state is field 0, utime field 11, stime field 12.
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    /// The soft limit on open descriptors the process runs with.
    var openFilesSoftLimit: Int {
        field("/proc/\(pid)/limits", prefix: "Max open files").flatMap { Int($0.split(separator: " ").first ?? "") } ?? -1
    }

    /// Sets the soft limit on open descriptors of the running process, leaving the hard one, with
    /// prlimit(2) (a GNU call the Glibc module leaves out, so it is looked up by name).
    func setOpenFilesSoftLimit(_ value: Int) -> Bool {
        typealias Prlimit = @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "prlimit") else { return false }
        let prlimit = unsafeBitCast(symbol, to: Prlimit.self)
        var limit = rlimit()
        guard prlimit(pid, Int32(RLIMIT_NOFILE.rawValue), nil, &limit) == 0 else { return false }
        limit.rlim_cur = min(rlim_t(value), limit.rlim_max)
        return prlimit(pid, Int32(RLIMIT_NOFILE.rawValue), &limit, nil) == 0
    }

    private func field(_ path: String, prefix: String) -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        return line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)
    }
}

/// Sets this process's soft limit on open descriptors (within the hard limit); returns it.
@discardableResult
func setOwnOpenFilesLimit(_ wanted: Int) -> Int {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = min(rlim_t(wanted), limit.rlim_max)
    setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    return Int(clamping: limit.rlim_cur)
}
