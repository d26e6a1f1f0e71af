//! The headless engine: everything that computes, nothing that draws.

pub mod bench;
pub mod data;
pub mod device;
pub mod error;
pub mod export;
pub mod final_net;
pub mod fuzz;
pub mod memory;
pub mod ops;
pub mod search;
pub mod session;
pub mod signals;
pub mod space;
pub mod supernet;
pub mod trainer;
pub mod workers;
pub mod yardstick;

pub use error::{NasError, Result};
