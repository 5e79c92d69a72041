//! Domain-agnostic building blocks of the screens: key hints for the footer, text sparklines,
//! compact number formats, responsive table columns and word wrapping. Nothing here knows
//! about Envoy or Istio, and nothing picks a colour: callers pass the theme's styles in.

pub mod columns;
pub mod key_hints;
pub mod number;
pub mod spark;
pub mod wrap;

pub use columns::Column;
pub use key_hints::KeyHints;
pub use spark::{Spark, spark_text};
