//! The Flexchain node.

mod chain_spec;
mod cli;
mod command;
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
