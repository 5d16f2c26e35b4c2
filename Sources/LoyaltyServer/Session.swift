import LineProtocol
import LoyaltyCore
import LoyaltyStore

/// The state of one client connection: who signed in, the reply protocol and the batch being
/// queued. Only the worker serving the connection touches it, one request at a time, in order.
/// (What `CLIENT LIST` shows of it lives in `ClientDirectory`, which every worker reads.)
struct Session {
    let clientID: Int
    var principal: Principal?
    /// RESP2 until `HELLO 3`; `HELLO 2` and `RESET` go back to it.
    var protocolVersion = ProtocolVersion.resp2
    var batch: OpenBatch?
    /// Set by QUIT: reply, then close.
    var closeAfterReply = false

    init(clientID: Int) { self.clientID = clientID }
}

/// A batch between BATCH BEGIN and COMMIT: nothing is applied until COMMIT.
struct OpenBatch {
    var id: String
    let lines: QueuedBatchLines
}

/// A request's arguments, decoded and validated on demand into typed errors.
struct Arguments {
    let request: Request
    var count: Int { request.arguments.count }

    /// Argument `index` as text: valid UTF-8 without NUL, which no PostgreSQL text value can hold.
    func text(_ index: Int) throws(LoyaltyError) -> String {
        guard let text = request.string(index) else {
            throw index < count ? .invalid("argument \(index) is not valid UTF-8") : .syntax("missing argument \(index)")
        }
        guard !text.utf8.contains(0) else { throw .invalid("argument \(index) contains a NUL byte") }
        return text
    }

    /// A client's name or library name or version: empty (no name) or like a client-chosen id, as
    /// Redis refuses spaces and line breaks in them, and bounded, as each connection keeps them.
    func clientName(_ index: Int) throws(LoyaltyError) -> String {
        let name = try text(index)
        guard name.isEmpty || Identifiers.isClientID(name) else {
            throw .invalid("client names and library names are 0-64 printable ASCII, no spaces")
        }
        return name
    }

    func memberNumber(_ index: Int) throws(LoyaltyError) -> String {
        let number = try text(index)
        guard Identifiers.isMemberNumber(number) else { throw .invalid("malformed member number (1-32 of A-Z a-z 0-9 _ -)") }
        return number
    }

    func clientID(_ index: Int, _ what: String) throws(LoyaltyError) -> String {
        let id = try text(index)
        guard Identifiers.isClientID(id) else { throw .invalid("\(what) must be 1-64 printable ASCII, no spaces") }
        return id
    }

    func integer(_ index: Int, _ what: String, _ range: ClosedRange<Int64>) throws(LoyaltyError) -> Int64 {
        let text = try text(index)
        guard let value = Int64(text), range.contains(value) else {
            throw .invalid("\(what) must be an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func date(_ index: Int) throws(LoyaltyError) -> LocalDate {
        guard let date = LocalDate(try text(index)) else { throw .invalid("dates are YYYY-MM-DD") }
        return date
    }

    /// `field=value` words from `index` on.
    func fields(from index: Int) throws(LoyaltyError) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for position in index..<count {
            let word = try text(position)
            guard let field = splitField(request.arguments[position]) else { throw .invalid("expected field=value, got \(word)") }
            fields.append(field)
        }
        return fields
    }
}
