//! PNG figures of `genuq eval`: line charts, a histogram (plotters, drawn into a pixel buffer)
//! and sample grids; saved with the `image` crate.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

const WIDTH: u32 = 720;
const HEIGHT: u32 = 440;
const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
const PALETTE: [RGBColor; 5] = [
    RGBColor(68, 1, 84),
    RGBColor(214, 96, 77),
    RGBColor(33, 145, 140),
    RGBColor(120, 120, 120),
    RGBColor(253, 174, 97),
];

/// plotters draws text with a font we hand it; DejaVu is on every Debian with a browser.
fn ensure_font() -> anyhow::Result<()> {
    static DONE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    DONE.get_or_init(|| {
        let bytes = std::fs::read(FONT)
            .map_err(|e| format!("{FONT}: {e} (install the package fonts-dejavu-core)"))?;
        register_font(
            "sans-serif",
            FontStyle::Normal,
            Box::leak(bytes.into_boxed_slice()),
        )
        .map_err(|_| format!("{FONT} is not a usable font"))
    })
    .clone()
    .map_err(anyhow::Error::msg)
}

fn save_rgb(path: &Path, buf: Vec<u8>) -> anyhow::Result<()> {
    image::RgbImage::from_raw(WIDTH, HEIGHT, buf)
        .expect("buffer of WIDTH x HEIGHT")
        .save(path)?;
    Ok(())
}

fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow::anyhow!("plotting failed: {e:?}")
}

/// One chart with a line (and points) per named series of `(x, y)`.
pub fn lines(
    path: &Path,
    title: &str,
    (x_label, y_label): (&str, &str),
    series: &[(&str, Vec<(f64, f64)>)],
) -> anyhow::Result<()> {
    ensure_font()?;
    let points = series.iter().flat_map(|(_, p)| p.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in points {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    let pad = (y1 - y0).max(1e-9) * 0.08;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_err)?;
        for (i, (name, p)) in series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(p.iter().copied(), color.stroke_width(2)))
                .map_err(plot_err)?
                .label(*name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart
                .draw_series(p.iter().map(|&xy| Circle::new(xy, 3, color.filled())))
                .map_err(plot_err)?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, buf)
}

/// A histogram of `values` in `bins` equal bins.
pub fn histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> anyhow::Result<()> {
    ensure_font()?;
    let lo = values.iter().copied().fold(f64::MAX, f64::min);
    let hi = values.iter().copied().fold(f64::MIN, f64::max);
    let width = ((hi - lo) / bins as f64).max(1e-9);
    let mut counts = vec![0u32; bins];
    for &v in values {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.08;
    let mut buf = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(lo..hi + width, 0.0..top)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("generations")
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(counts.iter().enumerate().map(|(i, &c)| {
                let x = lo + i as f64 * width;
                Rectangle::new(
                    [(x, 0.0), (x + width, c as f64)],
                    PALETTE[0].mix(0.8).filled(),
                )
            }))
            .map_err(plot_err)?;
        root.present().map_err(plot_err)?;
    }
    save_rgb(path, buf)
}

/// A grid of 32x32 grey images (`[-1, 1]`), `cols` wide, each scaled by `scale`, 2 px apart.
pub fn grid(path: &Path, images: &[&[f32]], cols: usize, scale: u32) -> anyhow::Result<()> {
    let rows = images.len().div_ceil(cols);
    let cell = 32 * scale + 2;
    let mut out = image::GrayImage::from_pixel(
        cols as u32 * cell + 2,
        rows as u32 * cell + 2,
        image::Luma([255]),
    );
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = ((i % cols) as u32 * cell + 2, (i / cols) as u32 * cell + 2);
        for y in 0..32 * scale {
            for x in 0..32 * scale {
                let v = img[((y / scale) * 32 + x / scale) as usize];
                let g = ((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round() as u8;
                out.put_pixel(ox + x, oy + y, image::Luma([g]));
            }
        }
    }
    out.save(path)?;
    Ok(())
}
