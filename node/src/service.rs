//! The node's service: client, ParityDB backend, transaction pool, networking,
//! Aura block authoring, GRANDPA finality, off-chain workers and JSON-RPC.

use flexchain_runtime::{apis::RuntimeApi, opaque::Block};
use futures::FutureExt;
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_network::{service::traits::NetworkService, NotificationService, ProtocolName};
use sc_network_sync::SyncingService;
use sc_service::{error::Error as ServiceError, Configuration, Role, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryHandle, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_consensus_aura::sr25519::AuthorityPair as AuraPair;
use sp_keystore::{Keystore, KeystorePtr};
use std::{sync::Arc, time::Duration};
use substrate_prometheus_endpoint::Registry;

/// The full client.
pub(crate) type FullClient =
	sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
/// The host functions the runtime imports.
#[cfg(not(feature = "runtime-benchmarks"))]
pub type HostFunctions = sp_io::SubstrateHostFunctions;
/// The host functions the runtime imports; a runtime built for benchmarks also
/// imports the benchmarking ones, so that the same node can run a chain.
#[cfg(feature = "runtime-benchmarks")]
pub type HostFunctions =
	(sp_io::SubstrateHostFunctions, frame_benchmarking::benchmarking::HostFunctions);
type FullBackend = sc_service::TFullBackend<Block>;
type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
type BlockHash = <Block as sp_runtime::traits::Block>::Hash;
type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;
type GrandpaImport =
	sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>;

/// Blocks between GRANDPA justifications kept for warp sync.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// The parts of the service the subcommands need.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(
		GrandpaImport,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// Builds the client, backend, pool and import queue.
pub fn new_partial(config: &Configuration) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<HostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			vec![Arc::new(sc_consensus_grandpa::GrandpaPruningFilter)],
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let cidp_client = client.clone();
	let import_queue =
		sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
			block_import: grandpa_block_import.clone(),
			justification_import: Some(Box::new(grandpa_block_import.clone())),
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot =
						sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
							*timestamp,
							slot_duration,
						);
					Ok((slot, timestamp))
				}
			},
			spawner: &task_manager.spawn_essential_handle(),
			registry: config.prometheus_registry(),
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// Builds and starts the full node.
pub fn new_full<N: sc_network::NetworkBackend<Block, BlockHash>>(
	config: Configuration,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, mut telemetry),
	} = new_partial(&config)?;

	let mut net_config = sc_network::config::FullNetworkConfiguration::<Block, BlockHash, N>::new(
		&config.network,
		config.prometheus_registry().cloned(),
	);
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let (grandpa_protocol_name, grandpa_notification_service) =
		add_grandpa_protocol(&config, &client, &mut net_config, metrics.clone());

	let warp_sync = Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
		backend.clone(),
		grandpa_link.shared_authority_set().clone(),
		Vec::default(),
	));

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config: Some(WarpSyncConfig::WithProvider(warp_sync)),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	add_dev_solver_key(&config, &keystore_container.keystore())?;
	if config.offchain_worker.enabled {
		start_offchain_workers(OffchainParts {
			config: &config,
			client: client.clone(),
			backend: backend.clone(),
			keystore: keystore_container.keystore(),
			pool: transaction_pool.clone(),
			network: network.clone(),
			task_manager: &task_manager,
		})?;
	}

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();

	let rpc_extensions_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps { client: client.clone(), pool: pool.clone() };
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	let telemetry = telemetry.as_ref().map(|x| x.handle());
	if role.is_authority() {
		start_aura(AuraParts {
			task_manager: &task_manager,
			client,
			select_chain,
			block_import,
			pool: transaction_pool.clone(),
			keystore: keystore_container.keystore(),
			sync_service: sync_service.clone(),
			force_authoring,
			prometheus_registry: prometheus_registry.as_ref(),
			telemetry: telemetry.clone(),
		})?;
	}

	if enable_grandpa {
		start_grandpa(GrandpaParts {
			task_manager: &task_manager,
			name,
			role,
			keystore: keystore_container.keystore(),
			link: grandpa_link,
			protocol_name: grandpa_protocol_name,
			notification_service: grandpa_notification_service,
			network,
			sync_service,
			pool: transaction_pool,
			prometheus_registry,
			telemetry,
		})?;
	}

	Ok(task_manager)
}

/// On a development chain the market's solver signs with `//Alice//flex`, an account
/// of its own (endowed by the development preset), so that its transactions never
/// collide with Alice's nonce.
fn add_dev_solver_key(config: &Configuration, keystore: &KeystorePtr) -> Result<(), ServiceError> {
	if config.chain_spec.chain_type() != sc_service::ChainType::Development {
		return Ok(());
	}
	keystore
		.sr25519_generate_new(pallet_flex_market::offchain::KEY_TYPE, Some("//Alice//flex"))
		.map(drop)
		.map_err(|e| ServiceError::Other(format!("cannot add the solver's dev key: {e}")))
}

/// What the off-chain workers (the market's solver runs in them) are started with.
struct OffchainParts<'a> {
	config: &'a Configuration,
	client: Arc<FullClient>,
	backend: Arc<FullBackend>,
	keystore: KeystorePtr,
	pool: Arc<FullPool>,
	network: Arc<dyn NetworkService>,
	task_manager: &'a TaskManager,
}

/// Starts the off-chain workers, one run per imported block.
fn start_offchain_workers(p: OffchainParts<'_>) -> Result<(), ServiceError> {
	let offchain_workers = sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
		runtime_api_provider: p.client.clone(),
		is_validator: p.config.role.is_authority(),
		keystore: Some(p.keystore),
		offchain_db: p.backend.offchain_storage(),
		transaction_pool: Some(OffchainTransactionPoolFactory::new(p.pool)),
		network_provider: Arc::new(p.network),
		enable_http_requests: true,
		custom_extensions: |_| vec![],
	})?;
	p.task_manager.spawn_handle().spawn(
		"offchain-workers-runner",
		"offchain-worker",
		offchain_workers.run(p.client, p.task_manager.spawn_handle()).boxed(),
	);
	Ok(())
}

/// What Aura block authoring is started with.
struct AuraParts<'a> {
	task_manager: &'a TaskManager,
	client: Arc<FullClient>,
	select_chain: FullSelectChain,
	block_import: GrandpaImport,
	pool: Arc<FullPool>,
	keystore: KeystorePtr,
	sync_service: Arc<SyncingService<Block>>,
	force_authoring: bool,
	prometheus_registry: Option<&'a Registry>,
	telemetry: Option<TelemetryHandle>,
}

/// Starts authoring a block in each of this validator's Aura slots.
fn start_aura(p: AuraParts<'_>) -> Result<(), ServiceError> {
	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		p.task_manager.spawn_handle(),
		p.client.clone(),
		p.pool,
		p.prometheus_registry,
		p.telemetry.clone(),
	);
	let slot_duration = sc_consensus_aura::slot_duration(&*p.client)?;
	let aura =
		sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(StartAuraParams {
			slot_duration,
			client: p.client,
			select_chain: p.select_chain,
			block_import: p.block_import,
			proposer_factory,
			create_inherent_data_providers: move |_, ()| async move {
				let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
				let slot =
					sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
						*timestamp,
						slot_duration,
					);
				Ok((slot, timestamp))
			},
			force_authoring: p.force_authoring,
			backoff_authoring_blocks: None::<()>,
			keystore: p.keystore,
			sync_oracle: p.sync_service.clone(),
			justification_sync_link: p.sync_service,
			block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
			max_block_proposal_slot_portion: None,
			telemetry: p.telemetry,
			compatibility_mode: Default::default(),
		})?;
	// Block authoring is essential: if it fails, the node stops.
	p.task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	Ok(())
}

/// What the GRANDPA voter is started with.
struct GrandpaParts<'a> {
	task_manager: &'a TaskManager,
	name: String,
	role: Role,
	keystore: KeystorePtr,
	link: sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
	protocol_name: ProtocolName,
	notification_service: Box<dyn NotificationService>,
	network: Arc<dyn NetworkService>,
	sync_service: Arc<SyncingService<Block>>,
	pool: Arc<FullPool>,
	prometheus_registry: Option<Registry>,
	telemetry: Option<TelemetryHandle>,
}

/// Starts the GRANDPA voter: it votes on an authority and follows finality elsewhere.
fn start_grandpa(p: GrandpaParts<'_>) -> Result<(), ServiceError> {
	let config = sc_consensus_grandpa::Config {
		gossip_duration: Duration::from_millis(333),
		justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
		name: Some(p.name),
		observer_enabled: false,
		// Only an authority votes, so only an authority needs the keystore.
		keystore: p.role.is_authority().then_some(p.keystore),
		local_role: p.role,
		telemetry: p.telemetry.clone(),
		protocol_name: p.protocol_name,
	};
	let params = sc_consensus_grandpa::GrandpaParams {
		config,
		link: p.link,
		network: p.network,
		sync: Arc::new(p.sync_service),
		notification_service: p.notification_service,
		voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
		prometheus_registry: p.prometheus_registry,
		shared_voter_state: SharedVoterState::empty(),
		telemetry: p.telemetry,
		offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(p.pool),
	};
	// The voter is essential: if it fails, the node stops.
	p.task_manager.spawn_essential_handle().spawn_blocking(
		"grandpa-voter",
		None,
		sc_consensus_grandpa::run_grandpa_voter(params)?,
	);
	Ok(())
}

/// Adds GRANDPA's gossip protocol (named after the genesis hash) to the network's.
fn add_grandpa_protocol<N: sc_network::NetworkBackend<Block, BlockHash>>(
	config: &Configuration,
	client: &FullClient,
	net_config: &mut sc_network::config::FullNetworkConfiguration<Block, BlockHash, N>,
	metrics: sc_network::NotificationMetrics,
) -> (ProtocolName, Box<dyn NotificationService>) {
	let genesis = client.block_hash(0).ok().flatten().expect("Genesis block exists; qed");
	let name = sc_consensus_grandpa::protocol_standard_name(&genesis, &config.chain_spec);
	let (protocol_config, notification_service) =
		sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			name.clone(),
			metrics,
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(protocol_config);
	(name, notification_service)
}
