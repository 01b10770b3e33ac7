//! The demonstration chain's genesis: what a council would otherwise vote in (the
//! runtime has no sudo), set before the first block. The market clock runs `scale`
//! times faster from the chain's first block, the market's parameters are the demo's,
//! the pilot's DSO operates its location with its metering oracle, and the cast is
//! endowed. It is a patch over a chain specification's `genesis.runtimeGenesis.patch`
//! (from `flexchain-node build-spec`), so the preset's validators, council and
//! accounts stay as they are.

use crate::{context::Cast, market::UNIT, scenario::Scenario};
use anyhow::{bail, Context, Result};
use flex_bridge::{chain::ss58, metering::MINUTE_MS};
use serde_json::{json, Value};

/// The pilot DSO's location on the demonstration chain.
pub const LOCATION: u32 = 2;
/// Its name.
pub const LOCATION_NAME: &str = "Eskisehir OEDAS LV-1";
/// What each member of the cast starts with, planks.
pub const ENDOWMENT: u128 = 1_000 * UNIT;
/// The SS58 format the runtime's genesis JSON reads (the generic one).
const GENESIS_SS58: u16 = 42;

/// What the demonstration adds to a chain's genesis.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoGenesis {
	/// Market ms per chain ms from the first block.
	pub clock_scale: u32,
	/// The market's parameters (`MarketParams` as the genesis JSON takes them).
	pub params: Value,
	/// The DSO: its account, its location, its metering oracles (SS58).
	pub dso: (String, (u32, String), Vec<String>),
	/// Accounts endowed with [`ENDOWMENT`] (SS58).
	pub endowed: Vec<String>,
}

fn address(key: &[u8; 32]) -> String {
	ss58::encode(key, GENESIS_SS58)
}

/// A share in percent as the parts per billion of a `Perbill`.
fn perbill(percent: u32) -> u32 {
	percent * 10_000_000
}

/// The market parameters of a demonstration: a 10-minute settlement grace, a week's
/// retention and horizon, the scenario's penalty, the usual deposits, no price cap.
pub fn params(sc: &Scenario) -> Value {
	let (threshold, rate) = sc.penalty.unwrap_or((0, 0));
	let week = 7 * 24 * 60 * MINUTE_MS;
	json!({
		"settlementGraceMs": 10 * MINUTE_MS,
		"retentionMs": week,
		"penaltyThreshold": perbill(threshold),
		"penaltyRate": perbill(rate),
		"requestDeposit": (UNIT / 10) as u64,
		"assetDeposit": (UNIT / 10) as u64,
		"fspDeposit": UNIT as u64,
		"solutionMargin": 0,
		"priceCap": null,
		"horizonMs": week,
	})
}

/// The genesis of a demonstration of `sc` with the market clock at `scale`.
pub fn demo(sc: &Scenario, scale: u32, cast: &Cast) -> DemoGenesis {
	let key = |k: &subxt_signer::sr25519::Keypair| address(&k.public_key().0);
	let endowed = [&cast.dso, &cast.oracle].into_iter().chain(&cast.fsps).map(key).collect();
	DemoGenesis {
		clock_scale: scale,
		params: params(sc),
		dso: (key(&cast.dso), (LOCATION, LOCATION_NAME.into()), vec![key(&cast.oracle)]),
		endowed,
	}
}

/// The array at `field` of `object`, created empty if absent.
fn array<'a>(object: &'a mut Value, field: &str) -> Result<&'a mut Vec<Value>> {
	let Some(map) = object.as_object_mut() else { bail!("not an object where `{field}` goes") };
	map.entry(field)
		.or_insert_with(|| json!([]))
		.as_array_mut()
		.context(format!("`{field}` is not an array"))
}

/// Adds `g` to a runtime genesis patch (a chain specification's
/// `genesis.runtimeGenesis.patch`): the clock scale and the parameters are set, the DSO
/// and the endowments added to the preset's.
pub fn apply(patch: &mut Value, g: &DemoGenesis) -> Result<()> {
	let Some(root) = patch.as_object_mut() else { bail!("the genesis patch is not an object") };
	let market = root.entry("flexMarket").or_insert_with(|| json!({}));
	let Some(m) = market.as_object_mut() else { bail!("`flexMarket` is not an object") };
	m.insert("clockScale".into(), json!(g.clock_scale));
	m.insert("params".into(), g.params.clone());
	let (dso, (location, name), oracles) = &g.dso;
	array(market, "dsos")?.push(json!([dso, [[location, name.as_bytes()]], oracles]));
	let balances = root.entry("balances").or_insert_with(|| json!({}));
	let list = array(balances, "balances")?;
	list.retain(|entry| !g.endowed.iter().any(|who| entry[0] == json!(who)));
	list.extend(g.endowed.iter().map(|who| json!([who, ENDOWMENT as u64])));
	Ok(())
}

/// Adds `g` to a chain specification in the form `build-spec` prints (not raw).
pub fn apply_to_spec(spec: &mut Value, g: &DemoGenesis) -> Result<()> {
	let patch = spec
		.pointer_mut("/genesis/runtimeGenesis/patch")
		.context("the chain specification has no genesis.runtimeGenesis.patch (a raw one?)")?;
	apply(patch, g)
}

#[cfg(test)]
mod tests {
	use super::*;

	fn sample() -> DemoGenesis {
		DemoGenesis {
			clock_scale: 15,
			params: params(&crate::scenario::competition()),
			dso: ("5Dso".into(), (LOCATION, "LV".into()), vec!["5Meter".into()]),
			endowed: vec!["5Dso".into(), "5Alice".into()],
		}
	}

	#[test]
	fn the_patch_keeps_the_preset_and_adds_the_demo() {
		let mut spec = json!({ "genesis": { "runtimeGenesis": { "code": "0x00", "patch": {
			"balances": { "balances": [["5Alice", 7], ["5Bob", 7]] },
			"flexMarket": { "dsos": [["5Dave", [[1, [69]]], ["5Eve"]]], "fsps": ["5Bob"] },
		} } } });
		apply_to_spec(&mut spec, &sample()).unwrap();
		let p = &spec["genesis"]["runtimeGenesis"]["patch"];
		assert_eq!(p["flexMarket"]["clockScale"], 15);
		assert_eq!(p["flexMarket"]["fsps"], json!(["5Bob"]));
		assert_eq!(p["flexMarket"]["dsos"][0][0], "5Dave");
		assert_eq!(p["flexMarket"]["dsos"][1], json!(["5Dso", [[2, b"LV".to_vec()]], ["5Meter"]]));
		// Alice's endowment is replaced, Bob's kept, the DSO's added.
		let balances = p["balances"]["balances"].as_array().unwrap();
		assert_eq!(balances.len(), 3);
		assert!(balances.contains(&json!(["5Bob", 7])));
		assert!(balances.contains(&json!(["5Alice", ENDOWMENT as u64])));
		assert_eq!(spec["genesis"]["runtimeGenesis"]["code"], "0x00");
	}

	#[test]
	fn the_parameters_carry_the_scenario_penalty() {
		let p = params(&crate::scenario::competition());
		assert_eq!(p["penaltyThreshold"], 900_000_000);
		assert_eq!(p["penaltyRate"], 200_000_000);
		assert_eq!(p["settlementGraceMs"], 600_000);
		assert_eq!(params(&crate::scenario::pilot())["penaltyRate"], 0);
	}

	#[test]
	fn a_raw_spec_is_refused() {
		let mut raw = json!({ "genesis": { "raw": { "top": {} } } });
		assert!(apply_to_spec(&mut raw, &sample()).is_err());
	}
}
