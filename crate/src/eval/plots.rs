//! PNG figures of `genuq eval`: line charts, a histogram, intervals (plotters, drawn into a
//! pixel buffer) and sample grids; saved with the `image` crate.

use std::path::Path;

use plotters::prelude::*;

use crate::data::IMAGE_SIZE;
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
        .ok_or_else(|| anyhow::anyhow!("plot buffer of the wrong size"))?
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

/// One point with its interval per row (e.g. a macro AUROC with its 95% CI), rows top to
/// bottom, and a dashed reference line at `reference` (e.g. chance).
pub fn intervals(
    path: &Path,
    title: &str,
    x_label: &str,
    rows: &[(String, f64, [f64; 2])],
    reference: f64,
) -> anyhow::Result<()> {
    ensure_font()?;
    let lo = rows.iter().map(|r| r.2[0]).fold(reference, f64::min);
    let hi = rows.iter().map(|r| r.2[1]).fold(reference, f64::max);
    let pad = (hi - lo).max(1e-3) * 0.06;
    let height = (90 + 26 * rows.len() as u32).max(200);
    let mut buf = vec![255u8; (WIDTH * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let n = rows.len() as f64;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(250)
            .build_cartesian_2d((lo - pad)..(hi + pad), -0.5..(n - 0.5))
            .map_err(plot_err)?;
        let label = |y: &f64| {
            let i = rows.len() as i64 - 1 - y.round() as i64;
            match (y.fract().abs() < 1e-6, usize::try_from(i)) {
                (true, Ok(i)) if i < rows.len() => rows[i].0.clone(),
                _ => String::new(),
            }
        };
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_labels(rows.len().max(1))
            .y_label_formatter(&label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_err)?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                [(reference, -0.5), (reference, n - 0.5)],
                BLACK.mix(0.4).stroke_width(1),
            )))
            .map_err(plot_err)?;
        for (i, (_, v, [a, b])) in rows.iter().enumerate() {
            let y = n - 1.0 - i as f64;
            let color = PALETTE[0];
            chart
                .draw_series([
                    PathElement::new([(*a, y), (*b, y)], color.stroke_width(2)),
                    PathElement::new([(*a, y - 0.2), (*a, y + 0.2)], color.stroke_width(2)),
                    PathElement::new([(*b, y - 0.2), (*b, y + 0.2)], color.stroke_width(2)),
                ])
                .map_err(plot_err)?;
            chart
                .draw_series(std::iter::once(Circle::new((*v, y), 4, color.filled())))
                .map_err(plot_err)?;
        }
        root.present().map_err(plot_err)?;
    }
    image::RgbImage::from_raw(WIDTH, height, buf)
        .ok_or_else(|| anyhow::anyhow!("plot buffer of the wrong size"))?
        .save(path)?;
    Ok(())
}

/// A grid of grey images (`[-1, 1]`), `cols` wide, each scaled by `scale`, 2 px apart.
pub fn grid(path: &Path, images: &[&[f32]], cols: usize, scale: u32) -> anyhow::Result<()> {
    let rows = images.len().div_ceil(cols);
    let side = IMAGE_SIZE as u32;
    let cell = side * scale + 2;
    let mut out = image::GrayImage::from_pixel(
        cols as u32 * cell + 2,
        rows as u32 * cell + 2,
        image::Luma([255]),
    );
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = ((i % cols) as u32 * cell + 2, (i / cols) as u32 * cell + 2);
        for y in 0..side * scale {
            for x in 0..side * scale {
                let v = img[((y / scale) * side + x / scale) as usize];
                let g = crate::data::grey_byte(v);
                out.put_pixel(ox + x, oy + y, image::Luma([g]));
            }
        }
    }
    out.save(path)?;
    Ok(())
}

/// The bitmap a sheet is drawn on.
type Root<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// A sheet of `n` cells of `cell` (width, height) pixels, `cols` wide under `title`, each drawn
/// by `draw(root, i, top-left corner)`, saved as a PNG.
fn cells_sheet(
    path: &Path,
    title: &str,
    (n, cols): (usize, usize),
    (cell_w, cell_h): (u32, u32),
    mut draw: impl FnMut(&Root, usize, (u32, u32)) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    ensure_font()?;
    let top = 30;
    let rows = n.div_ceil(cols) as u32;
    let (w, h) = (cols as u32 * cell_w + 8, top + rows * cell_h + 4);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.draw_text(title, &("sans-serif", 18).into_font().color(&BLACK), (8, 6))
            .map_err(plot_err)?;
        for i in 0..n {
            let at = (
                8 + (i % cols) as u32 * cell_w,
                top + (i / cols) as u32 * cell_h,
            );
            draw(&root, i, at)?;
        }
        root.present().map_err(plot_err)?;
    }
    image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| anyhow::anyhow!("sheet buffer of the wrong size"))?
        .save(path)?;
    Ok(())
}

/// A contact sheet for labelling by eye: grey images (`[-1, 1]`) `cols` wide, each scaled by
/// `scale`, with its number (from 1) under it and `title` on top. No score goes on a sheet.
pub fn sheet(
    path: &Path,
    title: &str,
    images: &[&[f32]],
    cols: usize,
    scale: u32,
) -> anyhow::Result<()> {
    let side = IMAGE_SIZE as u32 * scale;
    let cell = (side + 8, side + 22);
    cells_sheet(
        path,
        title,
        (images.len(), cols),
        cell,
        |root, i, (ox, oy)| {
            draw_image(root, images[i], (ox, oy), scale)?;
            let style = ("sans-serif", 15).into_font().color(&BLACK);
            let at = ((ox + side / 2 - 8) as i32, (oy + side + 2) as i32);
            root.draw_text(&format!("{}", i + 1), &style, at)
                .map_err(plot_err)
        },
    )
}

/// `img` (`[PIXELS]` in [-1, 1]) at `scale` with its top-left corner at `at`.
fn draw_image(root: &Root, img: &[f32], at: (u32, u32), scale: u32) -> anyhow::Result<()> {
    let side = IMAGE_SIZE as u32 * scale;
    for y in 0..side {
        for x in 0..side {
            let g =
                crate::data::grey_byte(img[((y / scale) * IMAGE_SIZE as u32 + x / scale) as usize]);
            root.draw_pixel(((at.0 + x) as i32, (at.1 + y) as i32), &RGBColor(g, g, g))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}

/// A sheet for marking regions: each image at 8x with a grid every 4 image pixels (numbered
/// every 8 along the top and the left, in the image's 0..32 pixel coordinates) and its number
/// (from 1) under it, `cols` per row.
pub fn region_sheet(
    path: &Path,
    title: &str,
    images: &[&[f32]],
    cols: usize,
) -> anyhow::Result<()> {
    let scale = 8u32;
    let side = IMAGE_SIZE as u32 * scale;
    let margin = 26u32;
    let cell = (side + margin + 12, side + margin + 24);
    cells_sheet(
        path,
        title,
        (images.len(), cols),
        cell,
        |root, i, (ox, oy)| {
            let (ox, oy) = (ox + margin, oy + margin);
            draw_image(root, images[i], (ox, oy), scale)?;
            draw_grid(root, (ox, oy), scale)?;
            let style = ("sans-serif", 16).into_font().color(&BLACK);
            let at = ((ox + side / 2 - 8) as i32, (oy + side + 4) as i32);
            root.draw_text(&format!("{}", i + 1), &style, at)
                .map_err(plot_err)
        },
    )
}

/// A grid over an image drawn at `scale` from `at`: a line every 4 image pixels (every 8 red
/// and numbered on the top and the left).
fn draw_grid(root: &Root, (ox, oy): (u32, u32), scale: u32) -> anyhow::Result<()> {
    let side = IMAGE_SIZE as u32 * scale;
    let small = ("sans-serif", 13).into_font().color(&BLACK);
    for k in (0..=IMAGE_SIZE as u32).step_by(4) {
        let colour = match k % 8 {
            0 => RGBColor(230, 60, 60),
            _ => RGBColor(90, 140, 255),
        };
        let p = (k * scale).min(side - 1);
        let (x, y) = ((ox + p) as i32, (oy + p) as i32);
        let (x0, y0) = (ox as i32, oy as i32);
        let (x1, y1) = ((ox + side) as i32, (oy + side) as i32);
        root.draw(&PathElement::new(vec![(x, y0), (x, y1)], colour))
            .and_then(|()| root.draw(&PathElement::new(vec![(x0, y), (x1, y)], colour)))
            .map_err(plot_err)?;
        if k % 8 == 0 {
            root.draw_text(&k.to_string(), &small, (x - 6, y0 - 18))
                .and_then(|()| root.draw_text(&k.to_string(), &small, (x0 - 22, y - 7)))
                .map_err(plot_err)?;
        }
    }
    Ok(())
}
