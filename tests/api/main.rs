//! Integration tests: the real server on a random port with a fresh data
//! directory, spoken to over HTTP. One test binary for all of them keeps
//! link time down.

mod accounts;
mod api;
mod audit;
mod catalog;
mod catalog_pages;
mod cli;
mod concurrency;
mod csrf;
mod csv;
mod demo;
mod digest;
mod dispatch;
mod edi_inbox;
mod headers;
mod helpers;
mod idempotency;
mod item_pages;
mod job_runtime;
mod jobs;
mod location_access;
mod lockout;
mod order_pages;
mod orders;
mod purchasing_pages;
mod receive_page;
mod roles;
mod second_factor;
mod sessions;
mod setup;
mod smtp_sink;
mod startup;
mod stock;
mod stock_pages;
mod tokens;
