//! Modules built with wasm-encoder, run through the passes, read back with wasmparser.

use super::*;
use wasm_encoder::{
	CodeSection, CustomSection, ExportKind, ExportSection, Function, FunctionSection,
	Instruction as I, Module, NameMap, NameSection, TypeSection, ValType,
};

/// One exported function `f(x) -> x'` whose body is `local.get 0` then `body`.
fn module(ty: ValType, body: &[I<'static>], custom: &[(&str, &[u8])]) -> Vec<u8> {
	let mut types = TypeSection::new();
	types.ty().function([ty], [ty]);
	let mut funcs = FunctionSection::new();
	funcs.function(0);
	let mut exports = ExportSection::new();
	exports.export("f", ExportKind::Func, 0);
	let mut f = Function::new([]);
	f.instruction(&I::LocalGet(0));
	body.iter().for_each(|i| {
		f.instruction(i);
	});
	f.instruction(&I::End);
	let mut code = CodeSection::new();
	code.function(&f);
	let mut names = NameMap::new();
	names.append(0, "f");
	let mut name_section = NameSection::new();
	name_section.functions(&names);
	let mut m = Module::new();
	m.section(&types).section(&funcs).section(&exports).section(&code);
	m.section(&name_section);
	for (name, data) in custom {
		m.section(&CustomSection { name: (*name).into(), data: (*data).into() });
	}
	m.finish()
}

/// The operators of the first function body.
fn body_of(wasm: &[u8]) -> Vec<String> {
	for payload in Parser::new(0).parse_all(wasm) {
		if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
			let reader = body.get_operators_reader().unwrap();
			return reader.into_iter().map(|op| format!("{:?}", op.unwrap())).collect();
		}
	}
	panic!("no code section");
}

/// The custom sections' names and contents.
fn customs(wasm: &[u8]) -> Vec<(String, Vec<u8>)> {
	Parser::new(0)
		.parse_all(wasm)
		.filter_map(|p| match p.unwrap() {
			wasmparser::Payload::CustomSection(c) => Some((c.name().into(), c.data().to_vec())),
			_ => None,
		})
		.collect()
}

/// Evaluates `[const b, shl, const b, shr_s]` on `x` the way a wasm engine does.
fn eval_lowered(x: i64, seq: &[I<'static>; 4]) -> i64 {
	match seq {
		[I::I32Const(a), I::I32Shl, I::I32Const(b), I::I32ShrS] => {
			(((x as i32).wrapping_shl(*a as u32)).wrapping_shr(*b as u32)) as i64
		},
		[I::I64Const(a), I::I64Shl, I::I64Const(b), I::I64ShrS] => {
			x.wrapping_shl(*a as u32).wrapping_shr(*b as u32)
		},
		other => panic!("not a lowering: {other:?}"),
	}
}

#[test]
fn sign_extension_becomes_mvp_shifts() {
	let input = module(ValType::I32, &[I::I32Extend8S], &[]);
	let output = OptimizationOptions::new_opt_level_0()
		.mvp_features_only()
		.debug_info(true)
		.add_pass(Pass::SignextLowering)
		.run_on_bytes(&input)
		.unwrap();
	assert_eq!(
		body_of(&output),
		[
			"LocalGet { local_index: 0 }",
			"I32Const { value: 24 }",
			"I32Shl",
			"I32Const { value: 24 }",
			"I32ShrS",
			"End"
		]
	);
	Validator::new_with_features(WasmFeatures::MVP).validate_all(&output).unwrap();
}

/// A sign-extension operator and what it computes, in Rust.
type Case = (Operator<'static>, fn(i64) -> i64);

#[test]
fn each_lowering_computes_the_extension() {
	let samples = [
		0i64,
		1,
		-1,
		0x7f,
		0x80,
		0xff,
		0x7fff,
		0x8000,
		0xffff,
		0x1234_5678_9abc_def0,
		i64::MIN,
		i64::MAX,
	];
	let cases: [Case; 5] = [
		(Operator::I32Extend8S, |x| x as i8 as i64),
		(Operator::I32Extend16S, |x| x as i16 as i64),
		(Operator::I64Extend8S, |x| x as i8 as i64),
		(Operator::I64Extend16S, |x| x as i16 as i64),
		(Operator::I64Extend32S, |x| x as i32 as i64),
	];
	for (op, expected) in cases {
		let seq = Rewriter::lowered(&op).unwrap();
		for x in samples {
			assert_eq!(eval_lowered(x, &seq), expected(x), "{op:?} on {x:#x}");
		}
	}
	assert!(Rewriter::lowered(&Operator::I32Add).is_none());
}

#[test]
fn i64_operators_are_lowered_too() {
	let input = module(ValType::I64, &[I::I64Extend8S, I::I64Extend16S, I::I64Extend32S], &[]);
	let output = OptimizationOptions::new_opt_level_0()
		.mvp_features_only()
		.add_pass(Pass::SignextLowering)
		.run_on_bytes(&input)
		.unwrap();
	let ops = body_of(&output);
	assert_eq!(ops.len(), 1 + 3 * 4 + 1);
	assert!(ops.iter().all(|op| !op.contains("Extend")), "{ops:?}");
}

#[test]
fn mvp_only_refuses_what_is_not_lowered() {
	let input = module(ValType::I32, &[I::I32Extend16S], &[]);
	let err = OptimizationOptions::new_opt_level_0().mvp_features_only().run_on_bytes(&input);
	assert!(matches!(err, Err(OptimizationError::Validate(_))), "{err:?}");
	// Without the MVP restriction the operator is kept as it is.
	let kept = OptimizationOptions::new_opt_level_0().run_on_bytes(&input).unwrap();
	assert!(body_of(&kept).contains(&"I32Extend16S".to_string()));
}

#[test]
fn dwarf_goes_and_other_sections_stay_byte_for_byte() {
	let version = [1u8, 2, 3, 4, 5];
	let input = module(
		ValType::I32,
		&[],
		&[(".debug_info", &[9, 9]), ("runtime_version", &version), (".debug_line", &[7])],
	);
	let mut options = OptimizationOptions::new_opt_level_0();
	options.add_pass(Pass::StripDwarf);
	let stripped = options.debug_info(true).run_on_bytes(&input).unwrap();
	let names: Vec<_> = customs(&stripped).into_iter().map(|(n, _)| n).collect();
	assert_eq!(names, ["name", "runtime_version"]);
	assert!(customs(&stripped).contains(&("runtime_version".into(), version.to_vec())));
	// Without debug info the name section goes too; without the pass DWARF stays.
	let bare = options.debug_info(false).run_on_bytes(&input).unwrap();
	assert_eq!(customs(&bare).len(), 1);
	let kept =
		OptimizationOptions::new_opt_level_0().debug_info(true).run_on_bytes(&input).unwrap();
	assert_eq!(customs(&kept).len(), 4);
}

#[test]
fn bad_input_is_a_typed_error() {
	let err = OptimizationOptions::new_opt_level_0().run_on_bytes(b"\0asm\x01\0\0\0\x0a\xff");
	assert!(matches!(err, Err(OptimizationError::Parse(_))), "{err:?}");
	let err = OptimizationOptions::new_opt_level_0().run("/nonexistent/in.wasm", "/tmp/out.wasm");
	assert!(matches!(err, Err(OptimizationError::Io(_))), "{err:?}");
}

#[test]
fn a_file_can_be_rewritten_in_place() {
	let dir = std::env::temp_dir().join(format!("wasm-opt-test-{}", std::process::id()));
	fs::create_dir_all(&dir).unwrap();
	let path = dir.join("m.wasm");
	fs::write(&path, module(ValType::I32, &[I::I32Extend8S], &[(".debug_str", b"x")])).unwrap();
	OptimizationOptions::new_opt_level_0()
		.add_pass(Pass::StripDwarf)
		.add_pass(Pass::SignextLowering)
		.mvp_features_only()
		.run(&path, &path)
		.unwrap();
	let out = fs::read(&path).unwrap();
	assert!(customs(&out).is_empty());
	assert!(!body_of(&out).iter().any(|op| op.contains("Extend")));
	fs::remove_dir_all(dir).unwrap();
}
