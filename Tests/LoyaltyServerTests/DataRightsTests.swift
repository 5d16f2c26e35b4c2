import Foundation
import LoyaltyTesting
import XCTest

/// `loyaltyctl member export` and `member erase` against a running loyaltyd: what is handed over,
/// what is erased, what stays for accounting, and that the member can no longer sign in.
final class DataRightsTests: EndToEndTestCase {
    private func ctl(_ arguments: String...) throws -> Command.Outcome {
        try Command.run("loyaltyctl", arguments + ["--database", database.url])
    }

    private func export(_ number: String) throws -> [String: Any] {
        let outcome = try ctl("member", "export", number)
        XCTAssertEqual(outcome.status, 0, outcome.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
    }

    func testExportHoldsEverythingAndEraseKeepsOnlyWhatAccountingNeeds() throws {
        XCTAssertEqual(try ctl("member", "enroll", "ERIN", "--name", "Erin Example", "--email", "erin@example.com").status, 0)
        XCTAssertEqual(try Command.run("loyaltyctl", ["member", "set-pin", "ERIN", "--database", database.url], stdin: "2468\n").status, 0)
        try credit("ERIN", 300)
        let member = try connect()
        XCTAssertEqual(try member.call(["AUTH", "member:ERIN", "2468"]), .simple("OK"))
        XCTAssertEqual(try connect().call(["AUTH", "member:ERIN", "1111"]).errorCode, "WRONGPASS")

        let before = try export("ERIN")
        let row = try XCTUnwrap(before["member"] as? [String: Any])
        XCTAssertEqual(row["name"] as? String, "Erin Example")
        XCTAssertEqual(row["email"] as? String, "erin@example.com")
        XCTAssertEqual(row["pin_set"] as? Bool, true)
        XCTAssertNil(row["pin_hash"], "a hash is a secret, not the member's data")
        XCTAssertEqual((before["ledger_entries"] as? [[String: Any]])?.map { $0["points"] as? Int }, [300])
        XCTAssertEqual((before["signin_failures"] as? [Any])?.count, 1)
        XCTAssertEqual((before["audit"] as? [[String: Any]])?.compactMap { $0["action"] as? String }, ["member.enroll", "member.set-pin"])
        for key in ["qualifying_months", "tier_grants", "tier_history", "holds", "redemptions", "transfers", "merged_members", "requests"] {
            XCTAssertNotNil(before[key] as? [Any], key)
        }

        XCTAssertEqual(try ctl("member", "erase", "ERIN").status, 2, "a reason is required")
        XCTAssertEqual(try ctl("member", "erase", "ERIN", "--reason", "GDPR art. 17 request 2026-118").status, 0)
        XCTAssertEqual(try connect().call(["AUTH", "member:ERIN", "2468"]).errorCode, "WRONGPASS")
        let after = try export("ERIN")
        let erased = try XCTUnwrap(after["member"] as? [String: Any])
        XCTAssertEqual(erased["name"] as? String, "")
        XCTAssertEqual(erased["email"] as? String, "")
        XCTAssertEqual(erased["pin_set"] as? Bool, false)
        XCTAssertEqual(erased["status"] as? String, "closed")
        XCTAssertNotNil(erased["erased_at"] as? String)
        XCTAssertEqual(erased["balance"] as? Int, 300, "the ledger and the balance stay for accounting")
        XCTAssertEqual((after["ledger_entries"] as? [Any])?.count, 1)
        XCTAssertEqual((after["signin_failures"] as? [Any])?.count, 0)
        let audit = try XCTUnwrap((after["audit"] as? [[String: Any]])?.last)
        XCTAssertEqual(audit["action"] as? String, "member.erase")
        XCTAssertEqual(audit["reason"] as? String, "GDPR art. 17 request 2026-118")
        XCTAssertFalse(try ctl("member", "export", "ERIN").stdout.contains("Erin"), "nothing personal is left")

        // Erased stays erased: no second erase, no new PIN, and the ledger still checks out.
        XCTAssertEqual(try ctl("member", "erase", "ERIN", "--reason", "again").status, 1)
        XCTAssertEqual(try Command.run("loyaltyctl", ["member", "set-pin", "ERIN", "--database", database.url], stdin: "2468\n").status, 1)
        XCTAssertEqual(try ctl("verify").status, 0)
        XCTAssertEqual(try ctl("member", "export", "NOBODY").status, 1)
        XCTAssertEqual(try ctl("member", "erase", "NOBODY", "--reason", "x").status, 1)
    }
}
