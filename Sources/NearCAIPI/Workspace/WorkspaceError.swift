/// A workspace could not be created, opened or used: the workspace and the reason.
public struct WorkspaceError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The failures a caller may answer differently (a command line names its own command or
    /// option for them); every other failure is `.other`, told by the message.
    public enum Reason: Sendable, Equatable {
        /// No round has been trained yet, so there is no model to use.
        case noTrainedModel
        /// The initial training set asked for is not between 1 and `available` images.
        case initialTrainingOutOfRange(available: Int)
        /// Training was cancelled as asked; nothing was recorded.
        case trainingCancelled
        /// Another station of a server workspace is training a round or pretraining.
        case trainingElsewhere
        case other
    }

    public let path: String
    public let message: String
    public let reason: Reason

    public init(_ path: String, _ message: String, reason: Reason = .other) {
        self.path = path
        self.message = message
        self.reason = reason
    }

    /// No round trained yet at `path`.
    public static func noTrainedModel(_ path: String) -> WorkspaceError {
        WorkspaceError(path, "no trained model yet", reason: .noTrainedModel)
    }

    public var description: String { "\(path): \(message)" }
}
