//! `Action`: what the user wants, independent of the key that asked for it. Only the keymap
//! knows keys; `update` and the views only see actions.

/// A column the overview table can be sorted by (`Shift+letter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortColumn {
    /// Worst finding first (the default).
    Severity,
    Destination,
    Requests,
    Timeouts,
    Destroyed,
    Errors,
    Latency,
}

impl SortColumn {
    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Severity => "severity",
            SortColumn::Destination => "destination",
            SortColumn::Requests => "rq/s",
            SortColumn::Timeouts => "timeouts/s",
            SortColumn::Destroyed => "cx destroyed/s",
            SortColumn::Errors => "5xx/s",
            SortColumn::Latency => "p99",
        }
    }
}

/// One user intent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Quit,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    /// Drill into the selected row.
    Open,
    /// Leave the current screen, input or filter.
    Back,
    /// Start typing a `/` regex filter.
    StartFilter,
    /// Start typing a `:` command.
    StartCommand,
    /// A character typed into the filter or command line.
    Type(char),
    /// Delete the last typed character.
    Erase,
    /// Complete the command line (`:theme da` → `:theme dark`).
    Complete,
    /// Run the typed filter or command.
    Submit,
    SortBy(SortColumn),
    /// Freeze the view; collection continues.
    TogglePause,
    /// Write a postmortem snapshot of the current screen.
    Snapshot,
    NextTheme,
    ShowHelp,
    ShowPods,
    /// Mouse: select the overview row at this screen row.
    ClickRow(u16),
    ScrollUp,
    ScrollDown,
}
