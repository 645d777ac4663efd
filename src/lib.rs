//! stockroom: the supply-room system of a small medical practice.
//!
//! One binary serves server-rendered pages and a JSON API from an embedded
//! SQLite database. `main.rs` only parses the command line; everything else
//! lives here so that tests can start the real application on a random port
//! with a temporary data directory (see [`startup::Application`]).

pub mod accounts;
#[cfg(test)]
mod architecture;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod csv_io;
pub mod db;
pub mod demo;
pub mod dispatch;
pub mod domain;
pub mod jobs;
pub mod mail;
pub mod notify;
pub mod orders;
pub mod outbound;
pub mod practice;
pub mod startup;
pub mod stock;
pub mod telemetry;
pub mod validation;
pub mod web;
