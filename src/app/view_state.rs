//! UI state only — focus, selection, scroll, filter, sort, pause. Domain state (counters,
//! config, findings) lives in `MeshState`; the two never share a struct.

use regex::Regex;

use super::action::SortColumn;

/// The screen in front.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Focus {
    /// The upstream-cluster table with the hint panel.
    Overview,
    /// One cluster in depth (`Enter` on a row).
    Cluster,
    /// Every sidecar with its pod and scrape state.
    Pods,
    /// The key bindings (`?`).
    Help,
}

impl Focus {
    pub fn title(self) -> &'static str {
        match self {
            Focus::Overview => "upstream clusters",
            Focus::Cluster => "cluster",
            Focus::Pods => "pods",
            Focus::Help => "help",
        }
    }
}

/// What the bottom line is being typed into.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Input {
    #[default]
    None,
    /// `/` regex filter being typed.
    Filter(String),
    /// `:` command being typed.
    Command(String),
}

/// Selection and scroll of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableCursor {
    pub selected: usize,
    /// First row shown.
    pub offset: usize,
}

impl TableCursor {
    /// Moves the selection by `delta` rows within `rows`, keeping it visible in `height` rows.
    pub fn step(&mut self, delta: isize, rows: usize, height: usize) {
        if rows == 0 {
            *self = TableCursor::default();
            return;
        }
        let last = rows - 1;
        let target = (self.selected as isize)
            .saturating_add(delta)
            .clamp(0, last as isize);
        self.selected = target as usize;
        self.keep_visible(rows, height);
    }

    /// Clamps the selection to `rows` and scrolls so it is within `height` rows.
    pub fn keep_visible(&mut self, rows: usize, height: usize) {
        let height = height.max(1);
        self.selected = self.selected.min(rows.saturating_sub(1));
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + height {
            self.offset = self.selected + 1 - height;
        }
        self.offset = self.offset.min(rows.saturating_sub(height));
    }
}

/// An applied `/` filter: the text and its compiled regex (case-insensitive).
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    pub regex: Regex,
}

impl Filter {
    /// Compiles `text`; the error names the problem in the pattern.
    pub fn new(text: &str) -> Result<Filter, String> {
        regex::RegexBuilder::new(text)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map(|regex| Filter {
                text: text.to_string(),
                regex,
            })
            .map_err(|e| format!("bad filter /{text}/: {e}"))
    }

    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

/// Every piece of UI state.
#[derive(Debug, Clone)]
pub struct ViewState {
    pub focus: Focus,
    /// Where `Esc` goes back to.
    pub back: Vec<Focus>,
    pub input: Input,
    pub filter: Option<Filter>,
    pub sort: SortColumn,
    pub overview: TableCursor,
    pub pods: TableCursor,
    /// The cluster shown by the drill-down (its Envoy name).
    pub detail: Option<String>,
    /// Scroll of the drill-down and help text, in lines.
    pub scroll: u16,
    /// The view is frozen (collection continues).
    pub paused: bool,
    /// Terminal size (columns, rows).
    pub size: (u16, u16),
}

impl Default for ViewState {
    fn default() -> Self {
        ViewState {
            focus: Focus::Overview,
            back: Vec::new(),
            input: Input::None,
            filter: None,
            sort: SortColumn::Severity,
            overview: TableCursor::default(),
            pods: TableCursor::default(),
            detail: None,
            scroll: 0,
            paused: false,
            size: (120, 40),
        }
    }
}

impl ViewState {
    /// Rows available to a table body at the current size: the screen minus header (3),
    /// table header (1), hint panel and footer. Views use the same layout (`ui::layout`).
    pub fn table_height(&self) -> usize {
        let rows = self.size.1 as usize;
        match self.focus {
            Focus::Overview => rows.saturating_sub(3 + 1 + hint_panel_height(self.size.1) + 2),
            _ => rows.saturating_sub(3 + 1 + 2),
        }
        .max(1)
    }

    /// Opens `focus`, remembering where `Esc` returns to.
    pub fn open(&mut self, focus: Focus) {
        if self.focus != focus {
            self.back.push(self.focus);
            self.focus = focus;
            self.scroll = 0;
        }
    }

    /// Goes back one screen; `false` when already at the overview.
    pub fn close(&mut self) -> bool {
        match self.back.pop() {
            Some(f) => {
                self.focus = f;
                self.scroll = 0;
                true
            }
            None => false,
        }
    }
}

/// Height of the overview's hint panel for a terminal of `rows` rows (a third, 6–14 rows).
pub fn hint_panel_height(rows: u16) -> usize {
    (rows as usize / 3).clamp(6, 14)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_moves_within_rows_and_keeps_the_selection_visible() {
        let mut c = TableCursor::default();
        c.step(5, 3, 10);
        assert_eq!(
            c,
            TableCursor {
                selected: 2,
                offset: 0
            }
        );
        c.step(-10, 3, 10);
        assert_eq!(c.selected, 0);
        let mut c = TableCursor::default();
        c.step(15, 100, 10);
        assert_eq!(
            c,
            TableCursor {
                selected: 15,
                offset: 6
            }
        );
        c.keep_visible(4, 10);
        assert_eq!(
            c,
            TableCursor {
                selected: 3,
                offset: 0
            }
        );
    }

    #[test]
    fn filters_are_case_insensitive_and_bad_ones_say_why() {
        let f = Filter::new("INVENTORY").unwrap();
        assert!(f.matches("inventory-svc.prod:8080"));
        let err = Filter::new("(").unwrap_err();
        assert!(err.starts_with("bad filter /(/: "), "{err}");
    }
}
