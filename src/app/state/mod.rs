//! The data the views read, as resources, components and messages: the candidates and the
//! template (folded from the engine's events), what the engine is doing and the next round's
//! settings, the selection and how the scene is seen, the signal that ranks candidates, block
//! statistics, what the analyst chose to look at (view, rounds, Lego selection, the pane
//! arrangement), the final network's candidate, the session's set-up and a new session
//! asked for in full. It imports only the link (and itself).

pub mod block_stats;
pub mod candidates;
pub mod final_choice;
pub mod lego_state;
pub mod new_session;
pub mod next_round;
pub mod panes;
pub mod pick;
pub mod run_state;
pub mod scene_view;
pub mod selection;
pub mod session_control;
pub mod signal_choice;
pub mod template;
pub mod view_choice;
