package component

import (
	"fmt"
	"strconv"
)

// The drawing area of every chart, in SVG user units; the SVG scales to its container.
const (
	chartW      = 720
	chartH      = 240
	chartLeft   = 52 // room for the scale's figures
	chartRight  = 8
	chartTop    = 12
	chartBottom = 30 // room for the labels under the bars
)

// BarChart is a bar chart drawn in SVG on the server, each bar the series stacked from the
// bottom, with its exact figures in a table beside it. Every string is already translated.
type BarChart struct {
	ID     string // unique in the page; the ids of its caption and description derive from it
	Title  string
	Desc   string // what it shows, in a sentence: read by screen readers with the title
	Series []Series
	Bars   []Bar
	Max    int    // the top of the scale; 0: the tallest bar, rounded up
	Unit   string // after the scale's figures, e.g. "%"
	// Head is the table's header row: the bars' column, then one per value cell.
	Head []string
	// Rows are the table's rows; nil: one per bar.
	Rows [][]string
	Note string // under the table, e.g. what it leaves out
}

// Series is one stacked part of the bars; Class colours it (chart-success, chart-fail, …).
type Series struct {
	Label, Class string
}

// Bar is one bar: its label and one value per series.
type Bar struct {
	Label  string
	Axis   string // under the axis; "" leaves the bar unlabelled there
	Values []int
	Cells  []string // the table row after the label; nil: the values
}

// Rect is one drawn piece of a bar.
type Rect struct {
	X, Y, W, H string
	Class      string
	Title      string // the tooltip: bar label, series and figure
}

// Tick is a figure on an axis and where it sits.
type Tick struct {
	Pos   string
	Label string
}

func units(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// top is the scale's top: c.Max, or the tallest bar rounded up to a figure that reads well.
func (c BarChart) top() int {
	if c.Max > 0 {
		return c.Max
	}
	tallest := 0
	for _, b := range c.Bars {
		sum := 0
		for _, v := range b.Values {
			sum += v
		}
		tallest = max(tallest, sum)
	}
	return NiceCeil(tallest)
}

// NiceCeil is n rounded up to 4, 8, 16 or 20 times a power of ten (at least 4), so a scale's
// quarters are whole.
func NiceCeil(n int) int {
	if n <= 4 {
		return 4
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{1, 2, 4, 5, 8} {
			if p*m*4 >= n {
				return p * m * 4
			}
		}
	}
}

func (c BarChart) slot() float64 {
	return float64(chartW-chartLeft-chartRight) / float64(max(len(c.Bars), 1))
}

// Rects are the drawn pieces of every bar.
func (c BarChart) Rects() []Rect {
	top, slot := float64(c.top()), c.slot()
	plotH := float64(chartH - chartTop - chartBottom)
	w := max(slot*0.72, 1)
	var out []Rect
	for i, b := range c.Bars {
		x := chartLeft + float64(i)*slot + (slot-w)/2
		base := 0
		for s, v := range b.Values {
			if v <= 0 || s >= len(c.Series) {
				continue
			}
			y0 := chartH - chartBottom - plotH*float64(base)/top
			base += v
			y1 := chartH - chartBottom - plotH*float64(min(base, int(top)))/top
			out = append(out, Rect{
				X: units(x), Y: units(y1), W: units(w), H: units(max(y0-y1, 0.5)),
				Class: c.Series[s].Class, Title: fmt.Sprintf("%s · %s: %d%s", b.Label, c.Series[s].Label, v, c.Unit),
			})
		}
	}
	return out
}

// YTicks are the scale's figures: 0, a quarter, half, three quarters and the top.
func (c BarChart) YTicks() []Tick {
	return yTicks(int64(c.top()), c.Unit)
}

func yTicks(top int64, unit string) []Tick {
	plotH := float64(chartH - chartTop - chartBottom)
	var out []Tick
	for q := range int64(5) {
		v := top * q / 4
		out = append(out, Tick{Pos: units(chartH - chartBottom - plotH*float64(q)/4), Label: strconv.FormatInt(v, 10) + unit})
	}
	return out
}

// XTicks are the labels under the bars.
func (c BarChart) XTicks() []Tick {
	slot := c.slot()
	var out []Tick
	for i, b := range c.Bars {
		if b.Axis != "" {
			out = append(out, Tick{Pos: units(chartLeft + float64(i)*slot + slot/2), Label: b.Axis})
		}
	}
	return out
}

// TableRows are the rows of the figures table.
func (c BarChart) TableRows() [][]string {
	if c.Rows != nil {
		return c.Rows
	}
	out := make([][]string, 0, len(c.Bars))
	for _, b := range c.Bars {
		row := []string{b.Label}
		if b.Cells != nil {
			row = append(row, b.Cells...)
		} else {
			for _, v := range b.Values {
				row = append(row, strconv.Itoa(v)+c.Unit)
			}
		}
		out = append(out, row)
	}
	return out
}

// StepChart is a running figure drawn as steps in SVG, with its points in a table.
type StepChart struct {
	ID     string
	Title  string
	Desc   string
	Points [][2]int64 // x, y ascending in x; the line holds each y until the next x
	Head   []string   // the table's header: x, y
	Rows   [][]string // the table: one row per point
	Note   string
	Class  string
}

func (c StepChart) extent() (int64, int64) {
	var xMax, yMax int64
	for _, p := range c.Points {
		xMax, yMax = max(xMax, p[0]), max(yMax, p[1])
	}
	return max(xMax, 1), int64(NiceCeil(int(yMax)))
}

func (c StepChart) at(p [2]int64) (float64, float64) {
	xMax, yMax := c.extent()
	plotW, plotH := float64(chartW-chartLeft-chartRight), float64(chartH-chartTop-chartBottom)
	return chartLeft + plotW*float64(p[0])/float64(xMax), chartH - chartBottom - plotH*float64(p[1])/float64(yMax)
}

// Path is the SVG path of the steps.
func (c StepChart) Path() string {
	var b []byte
	for i, p := range c.Points {
		x, y := c.at(p)
		if i == 0 {
			b = fmt.Appendf(b, "M%s %s", units(x), units(y))
			continue
		}
		b = fmt.Appendf(b, "H%sV%s", units(x), units(y))
	}
	return string(b)
}

// Area is the path of the steps closed down to the axis, for the fill under them.
func (c StepChart) Area() string {
	if len(c.Points) == 0 {
		return ""
	}
	x0, _ := c.at(c.Points[0])
	x1, _ := c.at(c.Points[len(c.Points)-1])
	base := units(chartH - chartBottom)
	return "M" + units(x0) + " " + base + c.Path()[1:] + "V" + base + "H" + units(x1) + "Z"
}

// YTicks are the scale's figures.
func (c StepChart) YTicks() []Tick {
	_, yMax := c.extent()
	return yTicks(yMax, "")
}

// XTicks are the first and last x and three between.
func (c StepChart) XTicks() []Tick {
	xMax, _ := c.extent()
	var out []Tick
	for q := range int64(5) {
		v := xMax * q / 4
		x, _ := c.at([2]int64{v, 0})
		out = append(out, Tick{Pos: units(x), Label: strconv.FormatInt(v, 10)})
	}
	return out
}

// Chart geometry the templates use.
var (
	ChartViewBox = fmt.Sprintf("0 0 %d %d", chartW, chartH)
	ChartAxisY   = units(chartH - chartBottom)
	ChartLabelY  = units(chartH - chartBottom + 18)
	ChartLeft    = units(chartLeft)
	ChartRight   = units(chartW - chartRight)
	ChartScaleX  = units(chartLeft - 6)
)
