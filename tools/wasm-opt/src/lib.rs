//! The part of `wasm-opt` (binaryen) that `substrate-wasm-builder` uses, in Rust.
//!
//! The runtime's build script calls `wasm-opt` at optimisation level 0 with two passes:
//! strip the DWARF sections and lower the sign-extension operators to MVP ones, then
//! checks that only MVP features remain. Binaryen's C++ was the longest unit of a cold
//! build of the node (451 of 1,190 s on two cores) for that work, so the workspace
//! patches this crate in instead (`[patch.crates-io]`). It keeps `wasm-opt`'s builder
//! API for the calls the wasm builder makes and reports anything else as an error,
//! never by passing a module through unchanged.

use std::{borrow::Cow, fmt, fs, path::Path};

use wasm_encoder::reencode::{self, Reencode};
use wasmparser::{Operator, Parser, Validator, WasmFeatures};

/// A transformation of the module, by its name in binaryen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pass {
	/// Remove the `.debug_*` custom sections (DWARF).
	StripDwarf,
	/// Replace `i32/i64.extendN_s` by shifts, which every MVP engine runs.
	SignextLowering,
}

/// What to do to a module: the passes, whether to keep its name section, and which
/// features the result may use.
#[derive(Clone, Debug)]
pub struct OptimizationOptions {
	passes: Vec<Pass>,
	debug_info: bool,
	mvp_only: bool,
}

/// Why a module could not be processed.
#[derive(Debug)]
pub enum OptimizationError {
	/// The input could not be read or the output not written.
	Io(std::io::Error),
	/// The input is not a module this crate can rewrite.
	Parse(String),
	/// The result uses a feature beyond those allowed (MVP with `mvp_features_only`).
	Validate(String),
}

impl fmt::Display for OptimizationError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Io(e) => write!(f, "wasm-opt: {e}"),
			Self::Parse(e) => write!(f, "wasm-opt: cannot rewrite the module: {e}"),
			Self::Validate(e) => write!(f, "wasm-opt: the result is not valid: {e}"),
		}
	}
}

impl std::error::Error for OptimizationError {}

impl OptimizationOptions {
	/// Level 0: only the passes added with [`Self::add_pass`].
	pub fn new_opt_level_0() -> Self {
		Self { passes: Vec::new(), debug_info: false, mvp_only: false }
	}

	/// Keep the name section (binaryen drops it unless asked to keep debug info).
	pub fn debug_info(&mut self, value: bool) -> &mut Self {
		self.debug_info = value;
		self
	}

	/// Run `pass` too.
	pub fn add_pass(&mut self, pass: Pass) -> &mut Self {
		self.passes.push(pass);
		self
	}

	/// Refuse a result that uses any feature beyond the WebAssembly MVP.
	pub fn mvp_features_only(&mut self) -> &mut Self {
		self.mvp_only = true;
		self
	}

	/// Reads the module at `infile`, transforms it and writes it to `outfile` (which may
	/// be the same file).
	pub fn run(
		&self,
		infile: impl AsRef<Path>,
		outfile: impl AsRef<Path>,
	) -> Result<(), OptimizationError> {
		let input = fs::read(infile).map_err(OptimizationError::Io)?;
		let output = self.run_on_bytes(&input)?;
		fs::write(outfile, output).map_err(OptimizationError::Io)
	}

	/// The transformation itself, on bytes.
	pub fn run_on_bytes(&self, input: &[u8]) -> Result<Vec<u8>, OptimizationError> {
		let mut rewriter = Rewriter {
			strip_dwarf: self.passes.contains(&Pass::StripDwarf),
			lower_signext: self.passes.contains(&Pass::SignextLowering),
			keep_names: self.debug_info,
		};
		let mut module = wasm_encoder::Module::new();
		rewriter
			.parse_core_module(&mut module, Parser::new(0), input)
			.map_err(|e| OptimizationError::Parse(e.to_string()))?;
		let output = module.finish();
		let features = if self.mvp_only { WasmFeatures::MVP } else { WasmFeatures::all() };
		Validator::new_with_features(features)
			.validate_all(&output)
			.map_err(|e| OptimizationError::Validate(e.to_string()))?;
		Ok(output)
	}
}

/// Re-encodes a module section by section, changing only what the passes ask for.
struct Rewriter {
	strip_dwarf: bool,
	lower_signext: bool,
	keep_names: bool,
}

impl Rewriter {
	/// The MVP sequence for a sign-extension operator: shift left, then arithmetic
	/// shift right, by the bits above the extended width.
	fn lowered(op: &Operator<'_>) -> Option<[wasm_encoder::Instruction<'static>; 4]> {
		use wasm_encoder::Instruction::{I32Const, I32Shl, I32ShrS, I64Const, I64Shl, I64ShrS};
		let i32_by = |bits| [I32Const(bits), I32Shl, I32Const(bits), I32ShrS];
		let i64_by = |bits| [I64Const(bits), I64Shl, I64Const(bits), I64ShrS];
		match op {
			Operator::I32Extend8S => Some(i32_by(24)),
			Operator::I32Extend16S => Some(i32_by(16)),
			Operator::I64Extend8S => Some(i64_by(56)),
			Operator::I64Extend16S => Some(i64_by(48)),
			Operator::I64Extend32S => Some(i64_by(32)),
			_ => None,
		}
	}
}

impl Reencode for Rewriter {
	type Error = std::convert::Infallible;

	fn parse_custom_section(
		&mut self,
		module: &mut wasm_encoder::Module,
		section: wasmparser::CustomSectionReader<'_>,
	) -> Result<(), reencode::Error<Self::Error>> {
		let dwarf = section.name().starts_with(".debug_");
		let names = section.name() == "name";
		if (dwarf && self.strip_dwarf) || (names && !self.keep_names) {
			return Ok(());
		}
		// Copied byte for byte, as binaryen does with sections it does not know.
		module.section(&wasm_encoder::CustomSection {
			name: Cow::Borrowed(section.name()),
			data: Cow::Borrowed(section.data()),
		});
		Ok(())
	}

	fn parse_function_body(
		&mut self,
		code: &mut wasm_encoder::CodeSection,
		func: wasmparser::FunctionBody<'_>,
	) -> Result<(), reencode::Error<Self::Error>> {
		let mut function = self.new_function_with_parsed_locals(&func)?;
		let mut reader = func.get_operators_reader()?;
		while !reader.eof() {
			let op = reader.read()?;
			match Self::lowered(&op).filter(|_| self.lower_signext) {
				Some(sequence) => sequence.iter().for_each(|i| {
					function.instruction(i);
				}),
				None => {
					function.instruction(&self.instruction(op)?);
				},
			}
		}
		code.function(&function);
		Ok(())
	}
}

#[cfg(test)]
mod tests;
