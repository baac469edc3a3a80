import FileAccess
import Imaging

/// One file of a data set as the product reads it: the bytes (for the content hash) and
/// the decoded image, or why the file cannot be used, in words. `init` indexes what this
/// reads and `scan` reports it, so the two always say the same about every file.
public struct DatasetFile: Sendable {
    /// The file's bytes; nil when the file system refused them.
    public let bytes: [UInt8]?
    /// The decoded image; nil when the file cannot be used.
    public let decoded: DecodedImage?
    /// Why the file cannot be used, without its path ("corrupt image: …"); nil when it can.
    public let problem: String?

    /// Reads and decodes `path` (relative to the data set `root`).
    public init(_ path: String, root: String) {
        do {
            bytes = try BinaryFile.read("\(root)/\(path)", limit: ImageFile.maxFileBytes)
        } catch {
            bytes = nil
            decoded = nil
            problem = Self.reason(error)
            return
        }
        do {
            decoded = try ImageFile.decode(bytes!, name: path)
            problem = nil
        } catch {
            decoded = nil
            problem = "\(error.reason)"
        }
    }

    /// The defect mask at `path` (relative to `root`) as `init` stores it: thresholded at ½,
    /// nil when empty, since an all-zero mask means "no mask". Throws when it cannot be decoded.
    public static func mask(_ path: String, root: String) throws(ImageFileError) -> BinaryMask? {
        let found = BinaryMask(thresholding: try ImageFile.read("\(root)/\(path)").image)
        return found.isEmpty ? nil : found
    }

    /// The file system's refusal in words, without the path: the path is said beside it.
    private static func reason(_ error: FileAccessError) -> String {
        switch error.reason {
        case .cannotRead: "cannot read: \(error.systemMessage ?? "unreadable")"
        case .notARegularFile: "not a regular file"
        case .tooLarge(let bytes, let limit): "file is \(bytes) bytes, more than the limit of \(limit)"
        case .cannotWrite: "cannot read: \(error.systemMessage ?? "unreadable")"
        }
    }
}
