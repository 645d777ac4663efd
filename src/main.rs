//! The `stockroom` binary: parse the command line and hand over.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = stockroom::cli::Cli::parse();
    // The one place the environment is read; everything below gets Config.
    stockroom::cli::run(cli, std::env::vars().collect())
}
