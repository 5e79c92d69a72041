//! The app: state, messages and the single writer. [`update`] is the only code that mutates
//! [`App`]; collectors, discovery, the terminal and the clock speak to it through [`Msg`], and
//! it answers with [`Effect`]s that the runtime performs (start pollers, write a snapshot file,
//! switch namespace, quit). Rendering (`ui`) only reads.
//!
//! UI side: may use ratatui's crossterm types for key events; must not do I/O or read the clock
//! (time arrives as `Msg::Tick`). To add a screen: a [`Focus`] variant, a view in `ui/views/`,
//! bindings in `keymap.rs`; to add a key: one [`Binding`](keymap::Binding) and, if new, an
//! [`Action`] arm in `update.rs`.

mod action;
mod keymap;
mod mesh;
mod row_keys;
mod table;
mod update;
mod view_state;

use std::path::PathBuf;
use std::time::Duration;

use ratatui::crossterm::event::{KeyEvent, MouseEvent};

pub use action::{Action, SortColumn};
pub use keymap::{Binding, KeyMap, Scope};
pub use mesh::{HISTORY_STATS, IstioState, MeshState, RebuildAt, SPARK_POINTS, Shown};
pub use row_keys::{RowKeys, RowKeysBuilder};
pub use table::{
    OverviewRow, OverviewRows, Ranked, RowOrder, cluster_severity, is_upstream, order_rows,
};
pub use update::update;
pub use view_state::{Filter, Focus, Input, TableCursor, ViewState, hint_panel_height};

use crate::collect::CollectorMsg;
use crate::kube::{IstioEvent, MeshPod, PodEvent};
use crate::metrics::Timestamp;

/// Where and how meshtop collects, and the look.
#[derive(Debug, Clone)]
pub struct Session {
    pub context: Option<String>,
    /// `None`: all namespaces.
    pub namespace: Option<String>,
    pub interval: Duration,
    /// The window rates and findings cover.
    pub window: Duration,
    /// Theme names, for `t` and `:theme` completion; `theme` indexes it.
    pub themes: Vec<String>,
    pub theme: usize,
    /// Known contexts and namespaces, for `:ctx` and `:ns` completion.
    pub contexts: Vec<String>,
    pub namespaces: Vec<String>,
    /// Why the namespaces could not be listed (RBAC), said when completion finds none.
    pub namespaces_error: Option<String>,
    /// Where `s` writes snapshots (`None`: the current directory).
    pub snapshot_dir: Option<PathBuf>,
}

impl Session {
    pub fn theme_name(&self) -> &str {
        self.themes
            .get(self.theme)
            .map_or("default", String::as_str)
    }
}

/// The status bar: the last message and whether it is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub error: bool,
}

/// The time as of the last tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Monotonic collector time.
    pub now: Timestamp,
    /// Wall-clock time, Unix milliseconds (for the header and snapshot names).
    pub unix_ms: u64,
}

/// The whole app state: each field a named sub-struct.
#[derive(Debug, Clone)]
pub struct App {
    pub mesh: MeshState,
    pub view: ViewState,
    pub session: Session,
    pub status: Status,
    pub clock: Clock,
    pub keymap: KeyMap,
    /// The overview's row order, kept by `update` (read it with [`App::overview_rows`]).
    pub rows: RowOrder,
    /// Set by `Quit`; the runtime stops after the effects of this update.
    pub quitting: bool,
}

impl App {
    pub fn new(mesh: MeshState, session: Session) -> Self {
        App {
            mesh,
            view: ViewState::default(),
            session,
            status: Status::default(),
            clock: Clock::default(),
            keymap: KeyMap::default(),
            rows: RowOrder::default(),
            quitting: false,
        }
    }
}

/// Everything that can happen to the app.
#[derive(Debug, Clone)]
pub enum Msg {
    Collector(CollectorMsg),
    /// Several collector messages, in the order they came (the TUI hands them over in
    /// batches: one wake-up of the app's thread per batch rather than per poll).
    Collected(Vec<CollectorMsg>),
    Pods(PodEvent),
    Istio(IstioEvent),
    /// Time passed: rebuild the snapshot if anything changed, and redraw.
    Tick {
        now: Timestamp,
        unix_ms: u64,
    },
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize {
        width: u16,
        height: u16,
    },
    /// The runtime wrote (or failed to write) a snapshot file.
    SnapshotWritten(Result<PathBuf, String>),
    /// Connected (again) after `:ns`/`:ctx`: collection starts over for this target.
    Connected {
        context: Option<String>,
        namespace: Option<String>,
    },
    /// `:ns`/`:ctx` could not connect; the previous connection keeps running.
    ConnectFailed(String),
    /// The cluster's namespaces (for `:ns` completion), or why they could not be listed.
    Namespaces(Result<Vec<String>, String>),
}

/// What the runtime must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Make the running pollers match these pods (the runtime plans with
    /// `collect::plan_pollers` and applies).
    SyncPollers(Vec<MeshPod>),
    /// Render the current screen offscreen and write the snapshot files.
    WriteSnapshot,
    /// Restart discovery and collection in another namespace.
    SwitchNamespace(String),
    /// Reconnect with another kubeconfig context.
    SwitchContext(String),
}
