//! Builds the runtime's WASM blob (skipped with `SKIP_WASM_BUILD=1`).

#[cfg(feature = "std")]
fn main() {
	// The target directory lives outside the repository (scripts/env.sh), so the
	// builder cannot find the workspace's Cargo.lock by walking up from it: point it
	// there. Set here, for this build script only, so that other crates' WASM builds
	// are not told about a workspace they are not part of.
	if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
		std::env::set_var("WASM_BUILD_WORKSPACE_HINT", concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
	}
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

#[cfg(not(feature = "std"))]
fn main() {}
