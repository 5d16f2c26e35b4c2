/// Secrets the program hands out (partner keys, agent secrets) and their comparison.
enum Secrets {
    /// 160 random bits from the system's CSPRNG (getrandom on Linux), as 40 lowercase hex digits.
    static func newSecret(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = prefix
        for _ in 0..<20 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text += String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
        }
        return text
    }

    /// Compares without an early exit, so the time taken says nothing about where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }
}
