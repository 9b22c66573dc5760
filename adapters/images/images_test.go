package images_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/bossraid/bossraid/adapters/images"
	"github.com/bossraid/bossraid/ports"
)

func picture(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	return img
}

func encodePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, picture(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, picture(8, 8), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngBomb is a PNG signature and a valid IHDR claiming w×h pixels, with no pixel data: tiny
// on the wire, gigabytes if a decoder allocated for it.
func pngBomb(w, h uint32) []byte {
	return pngFile(pngHeader(int(w), int(h), 8), nil) // 8-bit RGBA
}

// pngHeader is the IHDR of a w×h RGBA image at depth bits a channel.
func pngHeader(w, h int, depth byte) []byte {
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = depth, 6
	return ihdr
}

// pngFile is a PNG of the IHDR given, one IDAT chunk (if any) and IEND, each with its CRC.
func pngFile(ihdr, idat []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		b.WriteString(kind)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(kind), data...)))
	}
	chunk("IHDR", ihdr)
	if idat != nil {
		chunk("IDAT", idat)
	}
	chunk("IEND", nil)
	return b.Bytes()
}

// webpCanvas returns the extended WebP with its canvas size rewritten to w×h.
func webpCanvas(w, h int) []byte {
	b := bytes.Clone(webpAlpha)
	put24 := func(at, v int) { b[at], b[at+1], b[at+2] = byte(v), byte(v>>8), byte(v>>16) }
	put24(24, w-1)
	put24(27, h-1)
	return b
}

func half(b []byte) []byte { return b[:len(b)/2] }

func TestCheckImageAccepts(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"png", encodePNG(t, 16, 16), "image/png"},
		{"png 1x1", encodePNG(t, 1, 1), "image/png"},
		{"png at the size limit", encodePNG(t, images.MaxSide, 1), "image/png"},
		{"jpeg", encodeJPEG(t, 16, 16), "image/jpeg"},
		{"jpeg at the size limit", encodeJPEG(t, 1, images.MaxSide), "image/jpeg"},
		{"webp lossy", webpLossy, "image/webp"},
		{"webp lossless", webpLossless, "image/webp"},
		{"webp with alpha", webpAlpha, "image/webp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := images.New().CheckImage(context.Background(), tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("CheckImage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckImageRefuses(t *testing.T) {
	pngData, jpegData := encodePNG(t, 16, 16), encodeJPEG(t, 16, 16)
	bigJPEG := encodeJPEG(t, 256, 256) // long enough that its headers survive the cut
	corruptPNG := bytes.Clone(pngData)
	corruptPNG[len(corruptPNG)-20] ^= 0xff // inside IDAT: its CRC no longer matches

	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"text", []byte("hello, this is not an image")},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>`)},
		{"gif", encodeGIF(t)},
		{"bmp", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00")},
		{"wav in a RIFF", []byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00")},
		{"png signature only", pngData[:8]},
		{"png truncated in half", half(pngData)},
		{"png without its last byte", pngData[:len(pngData)-1]},
		{"png with corrupt pixel data", corruptPNG},
		{"png magic then text", append([]byte("\x89PNG\r\n\x1a\n"), "not really a png"...)},
		{"png too wide", encodePNG(t, images.MaxSide+1, 1)},
		{"png bomb", pngBomb(100_000, 100_000)},
		{"png zero size", pngBomb(0, 0)},
		{"jpeg truncated in half", half(jpegData)},
		{"jpeg header only", jpegData[:20]},
		{"jpeg cut inside its pixel data", bigJPEG[:len(bigJPEG)*3/4]},
		{"jpeg without its end marker", bigJPEG[:len(bigJPEG)-2]},
		{"jpeg magic then text", append([]byte("\xff\xd8\xff"), "not really a jpeg"...)},
		{"jpeg too tall", encodeJPEG(t, 1, images.MaxSide+1)},
		{"webp lossy truncated", half(webpLossy)},
		{"webp lossless truncated", half(webpLossless)},
		{"webp alpha truncated", half(webpAlpha)},
		{"webp header only", webpLossy[:12]},
		{"webp magic then text", append([]byte("RIFF\x10\x00\x00\x00WEBP"), "not really webp!"...)},
		{"webp bomb", webpCanvas(16384, 16384)},
		{"webp canvas differs from its pixels", webpCanvas(8, 8)},
		{"png inside a RIFF", append([]byte("RIFF\x10\x00\x00\x00WEBP"), pngData...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := images.New().CheckImage(context.Background(), tt.data)
			if !errors.Is(err, ports.ErrInvalidImage) {
				t.Fatalf("CheckImage = %q, %v; want ErrInvalidImage", got, err)
			}
		})
	}
}
