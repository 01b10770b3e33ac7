//! What each subcommand does.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use flexchain_runtime::Block;
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Flexchain Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://github.com/flexchain/flexchain/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"local" => Box::new(chain_spec::local_chain_spec()?),
			"" => return Err(NO_CHAIN.into()),
			path if path.ends_with(".toml") => Box::new(
				crate::network::Network::load(path)
					.and_then(|n| n.chain_spec())
					.map_err(|e| format!("network file: {e}"))?,
			),
			path => {
				let path = std::path::PathBuf::from(path);
				Box::new(
					chain_spec::ChainSpec::from_json_file(path.clone())
						.map_err(|e| format!("cannot load chain spec `{}`: {e}", path.display()))?,
				)
			},
		})
	}
}

/// What a node started without a chain is told: it does not guess one whose keys are
/// public.
pub const NO_CHAIN: &str = "no chain given: --dev for a development chain (one validator, \
	development keys), --chain local for a local test network of development keys, or \
	--chain <network>.toml (the parties' file, see network/example.toml) or --chain \
	<spec>.json (the raw chain spec the parties share) for a network of real parties";

/// An error as one line, whatever its source chain looks like.
pub fn one_line(e: &sc_cli::Error) -> String {
	let text = match e {
		sc_cli::Error::Input(s) => s.clone(),
		other => other.to_string(),
	};
	text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses the command line: help and version print and exit; a bad argument is
/// reported in one line with exit code 2.
fn parse() -> Cli {
	match Cli::try_from_iter(std::env::args_os()) {
		Ok(cli) => cli,
		Err(e) if !e.use_stderr() => e.exit(),
		Err(e) => {
			let rendered = e.render().to_string();
			let first = rendered.lines().next().unwrap_or("invalid arguments");
			let first = first.strip_prefix("error: ").unwrap_or(first);
			eprintln!("Error: {first} (see --help)");
			std::process::exit(2);
		},
	}
}

/// Makes a JSON-RPC port that is taken an error instead of a silent move to a random
/// port (what clients configured for 9944 would never find).
fn claim_rpc_ports(config: &mut sc_service::Configuration) -> sc_cli::Result<()> {
	for endpoint in config.rpc.addr.iter_mut().flatten() {
		endpoint.retry_random_port = false;
		if endpoint.is_optional {
			continue;
		}
		if let Err(e) = std::net::TcpListener::bind(endpoint.listen_addr) {
			return Err(sc_cli::Error::Input(format!(
				"JSON-RPC address {} is not available: {e}",
				endpoint.listen_addr
			)));
		}
	}
	Ok(())
}

/// Whether `key generate-node-key` was asked to write under a base path (its fields
/// are private, the arguments are not).
fn node_key_goes_to_a_base_path() -> bool {
	std::env::args()
		.any(|a| a == "--base-path" || a.starts_with("--base-path=") || a == "--default-base-path")
}

/// Parses the command line and runs what it asks for.
pub fn run() -> sc_cli::Result<()> {
	let cli = parse();
	// Addresses in this chain's format, in RPC parameters (`system_accountNextIndex`)
	// and in printed keys.
	sp_core::crypto::set_default_ss58_version(sp_core::crypto::Ss58AddressFormat::custom(
		flexchain_runtime::SS58_PREFIX,
	));

	match &cli.subcommand {
		Some(Subcommand::Key(sc_cli::KeySubcommand::GenerateNodeKey(cmd)))
			if cmd.chain.is_none() && !node_key_goes_to_a_base_path() =>
		{
			// A key written to `--file` or stdout belongs to no chain (there is no default
			// chain to take the id of); one under a base path still needs `--chain`.
			cmd.run("", &Cli::executable_name())
		},
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::Sign(cmd)) => cmd.run(),
		#[allow(deprecated)]
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		},
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let spec = cli.load_spec(&cmd.chain)?;
			cmd.run(spec)
		},
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		},
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		},
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					service::new_partial(&config)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		},
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		},
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					service::new_partial(&config)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		},
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => crate::benchmarking::run(&cli, cmd),
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		},
		None => {
			let runner = cli.create_runner(&cli.run)?;
			runner.run_node_until_exit(|mut config| async move {
				claim_rpc_ports(&mut config)?;
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => service::new_full::<
						sc_network::NetworkWorker<
							flexchain_runtime::opaque::Block,
							<flexchain_runtime::opaque::Block as sp_runtime::traits::Block>::Hash,
						>,
					>(config)
					.map_err(sc_cli::Error::Service),
					sc_network::config::NetworkBackendType::Litep2p => {
						service::new_full::<sc_network::Litep2pNetworkBackend>(config)
							.map_err(sc_cli::Error::Service)
					},
				}
			})
		},
	}
}
