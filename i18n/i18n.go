// Package i18n is the catalogue of the site's words in every language it speaks (English and
// Korean), and how dates, numbers and times read in each. The words live in locales/*.json
// (go-i18n's format, with CLDR plural forms); the HTTP edge picks a language per request and
// puts a Localizer in the request's context, and the views read it from there. The core never
// imports this package: it stays in English, and the edge translates what it says.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"time"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.json
var locales embed.FS

// Languages are the languages the site speaks, the default first. Adding one: see README.md,
// "Languages".
var Languages = []language.Tag{language.English, language.Korean}

// Default is the language of a request that asks for none we speak.
var Default = Languages[0]

var (
	bundle  = mustBundle()
	matcher = language.NewMatcher(Languages)
)

func mustBundle() *goi18n.Bundle {
	b := goi18n.NewBundle(Default)
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	names, err := fs.Glob(locales, "locales/*.json")
	if err != nil {
		panic(err)
	}
	for _, name := range names {
		data, err := locales.ReadFile(name)
		if err != nil {
			panic(err)
		}
		if _, err := b.ParseMessageFileBytes(data, path.Base(name)); err != nil {
			panic(fmt.Sprintf("i18n: %s: %v", name, err))
		}
	}
	return b
}

// Catalogue is the raw messages of a language file (id → text, or plural form → text), for tests.
func Catalogue(tag language.Tag) (map[string]any, error) {
	data, err := locales.ReadFile("locales/" + tag.String() + ".json")
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(data, &m)
}

// Match picks the language for a request: the remembered choice (a cookie) when it is one we
// speak, else the best match for Accept-Language, else Default.
func Match(chosen, acceptLanguage string) language.Tag {
	if t, ok := Supported(chosen); ok {
		return t
	}
	prefs, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(prefs) == 0 {
		return Default
	}
	_, i, conf := matcher.Match(prefs...)
	if conf == language.No {
		return Default
	}
	return Languages[i]
}

// Supported reports whether code ("ko", "en") names a language we speak, and which.
func Supported(code string) (language.Tag, bool) {
	if code == "" || len(code) > 16 {
		return language.Und, false
	}
	t, err := language.Parse(code)
	if err != nil {
		return language.Und, false
	}
	for _, l := range Languages {
		if l == t {
			return l, true
		}
	}
	return language.Und, false
}

// Localizer says things in one language.
type Localizer struct {
	Tag     language.Tag
	loc     *goi18n.Localizer
	printer *message.Printer
}

var localizers = func() map[language.Tag]*Localizer {
	m := map[language.Tag]*Localizer{}
	for _, t := range Languages {
		m[t] = &Localizer{Tag: t, loc: goi18n.NewLocalizer(bundle, t.String()), printer: message.NewPrinter(t)}
	}
	return m
}()

// For is the localizer of a language we speak (Default for any other).
func For(tag language.Tag) *Localizer {
	if l, ok := localizers[tag]; ok {
		return l
	}
	return localizers[Default]
}

type ctxKey struct{}

type request struct {
	loc  *Localizer
	here string
}

// With is ctx carrying the localizer of tag and the address of the page being answered (where
// the language switch comes back to).
func With(ctx context.Context, tag language.Tag, here string) context.Context {
	return context.WithValue(ctx, ctxKey{}, request{For(tag), here})
}

// From is the localizer ctx carries, Default's when it carries none.
func From(ctx context.Context) *Localizer {
	if r, ok := ctx.Value(ctxKey{}).(request); ok {
		return r.loc
	}
	return For(Default)
}

// Here is the address of the page being answered, "/" when ctx does not say.
func Here(ctx context.Context) string {
	if r, ok := ctx.Value(ctxKey{}).(request); ok && r.here != "" {
		return r.here
	}
	return "/"
}

// Lang is the language's BCP 47 code, for <html lang>.
func (l *Localizer) Lang() string { return l.Tag.String() }

// Args are the named values a message puts in its {{.Name}} slots.
type Args map[string]any

// T is the message id with args filled in. A missing message reads as its id, so it shows
// (and the catalogue tests fail) instead of disappearing.
func (l *Localizer) T(id string, args ...Args) string {
	cfg := &goi18n.LocalizeConfig{MessageID: id}
	if len(args) > 0 {
		cfg.TemplateData = map[string]any(args[0])
	}
	s, err := l.loc.Localize(cfg)
	if err != nil && s == "" {
		return id
	}
	return s
}

// N is the message id in the plural form for count; {{.Count}} is count formatted.
func (l *Localizer) N(id string, count int, args ...Args) string {
	data := map[string]any{"Count": l.Num(count)}
	if len(args) > 0 {
		for k, v := range args[0] {
			data[k] = v
		}
	}
	s, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
	if err != nil && s == "" {
		return id
	}
	return s
}

// Has reports whether the catalogue has a message id in this language.
func (l *Localizer) Has(id string) bool {
	_, tag, err := l.loc.LocalizeWithTag(&goi18n.LocalizeConfig{MessageID: id, PluralCount: 1})
	return err == nil && tag == l.Tag
}

// Num is an integer with the language's digit grouping (1,234).
func (l *Localizer) Num(n any) string { return l.printer.Sprint(n) }

// Date is the day of t in UTC as the language writes it: "1 December 2026", "2026년 12월 1일".
func (l *Localizer) Date(t time.Time) string {
	t = t.UTC()
	if l.Tag == language.Korean {
		return fmt.Sprintf("%d년 %d월 %d일", t.Year(), int(t.Month()), t.Day())
	}
	return t.Format("2 January 2006")
}

// DateTime is t in UTC, day and time: "1 December 2026, 15:04:05 UTC",
// "2026년 12월 1일 15:04:05 (UTC)".
func (l *Localizer) DateTime(t time.Time) string {
	return l.T("time.datetime", Args{"Date": l.Date(t), "Time": t.UTC().Format("15:04:05")})
}

// Ago is how long before now t was, in words: "3 minutes ago", "3분 전"; a future t reads
// "in 3 minutes", "3분 후".
func (l *Localizer) Ago(t, now time.Time) string {
	d := now.Sub(t)
	suffix := "time.ago"
	if d < 0 {
		d, suffix = -d, "time.in"
	}
	var span string
	switch {
	case d < time.Minute:
		return l.T("time.just_now")
	case d < time.Hour:
		span = l.N("time.minutes", int(d/time.Minute))
	case d < 24*time.Hour:
		span = l.N("time.hours", int(d/time.Hour))
	default:
		span = l.N("time.days", int(d/(24*time.Hour)))
	}
	return l.T(suffix, Args{"Span": span})
}

// T is From(ctx).T: the message id in the request's language.
func T(ctx context.Context, id string, args ...Args) string { return From(ctx).T(id, args...) }

// N is From(ctx).N: the message id in the plural form for count.
func N(ctx context.Context, id string, count int, args ...Args) string {
	return From(ctx).N(id, count, args...)
}

// Detail translates a message the core wrote in English ("nickname is required") when the
// catalogue has it under "text." + message; any other message stays as it is.
func (l *Localizer) Detail(msg string) string {
	id := "text." + msg
	if l.Tag == Default || !l.Has(id) {
		return msg
	}
	return l.T(id)
}

// Names lists the languages for a language switch: code and the language's own name.
func Names() []struct{ Code, Name string } {
	out := make([]struct{ Code, Name string }, 0, len(Languages))
	for _, t := range Languages {
		out = append(out, struct{ Code, Name string }{t.String(), For(t).T("lang.self")})
	}
	return out
}

// IDs are every message id of a language file, sorted.
func IDs(tag language.Tag) ([]string, error) {
	m, err := Catalogue(tag)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
