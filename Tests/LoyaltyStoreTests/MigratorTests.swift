import Foundation
import LoyaltyCore
@testable import LoyaltyStore
import LoyaltyTesting
import XCTest

/// `loyaltyctl migrate`: re-running is a no-op, an edited applied file is refused loudly.
final class MigratorTests: StoreTestCase {
    private var folder: URL!

    /// A copy of Migrations/ to edit.
    override func setUpWithError() throws {
        try super.setUpWithError()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID().uuidString)")
        try FileManager.default.copyItem(atPath: TestDatabase.migrationsDirectory(), toPath: folder.path)
    }

    override func tearDown() {
        if let folder { try? FileManager.default.removeItem(at: folder) }
        super.tearDown()
    }

    private func file(_ prefix: String) throws -> URL {
        let name = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasPrefix(prefix) })
        return folder.appendingPathComponent(name)
    }

    private func migrate(actor: Principal? = nil) throws -> [String] {
        let conn = try database.connect()
        defer { conn.close() }
        return try Migrator(directory: folder.path).migrate(conn, actor: actor)
    }

    private func status() throws -> [MigrationStatus] {
        let conn = try database.connect()
        defer { conn.close() }
        return try Migrator(directory: folder.path).status(conn)
    }

    func testReRunningIsANoOp() throws {
        let recorded = try sql("SELECT version, checksum, applied_at::text FROM schema_migrations ORDER BY version").rows.map { $0[2] }
        XCTAssertEqual(try migrate(), [])
        XCTAssertEqual(try migrate(), [])
        XCTAssertEqual(try sql("SELECT version, checksum, applied_at::text FROM schema_migrations ORDER BY version").rows.map { $0[2] },
                       recorded)
        let states = try status()
        XCTAssertFalse(states.isEmpty)
        XCTAssertTrue(states.allSatisfy { $0.state == .applied && $0.appliedAt != nil }, "\(states)")
    }

    func testAnEditedAppliedMigrationIsRefusedAndShownAsModified() throws {
        let edited = try file("0003_")
        try (String(contentsOf: edited, encoding: .utf8) + "\n-- a harmless looking edit\n").write(to: edited, atomically: true, encoding: .utf8)
        try "CREATE TABLE should_not_exist (id int);\n".write(to: folder.appendingPathComponent("0999_new.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try migrate()) { error in
            let error = error as? LoyaltyError
            XCTAssertEqual(error?.code, .conflict)
            XCTAssertTrue(error?.message.contains("0003_") == true, error?.message ?? "")
            XCTAssertTrue(error?.message.contains("edited") == true, error?.message ?? "")
        }
        // Refused as a whole: the pending migration after it was not applied either.
        XCTAssertEqual(try sql("SELECT to_regclass('should_not_exist') IS NULL AS absent").first?["absent"], "t")
        let states = try status()
        XCTAssertEqual(states.first { $0.name.hasPrefix("0003_") }?.state, .modified)
        XCTAssertEqual(states.first { $0.version == 999 }?.state, .pending)
        XCTAssertEqual(states.filter { $0.state == .applied }.count, states.count - 2)
    }

    func testANewMigrationIsAppliedOnceAndAMissingFileIsReported() throws {
        try "CREATE TABLE added_later (id int);\n".write(to: folder.appendingPathComponent("0999_added_later.sql"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try status().last?.state, .pending)
        XCTAssertEqual(try migrate(), ["0999_added_later"])
        XCTAssertEqual(try migrate(), [])
        XCTAssertEqual(try status().last?.state, .applied)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("0999_added_later.sql"))
        XCTAssertEqual(try status().last?.state, .missingFile)
    }

    func testAFileNotNamedByNumberIsAnError() throws {
        try "SELECT 1;\n".write(to: folder.appendingPathComponent("extra.sql"), atomically: true, encoding: .utf8)
        XCTAssertLoyaltyError(try Migrator(directory: folder.path), .invalid)
    }

    func testAFileNumberedBelowTheNewestAppliedIsRefusedAndNothingIsApplied() throws {
        let newest = try XCTUnwrap(status().last?.version)
        let gap = try XCTUnwrap((1..<newest).first { version in !(try status().contains { $0.version == version }) },
                               "Migrations/ has no free number below the newest")
        try "CREATE TABLE written_late (id int);\n".write(to: folder.appendingPathComponent(String(format: "%04d_written_late.sql", gap)),
                                                      atomically: true, encoding: .utf8)
        try "CREATE TABLE should_not_exist (id int);\n".write(to: folder.appendingPathComponent("0999_new.sql"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try migrate()) { error in
            XCTAssertEqual((error as? LoyaltyError)?.code, .conflict)
            XCTAssertTrue((error as? LoyaltyError)?.message.contains("written_late is numbered below") == true, "\(error)")
        }
        XCTAssertEqual(try sql("SELECT to_regclass('written_late') IS NULL AND to_regclass('should_not_exist') IS NULL AS absent")
            .first?["absent"], "t")
    }

    func testWhatAnActorMigratesIsInTheAuditTrail() throws {
        try "CREATE TABLE added_later (id int);\n".write(to: folder.appendingPathComponent("0999_added_later.sql"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try migrate(actor: .admin(user: "ops")), ["0999_added_later"])
        XCTAssertEqual(try migrate(actor: .admin(user: "ops")), [])
        let rows = try sql("SELECT actor, details->>'applied' AS applied FROM audit_log WHERE action = 'migrate'").rows
        XCTAssertEqual(rows.map { [$0["actor"], $0["applied"]] }, [["admin:ops", "0999_added_later"]])
    }
}
