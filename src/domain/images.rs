//! Product images: only JPEG, PNG and WebP are accepted; each is decoded (with limits against
//! decompression bombs), scaled to fit 1200 px, re-encoded (PNG when it has transparency, else
//! JPEG) with a 240 px thumbnail, and stored in the shop's schema so its backup carries it.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, ImageReader, Limits};

use crate::db::tx::Tx;
use crate::error::AppError;

/// Largest upload accepted.
pub const UPLOAD_LIMIT: u64 = 5 * 1024 * 1024;
const MAX_SIDE: u32 = 1200;
const THUMB_SIDE: u32 = 240;

#[derive(Debug, PartialEq, Eq)]
pub enum ImageError {
    /// Not JPEG, PNG or WebP (by content, not by name).
    Unsupported,
    /// Declares more pixels than we decode.
    TooManyPixels,
    /// Claims to be an image but cannot be decoded.
    Corrupt,
}

impl ImageError {
    pub fn key(&self) -> &'static str {
        match self {
            ImageError::Unsupported => "error.image_type",
            ImageError::TooManyPixels => "error.image_too_big",
            ImageError::Corrupt => "error.image_corrupt",
        }
    }
}

pub struct Processed {
    pub content_type: &'static str,
    pub image: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

fn encode(img: &DynamicImage, png: bool) -> Result<Vec<u8>, ImageError> {
    let mut out = Cursor::new(Vec::new());
    let r = if png {
        img.write_to(&mut out, ImageFormat::Png)
    } else {
        let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85);
        enc.encode_image(&rgb)
    };
    r.map_err(|_| ImageError::Corrupt)?;
    Ok(out.into_inner())
}

/// CPU-bound: call it on the blocking pool.
pub fn process(bytes: &[u8]) -> Result<Processed, ImageError> {
    let format = image::guess_format(bytes).map_err(|_| ImageError::Unsupported)?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(ImageError::Unsupported);
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(8000);
    limits.max_image_height = Some(8000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => ImageError::TooManyPixels,
        _ => ImageError::Corrupt,
    })?;
    let img = if img.width() > MAX_SIDE || img.height() > MAX_SIDE {
        img.resize(MAX_SIDE, MAX_SIDE, image::imageops::FilterType::Triangle)
    } else {
        img
    };
    let png = img.color().has_alpha();
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    Ok(Processed {
        content_type: if png { "image/png" } else { "image/jpeg" },
        image: encode(&img, png)?,
        thumb: encode(&thumb, png)?,
        width: img.width(),
        height: img.height(),
    })
}

pub async fn process_blocking(bytes: Vec<u8>) -> Result<Result<Processed, ImageError>, AppError> {
    tokio::task::spawn_blocking(move || process(&bytes))
        .await
        .map_err(|e| AppError::Internal(format!("image task: {e}")))
}

pub async fn save(tx: &Tx<'_>, product_id: i64, p: &Processed) -> Result<(), AppError> {
    let (w, h) = (p.width as i32, p.height as i32);
    tx.execute(
        "insert into product_images (product_id, content_type, image, thumb, width, height) values ($1, $2, $3, $4, $5, $6)
         on conflict (product_id) do update set content_type = excluded.content_type, image = excluded.image,
             thumb = excluded.thumb, width = excluded.width, height = excluded.height, updated_at = now()",
        &[&product_id, &p.content_type, &p.image, &p.thumb, &w, &h],
    )
    .await?;
    Ok(())
}

pub async fn remove(tx: &Tx<'_>, product_id: i64) -> Result<bool, AppError> {
    Ok(tx.execute("delete from product_images where product_id = $1", &[&product_id]).await? == 1)
}

/// (content type, bytes) of the image or its thumbnail.
pub async fn load(tx: &Tx<'_>, product_id: i64, thumb: bool) -> Result<Option<(String, Vec<u8>)>, AppError> {
    let sql = if thumb {
        "select content_type, thumb from product_images where product_id = $1"
    } else {
        "select content_type, image from product_images where product_id = $1"
    };
    Ok(tx.query_opt(sql, &[&product_id]).await?.map(|r| (r.get(0), r.get(1))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        let img = if alpha {
            DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(w, h, image::Rgba([10, 20, 30, 128])))
        } else {
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([10, 20, 30])))
        };
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, ImageFormat::Png).expect("encode");
        out.into_inner()
    }

    #[test]
    fn reencodes_scales_and_thumbnails() {
        let p = process(&png(2400, 1200, false)).expect("processed");
        assert_eq!((p.width, p.height), (1200, 600));
        assert_eq!(p.content_type, "image/jpeg");
        assert_eq!(image::guess_format(&p.image).ok(), Some(ImageFormat::Jpeg));
        let t = image::load_from_memory(&p.thumb).expect("thumb");
        assert!(t.width() <= 240 && t.height() <= 240);
        assert_eq!(process(&png(10, 10, true)).expect("alpha").content_type, "image/png");
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        assert_eq!(process(b"GIF89a....").err(), Some(ImageError::Unsupported));
        assert_eq!(
            process(b"<svg xmlns='http://www.w3.org/2000/svg'/>").err(),
            Some(ImageError::Unsupported)
        );
        assert_eq!(process(b"%PDF-1.4").err(), Some(ImageError::Unsupported));
        let mut truncated = png(50, 50, false);
        truncated.truncate(60);
        assert_eq!(process(&truncated).err(), Some(ImageError::Corrupt));
    }
}
