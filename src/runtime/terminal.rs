//! Terminal setup and teardown: raw mode, alternate screen, mouse capture. The terminal is
//! restored on every exit path — normal return and early `?` (the guard's `Drop`), and
//! panics (the hook installed by [`TerminalGuard::enter`] restores before the default hook
//! prints the message).
//!
//! Frames go through one buffer written out at the end of the frame (`Stdout` alone is
//! line-buffered with a 1 KiB buffer, so a full-screen redraw, which has no newline, left in a
//! dozen writes and a terminal could show half of it), bracketed by a synchronized update (DEC
//! mode 2026; terminals without it ignore the sequence). ratatui flushes at the end of its
//! draw, so the closing sequence follows in a second small write.

use std::io::{self, BufWriter, Stdout, Write};

use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use ratatui::crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::crossterm::{execute, queue};

pub type Tui = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

/// Room for a full redraw of a large terminal with colours in one write (a bigger frame is
/// still written whole, in more pieces, inside its synchronized update).
const FRAME_BUFFER: usize = 256 * 1024;

/// Owns the terminal while the TUI runs.
pub struct TerminalGuard {
    pub terminal: Tui,
}

impl TerminalGuard {
    /// Enters raw mode and the alternate screen and installs the restoring panic hook.
    pub fn enter() -> io::Result<TerminalGuard> {
        install_panic_hook();
        enable_raw_mode()?;
        let mut stdout = io::stdout();
        if let Err(e) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        let out = BufWriter::with_capacity(FRAME_BUFFER, stdout);
        let mut terminal = Terminal::new(CrosstermBackend::new(out))?;
        terminal.hide_cursor()?;
        terminal.clear()?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        // A frame cut short (an error or a panic while drawing) left its update open.
        let _ = queue!(self.terminal.backend_mut(), EndSynchronizedUpdate);
        let _ = self.terminal.show_cursor();
        restore();
    }
}

impl TerminalGuard {
    /// Draws one frame inside a synchronized update and writes it out in one piece.
    pub fn draw<F>(&mut self, render: F) -> io::Result<()>
    where
        F: FnOnce(&mut ratatui::Frame),
    {
        queue!(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        let drawn = self.terminal.draw(render).map(|_| ());
        // End the update even when drawing failed, so the terminal does not stay frozen.
        let ended = queue!(self.terminal.backend_mut(), EndSynchronizedUpdate)
            .and_then(|()| self.terminal.backend_mut().flush());
        drawn.and(ended)
    }
}

/// Ends an open synchronized update and leaves raw mode, the alternate screen and mouse
/// capture (idempotent). The panic hook calls it while a frame may be half written.
pub fn restore() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        EndSynchronizedUpdate,
        DisableMouseCapture,
        LeaveAlternateScreen
    );
    let _ = execute!(io::stdout(), ratatui::crossterm::cursor::Show);
}

fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}
