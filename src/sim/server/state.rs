//! The state every request handler shares: the simulation, the token, the runtime switches
//! (faults, port-forward denial), the resourceVersion counter and the shutdown signal.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

use super::objects::Clock;
use super::{Faults, SharedSimulation};
use crate::sim::traffic::Simulation;

/// Switches a test or scenario may flip while the server runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Controls {
    pub deny_portforward: bool,
    pub faults: Faults,
}

/// Who may call the server.
#[derive(Debug, Clone)]
pub struct Auth {
    pub token: String,
    pub allow_anonymous: bool,
}

/// The authenticated caller, put in the request extensions by the auth middleware.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum User {
    /// The kubeconfig's token user.
    Meshtop,
    /// No credentials, allowed by `allow_anonymous`.
    Anonymous,
}

impl User {
    /// The user name RBAC messages quote.
    pub fn name(self) -> &'static str {
        match self {
            Self::Meshtop => super::USER,
            Self::Anonymous => "system:anonymous",
        }
    }
}

/// Shared by all handlers behind an `Arc`.
pub struct ServerState {
    pub sim: SharedSimulation,
    pub auth: Auth,
    pub addr: SocketAddr,
    controls: Mutex<Controls>,
    revision: AtomicU64,
    epoch_unix: i64,
    stop: watch::Receiver<bool>,
}

/// Locks the simulation; a panic elsewhere while holding the lock does not take the server
/// down with it (the simulation has no invariants a half-finished tick could break for reads).
pub fn lock_simulation(sim: &Mutex<Simulation>) -> MutexGuard<'_, Simulation> {
    sim.lock().unwrap_or_else(PoisonError::into_inner)
}

impl ServerState {
    /// Anchors simulated time 0 so that the simulation's current time is `wall_unix` now.
    pub fn new(
        sim: SharedSimulation,
        auth: Auth,
        addr: SocketAddr,
        controls: Controls,
        wall_unix: i64,
        stop: watch::Receiver<bool>,
    ) -> Self {
        let now_secs = i64::try_from(lock_simulation(&sim).now_ms() / 1_000).unwrap_or(0);
        Self {
            sim,
            auth,
            addr,
            controls: Mutex::new(controls),
            revision: AtomicU64::new(1_000),
            epoch_unix: wall_unix - now_secs,
            stop,
        }
    }

    /// The simulation, locked. Never hold the guard across an `.await`.
    pub fn simulation(&self) -> MutexGuard<'_, Simulation> {
        lock_simulation(&self.sim)
    }

    /// The current switches.
    pub fn controls(&self) -> Controls {
        *self.controls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the switches.
    pub fn set_controls(&self, update: impl FnOnce(&mut Controls)) {
        update(&mut self.controls.lock().unwrap_or_else(PoisonError::into_inner));
    }

    /// A fresh, strictly increasing resourceVersion.
    pub fn next_revision(&self) -> u64 {
        self.revision.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The time mapping for the simulation's current instant.
    pub fn clock(&self, sim: &Simulation) -> Clock {
        let now_secs = i64::try_from(sim.now_ms() / 1_000).unwrap_or(i64::MAX);
        Clock {
            epoch_unix: self.epoch_unix,
            now_secs,
        }
    }

    /// Resolves when the server is shutting down (or already has).
    pub async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // An error means the sender is gone, which is a shutdown as well.
        let _ = stop.wait_for(|stopped| *stopped).await;
    }
}
