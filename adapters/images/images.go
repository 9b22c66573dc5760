// Package images tells whether uploaded bytes are a PNG, JPEG or WebP image by decoding them,
// within a memory budget: the header is read first, images with too many pixels are refused
// before any pixel is decoded, and the decodes running at once share a bounded budget.
package images

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"time"

	"golang.org/x/image/webp"
	"golang.org/x/sync/semaphore"

	"github.com/bossraid/bossraid/ports"
)

// The limits on what is decoded. An avatar is shown at 96 px at most, so 2048×2048 is ample;
// a 4096×4096 16-bit PNG of zeros is 140 KB on the wire and 128 MiB decoded.
const (
	// MaxSide is the largest width or height accepted.
	MaxSide = 2048
	// MaxPixels is the pixel budget of one image (width × height).
	MaxPixels = 2048 * 2048
	// DecodeMemory is the budget, in bytes of decoder allocations (estimated from the header),
	// shared by the decodes running at once in one Checker. The largest image the limits above
	// allow costs 60 MiB (a progressive 4:4:4 JPEG), so each fits alone.
	DecodeMemory = 64 << 20
	// MaxDecodes is the most decodes that run at once: they are CPU-bound, so more gains nothing.
	MaxDecodes = 4
	// MaxWait bounds how long a decode waits for its share when the request sets no sooner deadline.
	MaxWait = 5 * time.Second
)

// Checker implements ports.ImageChecker. Build it with New: its budget is per instance.
type Checker struct {
	budget  *semaphore.Weighted
	maxWait time.Duration
}

var _ ports.ImageChecker = (*Checker)(nil)

// New returns a checker with a budget of DecodeMemory for MaxDecodes decodes at a time.
func New() *Checker {
	return &Checker{budget: semaphore.NewWeighted(DecodeMemory), maxWait: MaxWait}
}

type format struct {
	contentType  string
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
	// bytesPerPixel estimates, from the header, what decoding allocates per pixel.
	bytesPerPixel func(data []byte, model color.Model) int64
}

var (
	pngFormat  = format{"image/png", png.DecodeConfig, png.Decode, pngBytesPerPixel}
	jpegFormat = format{"image/jpeg", jpeg.DecodeConfig, jpeg.Decode, jpegBytesPerPixel}
	webpFormat = format{"image/webp", webp.DecodeConfig, webp.Decode, webpBytesPerPixel}
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

// CheckImage decodes data fully and returns its content type. Returns ports.ErrImageTooLarge
// for more than MaxSide pixels a side or MaxPixels in all (or an estimated decode above
// DecodeMemory), judged from the header before decoding; ports.ErrInvalidImage for anything
// else that is not a whole PNG, JPEG or WebP image; ports.ErrUnavailable when its share of
// the budget does not come free within ctx and MaxWait.
func (c *Checker) CheckImage(ctx context.Context, data []byte) (string, error) {
	f, cfg, cost, err := readHeader(data)
	if err != nil {
		return "", err
	}
	// Each decode takes at least its share of MaxDecodes, so the count is bounded too.
	weight := max(cost, DecodeMemory/MaxDecodes)
	wait, cancel := context.WithTimeout(ctx, c.maxWait)
	defer cancel()
	if err := c.budget.Acquire(wait, weight); err != nil {
		return "", fmt.Errorf("%w: no image decode slot free: %w", ports.ErrUnavailable, err)
	}
	err = f.check(data, cfg) // the pixels are garbage once it returns, before the share goes back
	c.budget.Release(weight)
	if err != nil {
		return "", err
	}
	return f.contentType, nil
}

// check decodes data whole; the header and the pixels must agree, or the size check made on
// the header checked something else.
func (f format) check(data []byte, cfg image.Config) error {
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ports.ErrInvalidImage, f.contentType, err)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return fmt.Errorf("%w: %s: header and image sizes differ", ports.ErrInvalidImage, f.contentType)
	}
	return nil
}

// readHeader picks the format, reads the header and refuses what is too large to decode,
// returning the estimated bytes decoding allocates.
func readHeader(data []byte) (format, image.Config, int64, error) {
	f, ok := sniff(data)
	if !ok {
		return f, image.Config{}, 0, fmt.Errorf("%w: unknown format", ports.ErrInvalidImage)
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return f, cfg, 0, fmt.Errorf("%w: %s header: %v", ports.ErrInvalidImage, f.contentType, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return f, cfg, 0, fmt.Errorf("%w: %s of %dx%d pixels", ports.ErrInvalidImage, f.contentType, cfg.Width, cfg.Height)
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || int64(cfg.Width)*int64(cfg.Height) > MaxPixels {
		return f, cfg, 0, fmt.Errorf("%w: %dx%d pixels, at most %dx%d accepted",
			ports.ErrImageTooLarge, cfg.Width, cfg.Height, MaxSide, MaxSide)
	}
	cost := int64(cfg.Width) * int64(cfg.Height) * f.bytesPerPixel(data, cfg.ColorModel)
	if cost > DecodeMemory {
		return f, cfg, 0, fmt.Errorf("%w: decoding this %s of %dx%d pixels needs about %d MiB, at most %d MiB accepted",
			ports.ErrImageTooLarge, f.contentType, cfg.Width, cfg.Height, cost>>20, DecodeMemory>>20)
	}
	return f, cfg, cost, nil
}

// pngBytesPerPixel is the decoded image's size per pixel, twice over when interlaced (each
// pass is decoded into an image of its own before being copied into the whole).
func pngBytesPerPixel(data []byte, model color.Model) int64 {
	var n int64
	switch model {
	case color.GrayModel:
		n = 1
	case color.Gray16Model:
		n = 2
	case color.RGBAModel, color.NRGBAModel:
		n = 4
	case color.RGBA64Model, color.NRGBA64Model:
		n = 8
	default: // paletted: one byte an index
		n = 1
	}
	// The IHDR chunk follows the signature: length, "IHDR", width, height, depth, colour type,
	// compression, filter, interlace.
	const interlaceAt = 8 + 8 + 12
	if len(data) > interlaceAt && data[interlaceAt] != 0 {
		n *= 2
	}
	return n
}

// jpegBytesPerPixel assumes no chroma subsampling (the worst case): one byte a component, and
// a progressive JPEG holds every component's coefficients besides (64 int32s per 8×8 block).
func jpegBytesPerPixel(data []byte, model color.Model) int64 {
	var components int64
	switch model {
	case color.GrayModel:
		components = 1
	case color.CMYKModel:
		components = 4
	default:
		components = 3
	}
	if jpegProgressive(data) {
		return components * (1 + 4)
	}
	return components
}

// jpegProgressive walks the markers to the frame header and tells whether it starts a
// progressive frame (SOF2, SOF6, SOF10, SOF14).
func jpegProgressive(data []byte) bool {
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return false
		}
		marker := data[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc:
			return marker&0x3 == 0x2
		}
		i += 2 + int(binary.BigEndian.Uint16(data[i+2:]))
	}
	return false
}

// webpBytesPerPixel follows golang.org/x/image/webp: a lossy image is 4:2:0 YCbCr; its alpha
// plane and a lossless image are decoded through 32-bit pixels and a transform's copy of them.
func webpBytesPerPixel(_ []byte, model color.Model) int64 {
	switch model {
	case color.YCbCrModel:
		return 2
	case color.NYCbCrAModel:
		return 2 + 1 + 8
	default: // lossless: NRGBA
		return 12
	}
}
