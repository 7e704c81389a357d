/// The image formats a product may show. The format comes from the bytes themselves: a client's
/// `Content-Type` or file name says nothing about what was uploaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
}

impl ImageFormat {
    /// The format whose signature `bytes` start with.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.starts_with(PNG) {
            Some(ImageFormat::Png)
        } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_signatures() {
        assert_eq!(
            ImageFormat::sniff(b"\xFF\xD8\xFF\xE0\0\x10JFIF"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageFormat::Png)
        );
        assert_eq!(
            ImageFormat::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageFormat::Webp)
        );
        for not_an_image in [
            &b""[..],
            b"\xFF\xD8",
            b"GIF89a",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"\x89PNG\r\n",
        ] {
            assert_eq!(ImageFormat::sniff(not_an_image), None, "{not_an_image:?}");
        }
        assert_eq!(ImageFormat::Webp.content_type(), "image/webp");
        assert_eq!(ImageFormat::Jpeg.extension(), "jpg");
    }
}
