//! The trainer: a thread that owns the supernet and the data, takes commands and streams
//! events over bounded channels (see [`protocol`]).

pub mod budget;
pub mod checkpoint;
pub mod config;
pub mod control;
pub mod engine;
pub mod epoch;
pub mod fault;
pub mod protocol;
pub mod recover;
pub mod replay;
pub mod score;
pub mod score_group;
pub mod signals;
pub mod standalone;
pub mod step_reads;
pub mod train;

pub use config::{RoundConfig, Sampling};
pub use engine::{Engine, EngineHandle, EngineSetup};
pub use fault::Fault;
pub use protocol::{Command, Event};
