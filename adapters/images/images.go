// Package images tells whether uploaded bytes are a PNG, JPEG or WebP image by decoding them.
package images

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/bossraid/bossraid/ports"
)

// MaxSide is the largest width or height accepted. Decoding allocates width×height×4 bytes or
// more, so a tiny file claiming huge dimensions (a decompression bomb) is refused before that.
const MaxSide = 4096

// Checker implements ports.ImageChecker. The zero value is ready to use.
type Checker struct{}

var _ ports.ImageChecker = Checker{}

type format struct {
	contentType  string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

var (
	pngFormat  = format{"image/png", png.DecodeConfig, png.Decode}
	jpegFormat = format{"image/jpeg", jpeg.DecodeConfig, jpeg.Decode}
	webpFormat = format{"image/webp", webp.DecodeConfig, webp.Decode}
)

// sniff picks the decoder by magic number. The formats are named here rather than taken from
// image.Decode's registry, which any import elsewhere (image/gif) could widen.
func sniff(data []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return pngFormat, true
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return jpegFormat, true
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		return webpFormat, true
	}
	return format{}, false
}

// CheckImage decodes data fully and returns its content type. Returns ports.ErrInvalidImage
// for anything that is not a whole PNG, JPEG or WebP image of at most MaxSide pixels a side.
func (Checker) CheckImage(data []byte) (string, error) {
	f, ok := sniff(data)
	if !ok {
		return "", fmt.Errorf("%w: unknown format", ports.ErrInvalidImage)
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %s header: %v", ports.ErrInvalidImage, f.contentType, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > MaxSide || cfg.Height > MaxSide {
		return "", fmt.Errorf("%w: %dx%d pixels, at most %dx%d accepted",
			ports.ErrInvalidImage, cfg.Width, cfg.Height, MaxSide, MaxSide)
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ports.ErrInvalidImage, f.contentType, err)
	}
	// The header and the pixels must agree, or the size check above checked something else.
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return "", fmt.Errorf("%w: %s: header and image sizes differ", ports.ErrInvalidImage, f.contentType)
	}
	return f.contentType, nil
}
