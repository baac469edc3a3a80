@testable import NearCAIPI
import Testing

/// Workspace addresses as a person types them: a folder, or a server URL naming the workspace;
/// typos refused with what is wrong, passwords never shown.
@Suite struct WorkspaceAddressTests {
    @Test func foldersAndServerAddressesAreTold() throws {
        #expect(try WorkspaceAddress(parsing: "runs/line-3") == .folder("runs/line-3"))
        #expect(try WorkspaceAddress(parsing: "/srv/ws:2") == .folder("/srv/ws:2"))
        #expect(try WorkspaceAddress(parsing: "postgresql://ann@db.plant:5432/inspection?workspace=line-3")
                == .server(connection: "postgresql://ann@db.plant:5432/inspection", name: "line-3"))
        // Other libpq parameters stay for libpq; the name may be escaped.
        #expect(try WorkspaceAddress(parsing: "postgres://db/inspection?sslmode=require&workspace=line%2D3&connect_timeout=5")
                == .server(connection: "postgres://db/inspection?sslmode=require&connect_timeout=5", name: "line-3"))
    }

    @Test func malformedAddressesAreRefusedWithTheReason() {
        func refusal(_ text: String) -> String {
            do { _ = try WorkspaceAddress(parsing: text) } catch { return "\(error)" }
            return "accepted"
        }
        #expect(refusal("postgresql://ann:s3cret@db/inspection").contains("names no workspace"))
        #expect(!refusal("postgresql://ann:s3cret@db/inspection").contains("s3cret"))
        #expect(refusal("postgresql://ann:s3cret@db/inspection").contains("ann:***@db"))
        #expect(refusal("postgresql://db?workspace=w").contains("names no database"))
        #expect(refusal("postgresql://db/x?workspace=a&workspace=b").contains("names the workspace twice"))
        #expect(refusal("postgresql://db/x?workspace=a;b").contains("not a usable workspace name"))
        #expect(refusal("postgressql://db/x?workspace=a").contains("not a folder or a PostgreSQL address"))
    }

    @Test func aServerAddressIsShownWithoutItsPassword() throws {
        let address = try WorkspaceAddress(parsing: "postgresql://ann:s3cret@db.plant/inspection?workspace=w")
        #expect("\(address)" == "workspace 'w' on postgresql://ann:***@db.plant/inspection")
    }
}
