//! SS58 addresses with the chain's own prefix.

use blake2::{digest::consts::U64, Blake2b, Digest};

/// The SS58 address of a 32-byte public key under `prefix` (0 to 16383).
pub fn encode(key: &[u8; 32], prefix: u16) -> String {
	let ident = prefix & 0b0011_1111_1111_1111;
	let mut data = if ident < 64 {
		vec![ident as u8]
	} else {
		vec![
			((ident & 0b1111_1100) as u8 >> 2) | 0b0100_0000,
			((ident >> 8) as u8) | (((ident & 0b11) as u8) << 6),
		]
	};
	data.extend_from_slice(key);
	let mut h = Blake2b::<U64>::new();
	h.update(b"SS58PRE");
	h.update(&data);
	let checksum = h.finalize();
	data.extend_from_slice(&checksum[..2]);
	bs58::encode(data).into_string()
}

/// The public key of an SS58 address under any prefix.
pub fn decode(address: &str) -> Option<[u8; 32]> {
	let data = bs58::decode(address).into_vec().ok()?;
	let prefix_len = match data.first()? {
		0..=63 => 1,
		64..=127 => 2,
		_ => return None,
	};
	if data.len() != prefix_len + 34 {
		return None;
	}
	let mut h = Blake2b::<U64>::new();
	h.update(b"SS58PRE");
	h.update(&data[..prefix_len + 32]);
	(h.finalize()[..2] == data[prefix_len + 32..])
		.then(|| data[prefix_len..prefix_len + 32].try_into().ok())?
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn alice_under_42_and_7171() {
		let alice: [u8; 32] =
			hex::decode("d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
				.unwrap()
				.try_into()
				.unwrap();
		assert_eq!(encode(&alice, 42), "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY");
		let ours = encode(&alice, 7171);
		assert_eq!(decode(&ours), Some(alice));
		assert_eq!(decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), Some(alice));
		assert_eq!(decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"), None);
	}
}
