import NearCAIPI

/// Options that several verbs take with the same meaning, declared once for all of them.
enum SharedParameters {
    /// How the data set's folders are laid out (scan, init, simulate, eval-explanations).
    static let layout = Option<WorkspaceOptions.Layout>(
        name: "--layout", placeholder: "NAME", help: "the data set's layout", format: .choice,
        default: WorkspaceOptions().layout)

    /// The class folders of the folders layout; repeatable, so several folders can make a class.
    static let okFolders = Option<[String]>(
        name: "--ok", placeholder: "NAMES", help: "comma-separated OK class folder names (folders layout), repeatable",
        format: .names, default: WorkspaceOptions().okFolders, repeatable: true)
    static let nokFolders = Option<[String]>(
        name: "--nok", placeholder: "NAMES", help: "comma-separated NOK class folder names (folders layout), repeatable",
        format: .names, default: WorkspaceOptions().nokFolders, repeatable: true)
}
