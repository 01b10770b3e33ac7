//! The Flexchain node.

// `sc_cli::Error`, which the Substrate CLI's closures must return, is large.
#![allow(clippy::result_large_err)]

mod chain_spec;
mod cli;
mod command;
mod network;
mod rpc;
mod service;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;

fn main() {
	if let Err(e) = command::run() {
		// One line, no backtrace: what went wrong and a non-zero exit.
		eprintln!("Error: {}", command::one_line(&e));
		std::process::exit(1);
	}
}
