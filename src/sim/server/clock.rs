//! The virtual clock driver: in real-time mode a task advances the simulation to
//! `start + elapsed_real_ms × speed` every tick; in manual mode nothing moves the clock
//! except the owner calling `Simulation::advance_to` (tests).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use super::SharedSimulation;
use super::state::{ServerState, lock_simulation};

/// How simulated time moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClockMode {
    /// Simulated time follows real time, `speed` times faster (1.0 = real time).
    Realtime { speed: f64 },
    /// Simulated time moves only when the owner advances the simulation.
    Manual,
}

/// How often (real time) the real-time driver advances the simulation.
const TICK: Duration = Duration::from_millis(100);

/// Starts the driver for `mode`; `None` in manual mode.
pub fn spawn_driver(mode: ClockMode, state: Arc<ServerState>) -> Option<JoinHandle<()>> {
    match mode {
        ClockMode::Manual => None,
        ClockMode::Realtime { speed } => Some(tokio::spawn(drive(state, speed.max(0.0)))),
    }
}

async fn drive(state: Arc<ServerState>, speed: f64) {
    let start = Instant::now();
    let base_ms = state.simulation().now_ms();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = state.stopped() => return,
        }
        let target = base_ms.saturating_add(virtual_elapsed_ms(start.elapsed(), speed));
        let sim: SharedSimulation = state.sim.clone();
        // Advancing thousands of pods is CPU work: keep it off the async workers.
        let advanced =
            tokio::task::spawn_blocking(move || lock_simulation(&sim).advance_to(target)).await;
        if advanced.is_err() {
            return;
        }
    }
}

/// Simulated milliseconds for `elapsed` real time at `speed`.
fn virtual_elapsed_ms(elapsed: Duration, speed: f64) -> u64 {
    // Saturating float-to-int conversion; negative or NaN speeds give 0.
    (elapsed.as_secs_f64() * 1_000.0 * speed) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_scales_with_speed() {
        assert_eq!(virtual_elapsed_ms(Duration::from_millis(1_500), 1.0), 1_500);
        assert_eq!(
            virtual_elapsed_ms(Duration::from_millis(1_500), 10.0),
            15_000
        );
        assert_eq!(virtual_elapsed_ms(Duration::from_secs(2), 0.5), 1_000);
        assert_eq!(virtual_elapsed_ms(Duration::from_secs(2), f64::NAN), 0);
    }
}
