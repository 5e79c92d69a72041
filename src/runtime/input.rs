//! Terminal input and time: a thread that reads keys, mouse and resize events from the
//! terminal, and a tokio task that sends `Msg::Tick` every second. Both stop when the app's
//! channel closes or [`Input::stop`] is called.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ratatui::crossterm::event::{self, Event, KeyEventKind};
use tokio::sync::mpsc;

use crate::app::Msg;
use crate::collect::MonotonicClock;

/// How often the screen refreshes and the snapshot is rebuilt.
pub const TICK: Duration = Duration::from_secs(1);

/// Handles of the input thread and the tick task.
pub struct Input {
    stop: Arc<AtomicBool>,
    tick: tokio::task::JoinHandle<()>,
}

impl Input {
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.tick.abort();
    }
}

/// Wall-clock now in Unix milliseconds (0 if the clock is before 1970).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| u64::try_from(d.as_millis()).ok())
        .unwrap_or(0)
}

/// Starts the input thread and the tick task.
pub fn spawn(tx: mpsc::Sender<Msg>, clock: MonotonicClock) -> Input {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let keys = tx.clone();
    std::thread::spawn(move || read_terminal(&keys, &flag));
    let tick = tokio::spawn(async move {
        let mut interval = tokio::time::interval(TICK);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            interval.tick().await;
            let msg = Msg::Tick {
                now: clock.now(),
                unix_ms: unix_ms(),
            };
            if tx.send(msg).await.is_err() {
                break;
            }
        }
    });
    Input { stop, tick }
}

/// How long the input thread waits for an event before it looks at the stop flag again. Only
/// quitting sets the flag and nothing waits for the thread, so this can be long; each wake-up
/// costs (at five a second, about 2 % of the idle TUI's CPU). After quitting, the thread may
/// read one more event from the restored terminal for up to this long before it stops.
const STOP_CHECK: Duration = Duration::from_secs(1);

/// Polls the terminal (so `stop` is noticed within [`STOP_CHECK`]) and forwards events.
fn read_terminal(tx: &mpsc::Sender<Msg>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match event::poll(STOP_CHECK) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(_) => break,
        }
        let msg = match event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => Msg::Key(k),
            Ok(Event::Mouse(m)) => Msg::Mouse(m),
            Ok(Event::Resize(width, height)) => Msg::Resize { width, height },
            Ok(_) => continue,
            Err(_) => break,
        };
        if tx.blocking_send(msg).is_err() {
            break;
        }
    }
}
