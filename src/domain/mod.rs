//! Pure types and rules with no I/O: validated newtypes that the rest of the
//! program can trust once they exist (`Username::parse`, `Password::parse`, …).

pub mod actor;
pub mod approval;
pub mod barcode;
pub mod ledger;
pub mod money;
pub mod order;
pub mod password;
pub mod refusal;
pub mod role;
pub mod schedule;
pub mod spreadsheet;
pub mod time;
pub mod username;
pub mod words;

pub use password::{NewPassword, PasswordProblem};
pub use role::{Permission, Role};
pub use time::{Clock, ManualClock, SystemClock, Timestamp};
pub use username::Username;
