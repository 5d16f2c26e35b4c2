import Foundation
import Glibc
import LoyaltyTesting
import XCTest

/// The scripts behind `make run` and `make test`, as a newcomer runs them.
final class LocalScriptTests: XCTestCase {
    /// As root in a clone under a 0700 directory (root's home, `mktemp -d`): the `postgres` user
    /// the cluster runs as cannot reach the checkout, so its data must go elsewhere.
    func testPgShStartsAClusterForACheckoutUnderAPrivateDirectory() throws {
        guard getuid() == 0 else { throw XCTSkip("only root runs PostgreSQL as another user") }
        let port = try PrivateCluster.freePort()
        let output = try PrivateCluster.shell("""
            set -euo pipefail
            private=$(mktemp -d)
            [ "$(stat -c %a "$private")" = 700 ]
            mkdir "$private/checkout" && cd "$private/checkout"
            trap '"\(PrivateCluster.pgScript)" stop .loyalty/test-pg; rm -rf "$(readlink -f .loyalty/test-pg)"* "$private"' EXIT
            url=$("\(PrivateCluster.pgScript)" start .loyalty/test-pg \(port))
            psql "$url" -qtAc 'select 6 * 7'
            """)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "42")
    }
}
