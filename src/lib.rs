//! # ruralgov
//!
//! An agent-based simulation of rural governance in China: villagers, elites, the village
//! party branch, the villagers' committee and the township government, with configurable
//! values (market versus traditional), migration and autonomy rules, and four policy paths
//! (legal services, public services, community culture, villagers' self-government) that act
//! only through mechanisms. See `docs/ODD.md` for the model and `docs/ARCHITECTURE.md` for
//! where each concern lives.
//!
//! ```
//! use ruralgov::scenario::Scenario;
//! let mut sc = Scenario::default();
//! sc.region.villages = 3;
//! sc.population.adults_per_village = 100;
//! sc.run.end_year = sc.run.start_year + 1;
//! let out = ruralgov::sim::run(&sc, 1, |_, _| {}).unwrap();
//! assert_eq!(out.metrics.len(), 12);
//! assert!(out.metrics[11].registered > 0.0);
//! ```
#![warn(missing_docs)]

pub mod bench;
pub mod calibration;
pub mod checkpoint;
pub mod columnar;
pub mod error;
pub mod experiment;
pub mod limits;
pub mod model;
pub mod numeric;
pub mod output;
pub mod report;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod session;
pub mod sim;
pub mod simd;
pub mod validate;

pub use error::{Error, Result};
