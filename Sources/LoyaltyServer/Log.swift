import Foundation

/// One structured line per event on stderr, `key=value` (logfmt), so it greps and parses.
enum Log {
    private static let lock = NSLock()

    static func event(_ event: String, _ fields: KeyValuePairs<String, String> = [:], level: String = "info") {
        var line = "ts=\(timestamp()) level=\(level) event=\(event)"
        for (key, value) in fields { line += " \(key)=\(quote(value))" }
        line += "\n"
        lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func error(_ event: String, _ fields: KeyValuePairs<String, String> = [:]) {
        self.event(event, fields, level: "error")
    }

    private static func quote(_ value: String) -> String {
        if !value.isEmpty, value.allSatisfy({ $0.isASCII && !$0.isWhitespace && $0 != "\"" && $0 != "=" && $0 != "\\" }) { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars.prefix(200) {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case _ where scalar.value < 0x20 || scalar.value == 0x7f: quoted += "\\x" + String(scalar.value, radix: 16)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, now.tv_nsec / 1_000_000)
    }
}
