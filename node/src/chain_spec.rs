//! Chain specifications: `dev` and `local`, built from the runtime's presets, and a
//! network of real parties from its file ([`crate::network`]).

use flexchain_runtime::{SS58_PREFIX, TOKEN_DECIMALS, TOKEN_SYMBOL, WASM_BINARY};
use sc_service::{ChainType, Properties};

/// A chain specification of this node.
pub type ChainSpec = sc_service::GenericChainSpec;

/// The chain's token and address format, for wallets.
pub(crate) fn properties() -> Properties {
	let mut p = Properties::new();
	p.insert("tokenSymbol".into(), TOKEN_SYMBOL.into());
	p.insert("tokenDecimals".into(), TOKEN_DECIMALS.into());
	p.insert("ss58Format".into(), SS58_PREFIX.into());
	p
}

/// The runtime built into the node.
pub(crate) fn wasm() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"the node was built without the WASM runtime (SKIP_WASM_BUILD was set)".to_string()
	})
}

/// One validator (Alice) and the pilot's cast, development keys only (preset
/// `development`).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Flexchain Development")
		.with_id("flexchain_dev")
		.with_chain_type(ChainType::Development)
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}

/// Three validators of development keys (preset `local_testnet`).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm()?, None)
		.with_name("Flexchain Local Testnet")
		.with_id("flexchain_local")
		.with_chain_type(ChainType::Local)
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.with_properties(properties())
		.build())
}
