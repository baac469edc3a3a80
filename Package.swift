// swift-tools-version:6.0
// NearCAIPI — interactive, explainable OK/NOK inspection in the terminal.
// No Swift package dependencies: the toolchain and Debian's C libraries only (see Makefile).
import PackageDescription

let package = Package(
    name: "NearCAIPI",
    products: [
        .executable(name: "nearcaipi", targets: ["NearCAIPICommand"]),
    ],
    targets: [
        // MARK: C shims — one per system library.
        .systemLibrary(name: "CNCurses", path: "Sources/CNCurses",
                       providers: [.apt(["libncurses-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres",
                       providers: [.apt(["libpq-dev"])]),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL",
                       providers: [.apt(["libdnnl-dev"])]),
        .target(name: "CImageCodecs", path: "Sources/CImageCodecs",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]),

        // MARK: Libraries, lowest layer first.
        .target(name: "FileAccess"),
        .target(name: "SeededRandom"),
        .target(name: "Imaging", dependencies: ["CImageCodecs", "FileAccess"]),
        .target(name: "NeuralNet", dependencies: ["CBLAS", "CDNNL", "FileAccess", "SeededRandom"]),
        .target(name: "Storage", dependencies: ["CSQLite", "CPostgres"]),
        .target(name: "Explanations", dependencies: ["Imaging", "NeuralNet", "SeededRandom", "FileAccess"]),
        .target(name: "NearCAIPI", dependencies: ["Explanations", "NeuralNet", "Imaging", "Storage",
                                                  "FileAccess", "SeededRandom"]),
        .target(name: "SyntheticParts", dependencies: ["Imaging", "FileAccess", "SeededRandom"]),
        .target(name: "InspectorUI", dependencies: ["CNCurses", "Imaging", "Explanations", "NearCAIPI", "NeuralNet"]),

        // MARK: The executable: argument parsing and wiring only.
        .executableTarget(name: "NearCAIPICommand",
                          dependencies: ["NearCAIPI", "Imaging", "NeuralNet", "Explanations", "SyntheticParts",
                                         "InspectorUI", "FileAccess"]),

        // MARK: Tests.
        .target(name: "TestSupport", dependencies: ["Imaging"], path: "Tests/TestSupport"),
        .testTarget(name: "ImagingTests", dependencies: ["Imaging", "FileAccess", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "SeededRandom", "FileAccess"], exclude: ["Fixtures"]),
        .testTarget(name: "StorageTests", dependencies: ["Storage", "TestSupport"]),
        .testTarget(name: "ExplanationsTests", dependencies: ["Explanations", "Imaging", "NeuralNet", "SeededRandom", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "NearCAIPITests", dependencies: ["NearCAIPI", "Explanations", "NeuralNet", "Imaging", "Storage", "FileAccess", "SeededRandom",
                                                          "SyntheticParts", "TestSupport"]),
        .testTarget(name: "FileAccessTests", dependencies: ["FileAccess"]),
        .testTarget(name: "SyntheticPartsTests",
                    dependencies: ["SyntheticParts", "FileAccess", "Imaging", "TestSupport"]),
        .testTarget(name: "InspectorUITests", dependencies: ["InspectorUI", "NearCAIPI", "Imaging", "SyntheticParts", "TestSupport"], exclude: ["Snapshots"]),
        .testTarget(name: "NearCAIPICommandTests", dependencies: ["TestSupport", "Imaging", "FileAccess", "NearCAIPI"], exclude: ["Snapshots"]),
    ]
)
