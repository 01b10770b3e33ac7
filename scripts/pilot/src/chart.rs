//! Line charts as SVG files, for the run's figures.

use std::fmt::Write;

/// One line of a chart.
pub struct Line {
	/// Legend text.
	pub name: String,
	/// Stroke colour.
	pub colour: &'static str,
	/// Points (x, y).
	pub points: Vec<(f64, f64)>,
}

/// A panel: axes, labels and lines.
pub struct Panel {
	/// Title above the panel.
	pub title: String,
	/// Label of the y axis.
	pub y_label: String,
	/// Lines drawn.
	pub lines: Vec<Line>,
	/// Forced y range, or from the data.
	pub y_range: Option<(f64, f64)>,
}

const WIDTH: f64 = 760.0;
const PANEL_H: f64 = 260.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 40.0;

fn nice_step(span: f64) -> f64 {
	let raw = span / 5.0;
	let mag = 10f64.powf(raw.log10().floor());
	[1.0, 2.0, 2.5, 5.0, 10.0].iter().map(|m| m * mag).find(|s| *s >= raw).unwrap_or(10.0 * mag)
}

/// Panels stacked vertically with a shared x axis labelled `x_label`.
pub fn svg(panels: &[Panel], x_label: &str) -> String {
	let height = PANEL_H * panels.len() as f64;
	let mut s = String::new();
	let _ = writeln!(
		s,
		r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
	);
	let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
	for (i, p) in panels.iter().enumerate() {
		panel(&mut s, p, PANEL_H * i as f64, x_label);
	}
	s.push_str("</svg>\n");
	s
}

fn panel(s: &mut String, p: &Panel, y0: f64, x_label: &str) {
	let all: Vec<(f64, f64)> = p.lines.iter().flat_map(|l| l.points.iter().copied()).collect();
	let (xmin, xmax) =
		all.iter().fold((f64::MAX, f64::MIN), |(a, b), (x, _)| (a.min(*x), b.max(*x)));
	let (xmin, xmax) = if xmin < xmax { (xmin, xmax) } else { (0.0, 1.0) };
	let (ymin, ymax) = p.y_range.unwrap_or_else(|| {
		let (a, b) = all.iter().fold((f64::MAX, f64::MIN), |(a, b), (_, y)| (a.min(*y), b.max(*y)));
		if a < b {
			(a.min(0.0), b * 1.1)
		} else {
			(0.0, a.max(1.0) * 1.1)
		}
	});
	let (w, h) = (WIDTH - LEFT - RIGHT, PANEL_H - TOP - BOTTOM);
	let px = |x: f64| LEFT + (x - xmin) / (xmax - xmin) * w;
	let py = |y: f64| y0 + TOP + h - (y - ymin) / (ymax - ymin) * h;
	let _ = writeln!(
		s,
		r#"<text x="{LEFT}" y="{}" font-size="14" font-weight="bold">{}</text>"#,
		y0 + 20.0,
		esc(&p.title)
	);
	let _ = writeln!(
		s,
		r##"<rect x="{LEFT}" y="{}" width="{w}" height="{h}" fill="none" stroke="#888"/>"##,
		y0 + TOP
	);
	let step = nice_step(ymax - ymin);
	let mut y = (ymin / step).ceil() * step;
	while y <= ymax + 1e-9 {
		let (yy, label) = ((py(y) * 10.0).round() / 10.0, fmt(y));
		let _ = writeln!(
			s,
			r##"<line x1="{LEFT}" x2="{x2}" y1="{yy}" y2="{yy}" stroke="#ddd"/><text x="{tx}" y="{ty}" text-anchor="end">{label}</text>"##,
			x2 = LEFT + w,
			tx = LEFT - 6.0,
			ty = yy + 4.0,
		);
		y += step;
	}
	let xstep = nice_step(xmax - xmin);
	let mut x = (xmin / xstep).ceil() * xstep;
	while x <= xmax + 1e-9 {
		let _ = writeln!(
			s,
			r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
			px(x),
			y0 + TOP + h + 16.0,
			fmt(x)
		);
		x += xstep;
	}
	let _ = writeln!(
		s,
		r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
		LEFT + w / 2.0,
		y0 + TOP + h + 32.0,
		esc(x_label)
	);
	let _ = writeln!(
		s,
		r#"<text transform="translate({},{}) rotate(-90)" text-anchor="middle">{}</text>"#,
		18.0,
		y0 + TOP + h / 2.0,
		esc(&p.y_label)
	);
	for (i, l) in p.lines.iter().enumerate() {
		let pts: Vec<String> =
			l.points.iter().map(|(x, y)| format!("{:.1},{:.1}", px(*x), py(*y))).collect();
		let _ = writeln!(
			s,
			r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
			l.colour,
			pts.join(" ")
		);
		let ly = y0 + TOP + 14.0 + 18.0 * i as f64;
		let _ = writeln!(
			s,
			r#"<line x1="{0}" x2="{1}" y1="{2}" y2="{2}" stroke="{3}" stroke-width="3"/><text x="{4}" y="{5}">{6}</text>"#,
			LEFT + w + 10.0,
			LEFT + w + 30.0,
			ly,
			l.colour,
			LEFT + w + 36.0,
			ly + 4.0,
			esc(&l.name)
		);
	}
}

fn fmt(v: f64) -> String {
	if (v - v.round()).abs() < 1e-6 {
		format!("{}", v.round() as i64)
	} else {
		format!("{v:.1}")
	}
}

fn esc(t: &str) -> String {
	t.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn a_chart_has_its_lines_and_labels() {
		let p = Panel {
			title: "Battery <1>".into(),
			y_label: "kW".into(),
			lines: vec![Line {
				name: "power".into(),
				colour: "red",
				points: vec![(0.0, 0.0), (45.0, 10.0)],
			}],
			y_range: None,
		};
		let out = svg(&[p], "minute");
		assert!(out.starts_with("<svg"));
		assert!(out.contains("Battery &lt;1&gt;"));
		assert_eq!(out.matches("<polyline").count(), 1);
		assert!(out.trim_end().ends_with("</svg>"));
	}

	#[test]
	fn steps_are_round() {
		assert_eq!(nice_step(10.0), 2.0);
		assert_eq!(nice_step(130.0), 50.0);
	}
}
