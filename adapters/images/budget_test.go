package images_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/png"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/images"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

const (
	mib = 1 << 20
	// simultaneous is how many uploads arrive at once in the heap test. Unbounded, these
	// need 2 GiB as the bombs and 256 MiB as 2048×2048 RGBA avatars (16 MiB each).
	simultaneous = 16
	// slack is what the heap may hold beyond the budget below: goroutines, buffers, the
	// collector's overshoot.
	slack = 64 * mib
)

// zeroPNG is a valid w×h PNG of all-zero pixels, RGBA at 16 bits a channel or 8: what
// image/png writes for an image.NRGBA64 or NRGBA of zeros. Its pixel data, every row's filter
// byte included, is zeros, deflated here as runs of 258-byte copies: that takes milliseconds
// where compress/flate takes a minute under the race detector, and holds nothing of the
// decoded size.
func zeroPNG(t *testing.T, w, h int, sixteen bool) []byte {
	t.Helper()
	depth, bytesPerPixel := byte(8), 4
	if sixteen {
		depth, bytesPerPixel = 16, 8
	}
	return pngFile(pngHeader(w, h, depth), zlibZeros(h*(1+w*bytesPerPixel)))
}

// zlibZeros is a zlib stream of n zero bytes (n ≥ 1): one fixed-Huffman block holding a
// literal 0, copies of 258 bytes at distance 1, and the rest as literals.
func zlibZeros(n int) []byte {
	var bw bitWriter
	bw.bits(1, 1) // BFINAL
	bw.bits(1, 2) // BTYPE 01: fixed Huffman codes
	literal0 := func() { bw.code(0x30, 8) }
	literal0()
	rest := n - 1
	for ; rest >= 258; rest -= 258 {
		bw.code(0xc5, 8) // length code 285: 258 bytes, no extra bits
		bw.code(0, 5)    // distance code 0: distance 1
	}
	for range rest {
		literal0()
	}
	bw.code(0, 7) // end of block
	adler := uint32(n%65521)<<16 | 1
	out := append([]byte{0x78, 0x01}, bw.flush()...)
	return binary.BigEndian.AppendUint32(out, adler)
}

// bitWriter packs DEFLATE's bits, least significant first; Huffman codes go most significant first.
type bitWriter struct {
	out   []byte
	acc   uint32
	nbits uint
}

func (b *bitWriter) bits(v uint32, n uint) {
	b.acc |= v << b.nbits
	b.nbits += n
	for b.nbits >= 8 {
		b.out = append(b.out, byte(b.acc))
		b.acc >>= 8
		b.nbits -= 8
	}
}

func (b *bitWriter) code(c uint32, n uint) {
	var r uint32
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	b.bits(r, n)
}

func (b *bitWriter) flush() []byte {
	if b.nbits > 0 {
		b.out = append(b.out, byte(b.acc))
	}
	return b.out
}

// progressive turns a baseline JPEG into one whose frame header says progressive (SOF2) and
// claims w×h pixels.
func progressive(t *testing.T, jpg []byte, w, h int) []byte {
	t.Helper()
	b := bytes.Clone(jpg)
	at := bytes.Index(b, []byte{0xff, 0xc0})
	if at < 0 {
		t.Fatal("no SOF0 in the JPEG")
	}
	b[at+1] = 0xc2
	binary.BigEndian.PutUint16(b[at+5:], uint16(h))
	binary.BigEndian.PutUint16(b[at+7:], uint16(w))
	return b
}

func TestZeroPNGIsWhatImagePNGDecodes(t *testing.T) {
	for _, size := range [][2]int{{1, 1}, {3, 2}, {40, 100}, {300, 7}} {
		img, err := png.Decode(bytes.NewReader(zeroPNG(t, size[0], size[1], true)))
		if err != nil {
			t.Fatalf("%v: %v", size, err)
		}
		if _, ok := img.(*image.NRGBA64); !ok || img.Bounds().Dx() != size[0] || img.Bounds().Dy() != size[1] {
			t.Fatalf("decoded %T %v, want a %v NRGBA64", img, img.Bounds(), size)
		}
	}
}

func TestCheckImageRefusesTooManyPixelsBeforeDecoding(t *testing.T) {
	jpg := encodeJPEG(t, 16, 16)
	bomb := zeroPNG(t, 4096, 4096, true)
	if len(bomb) >= users.MaxProfileImageBytes {
		t.Fatalf("the bomb is %d KB, over the upload limit", len(bomb)/1024)
	}
	for name, data := range map[string][]byte{
		"the issue's bomb: 4096x4096 16-bit RGBA zeros": bomb,
		"one pixel too wide":                            zeroPNG(t, images.MaxSide+1, 1, false),
		"one pixel too tall":                            zeroPNG(t, 1, images.MaxSide+1, false),
		"progressive jpeg claiming 4096x4096":           progressive(t, jpg, 4096, 4096),
		"progressive jpeg claiming 65535x65535":         progressive(t, jpg, 65535, 65535),
		"webp canvas one pixel too wide":                webpCanvas(images.MaxSide+1, 4),
		"png header claiming 100000x100000":             pngBomb(100_000, 100_000),
	} {
		t.Run(name, func(t *testing.T) {
			before := allocated()
			_, err := images.New().CheckImage(context.Background(), data)
			if !errors.Is(err, ports.ErrImageTooLarge) || !errors.Is(err, ports.ErrInvalidImage) {
				t.Fatalf("CheckImage: %v; want ErrImageTooLarge (an ErrInvalidImage)", err)
			}
			if got := allocated() - before; got > 2*mib {
				t.Fatalf("refusing it allocated %d KiB: it was decoded", got>>10)
			}
		})
	}
}

// The estimate from the header follows what each decoder allocates per pixel.
func TestDecodeCostFollowsTheDecoder(t *testing.T) {
	const px = images.MaxPixels
	jpg := encodeJPEG(t, 16, 16)
	interlaced := zeroPNG(t, 2048, 2048, true)
	interlaced[28] = 1 // IHDR interlace method: Adam7, and the chunk's CRC again
	binary.BigEndian.PutUint32(interlaced[29:], crc32.ChecksumIEEE(interlaced[12:29]))
	for name, tt := range map[string]struct {
		data []byte
		want int64
	}{
		"png 8-bit RGBA":             {zeroPNG(t, 2048, 2048, false), 4 * px},
		"png 16-bit RGBA":            {zeroPNG(t, 2048, 2048, true), 8 * px},
		"png 16-bit RGBA interlaced": {interlaced, 16 * px},
		"progressive jpeg":           {progressive(t, jpg, 2048, 2048), 15 * px},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := images.DecodeCost(tt.data)
			if err != nil || got != tt.want {
				t.Fatalf("DecodeCost = %d MiB, %v; want %d MiB", got>>20, err, tt.want>>20)
			}
		})
	}
	baseline := bytes.Clone(jpg)
	at := bytes.Index(baseline, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(baseline[at+5:], 2048)
	binary.BigEndian.PutUint16(baseline[at+7:], 2048)
	if got, err := images.DecodeCost(baseline); err != nil || got != 3*px {
		t.Fatalf("baseline jpeg: DecodeCost = %d MiB, %v; want %d MiB", got>>20, err, 3*px>>20)
	}
}

func TestCheckImageAcceptsTheLargestAvatar(t *testing.T) {
	for name, data := range map[string][]byte{
		"2048x2048 RGBA png": zeroPNG(t, images.MaxSide, images.MaxSide, false),
		"2048x2048 jpeg":     encodeJPEG(t, images.MaxSide, images.MaxSide),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := images.New().CheckImage(context.Background(), data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestADecodeWaitsForItsShareNoLongerThanItsContext(t *testing.T) {
	c := images.New()
	small := encodePNG(t, 1, 1)
	// A request that cannot get a share while it lasts is answered ErrUnavailable. The budget
	// is held throughout, so no timing can let these through.
	waitBriefly := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := c.CheckImage(ctx, small)
		return err
	}
	release := c.Hold(images.DecodeMemory)
	if err := waitBriefly(); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("with the whole budget taken: %v, want ErrUnavailable", err)
	}
	release()
	// Even a 1x1 image takes a share of MaxDecodes, so at most MaxDecodes run at once.
	release = c.Hold(images.DecodeMemory - images.DecodeMemory/images.MaxDecodes + 1)
	if err := waitBriefly(); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("a 1x1 image with less than a share free: %v, want ErrUnavailable", err)
	}
	release()
	release = c.Hold(images.DecodeMemory - images.DecodeMemory/images.MaxDecodes)
	defer release()
	if _, err := c.CheckImage(context.Background(), small); err != nil {
		t.Fatalf("a 1x1 image with a share free: %v", err)
	}
}

// Uploads arriving at once must not take the heap past its budget, whether they are bombs
// (refused by their header) or the costliest images we accept (decoded a few at a time).
func TestSimultaneousUploadsStayWithinTheHeapBudget(t *testing.T) {
	for name, tt := range map[string]struct {
		data []byte
		ok   bool
	}{
		"the issue's bomb":       {zeroPNG(t, 4096, 4096, true), false},
		"2048x2048 RGBA avatars": {zeroPNG(t, images.MaxSide, images.MaxSide, false), true},
	} {
		t.Run(name, func(t *testing.T) {
			c := images.New()
			c.WaitAtMost(time.Hour) // the bound under test is memory, not time
			base, peak := measurePeakHeap(t, func() {
				var wg sync.WaitGroup
				for range simultaneous {
					wg.Go(func() {
						_, err := c.CheckImage(context.Background(), tt.data)
						if (err == nil) != tt.ok {
							t.Errorf("CheckImage: %v", err)
						}
					})
				}
				wg.Wait()
			})
			// The decodes hold at most DecodeMemory at once; at GOGC=100 the collector lets the
			// heap grow to twice what was live, so the budget is twice the two, and some slack.
			budget := 2*(base+images.DecodeMemory) + slack
			t.Logf("%d at once: the heap went from %d MiB to at most %d MiB (budget %d MiB)", simultaneous, base>>20, peak>>20, budget>>20)
			if peak > budget {
				t.Fatalf("%d simultaneous uploads took the heap from %d MiB to %d MiB, over the budget of %d MiB",
					simultaneous, base>>20, peak>>20, budget>>20)
			}
		})
	}
}

const heapObjects = "/memory/classes/heap/objects:bytes"

// measurePeakHeap runs f and returns the heap's objects (live and not yet swept) before it
// and the most they reached during it, sampled all the while.
func measurePeakHeap(t *testing.T, f func()) (base, peak uint64) {
	t.Helper()
	runtime.GC()
	base = readMetric(heapObjects)
	done := make(chan struct{})
	most := make(chan uint64)
	go func() {
		var m uint64
		for {
			m = max(m, readMetric(heapObjects))
			select {
			case <-done:
				most <- max(m, readMetric(heapObjects))
				return
			default:
				time.Sleep(100 * time.Microsecond) // a sampling interval, not an assertion
			}
		}
	}()
	f()
	close(done)
	return base, <-most
}

func allocated() uint64 { return readMetric("/gc/heap/allocs:bytes") }

func readMetric(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
