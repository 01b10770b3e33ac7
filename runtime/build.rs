//! Builds the runtime's WASM blob (skipped with `SKIP_WASM_BUILD=1`).

#[cfg(feature = "std")]
fn main() {
	// The target directory lives outside the repository (scripts/env.sh), so the
	// builder cannot find the workspace's Cargo.lock by walking up from it: point it
	// there. Set here, for this build script only, so that other crates' WASM builds
	// are not told about a workspace they are not part of.
	// Read at run time: a build script compiled in another clone of the repository
	// may be reused from the shared target directory.
	if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
		if let Some(runtime) = std::env::var_os("CARGO_MANIFEST_DIR") {
			let workspace = std::path::Path::new(&runtime).join("..");
			std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
		}
	}
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

#[cfg(not(feature = "std"))]
fn main() {}
