//! One file per screen (overview, cluster drill-down, pods, help) plus the parts they share:
//! the header and footer every screen has, the overview's cells and hint panel, and how a
//! finding reads. Views only read the `App` and ask the `Theme` for styles; they never read the
//! clock or do I/O. To add a screen: a file here, a `Focus` variant and an arm in `ui::draw`.

pub mod cluster;
mod cluster_config;
mod cluster_health;
mod cluster_server;
pub mod finding;
pub mod footer;
pub mod header;
pub mod help;
pub mod hints;
pub mod overview;
pub mod overview_cells;
pub mod pods;
