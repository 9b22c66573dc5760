package i18n_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"github.com/bossraid/bossraid/i18n"
)

// root is the repository root, from this package's folder.
const root = ".."

// textPrefix marks messages the Go code writes in English (the core's validation messages, the
// API's error details): they need a translation in every other language, not an English entry.
const textPrefix = "text."

func TestEveryLanguageHasEveryMessage(t *testing.T) {
	en := catalogue(t, language.English)
	for _, tag := range i18n.Languages {
		msgs := catalogue(t, tag)
		for id := range en {
			if _, ok := msgs[id]; !ok {
				t.Errorf("%s: message %q is missing", tag, id)
			}
		}
		for id, m := range msgs {
			if _, ok := en[id]; !ok && !strings.HasPrefix(id, textPrefix) {
				t.Errorf("%s: message %q is not in English, the default: a leftover?", tag, id)
			}
			if strings.HasPrefix(id, textPrefix) && tag == i18n.Default {
				t.Errorf("%s: %q: the default language says the code's own words; drop it", tag, id)
			}
			if forms, ok := m.(map[string]any); ok {
				// CLDR: English needs one and other; Korean has only other.
				want := []string{"other"}
				if tag == language.English {
					want = []string{"one", "other"}
				}
				for _, f := range want {
					if s, _ := forms[f].(string); s == "" {
						t.Errorf("%s: plural message %q lacks its %q form", tag, id, f)
					}
				}
				if !strings.Contains(forms["other"].(string), "{{.Count}}") {
					t.Errorf("%s: plural message %q never says {{.Count}}", tag, id)
				}
			} else if s, _ := m.(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: message %q is empty", tag, id)
			}
		}
	}
}

func catalogue(t *testing.T, tag language.Tag) map[string]any {
	t.Helper()
	m, err := i18n.Catalogue(tag)
	if err != nil {
		t.Fatalf("%s: %v", tag, err)
	}
	return m
}

// keyUse finds message ids in the code: i18n.T(ctx, "id"), i18n.N(ctx, "id", n), labels of
// options and links (views/admin/models.go, the admin questions) and pager labels.
var keyUse = regexp.MustCompile(`(?:i18n\.[TN]\([^,]+, |Label: |\{"[a-z_]*", |@pager\([^,]+, )"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

func TestEveryMessageTheCodeUsesExists(t *testing.T) {
	en := catalogue(t, language.English)
	used := map[string]string{}
	for _, dir := range []string{"views", "adapters/http"} {
		walk(t, filepath.Join(root, dir), func(path string, src []byte) {
			if !strings.HasSuffix(path, ".templ") && (!strings.HasSuffix(path, ".go") ||
				strings.HasSuffix(path, "_templ.go") || strings.HasSuffix(path, "_test.go")) {
				return
			}
			for _, m := range keyUse.FindAllSubmatch(src, -1) {
				used[string(m[1])] = path
			}
		})
	}
	// Ids built at run time: bosses, statuses, roles, error pages.
	for _, b := range []string{"gloomslime", "ironhide_ogre", "ashen_wyrm"} {
		used["boss."+b+".name"], used["boss."+b+".alt"] = "component.BossName", "component.BossAlt"
	}
	for _, s := range []string{"status.success", "status.fail", "status.in_progress", "role.player", "role.admin"} {
		used[s] = "component.StatusLabel, admin.RoleLabel"
	}
	for _, code := range []int{403, 404, 405, 500, 503} {
		used["error."+strconv.Itoa(code)+".title"], used["error."+strconv.Itoa(code)+".text"] = "web.errorText", "web.errorText"
	}
	if len(used) < 150 {
		t.Fatalf("found only %d message ids in the code: is the scan looking at the right files?", len(used))
	}
	for id, where := range used {
		if _, ok := en[id]; !ok {
			t.Errorf("%s uses message %q, which the catalogue lacks", where, id)
		}
	}
}

// TestCodeMessagesAreTranslated finds the English messages the core and the HTTP edge write
// for players (validation messages, error details) and wants each one in every other language.
func TestCodeMessagesAreTranslated(t *testing.T) {
	msgs := codeMessages(t)
	if len(msgs) < 40 {
		t.Fatalf("found only %d messages in the code: is the scan looking at the right files?", len(msgs))
	}
	for _, tag := range i18n.Languages[1:] {
		cat := catalogue(t, tag)
		for msg, where := range msgs {
			if _, ok := cat[textPrefix+msg]; !ok {
				t.Errorf("%s: %q (%s) has no translation %q", tag, msg, where, textPrefix+msg)
			}
		}
	}
}

// codeMessages are the string literals in the places that carry player-facing English: what
// the core/users Check* functions return, field errors assigned into maps, app.Invalid's
// message, the core's error sentinels and the error table's details.
func codeMessages(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	add := func(e ast.Expr, where string) {
		if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
			if s, err := strconv.Unquote(lit.Value); err == nil && strings.Contains(s, " ") {
				out[s] = where
			}
		}
	}
	dirs := []string{"core/users", "core/raids", "core/app", "adapters/http/problem", "adapters/http/web", "adapters/http/admin", "adapters/http/api"}
	for _, dir := range dirs {
		walk(t, filepath.Join(root, dir), func(path string, src []byte) {
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if strings.HasPrefix(n.Name.Name, "Check") || n.Name.Name == "checkImage" {
						ast.Inspect(n.Body, func(m ast.Node) bool {
							if r, ok := m.(*ast.ReturnStmt); ok {
								for _, e := range r.Results {
									add(e, path)
								}
							}
							if v, ok := m.(*ast.ValueSpec); ok { // const bad = "..."
								for _, e := range v.Values {
									add(e, path)
								}
							}
							return true
						})
					}
				case *ast.AssignStmt:
					for i, lhs := range n.Lhs {
						if _, ok := lhs.(*ast.IndexExpr); ok && i < len(n.Rhs) {
							add(n.Rhs[i], path)
						}
					}
				case *ast.CompositeLit:
					for _, e := range n.Elts { // map literals of field errors
						if kv, ok := e.(*ast.KeyValueExpr); ok {
							if _, isMap := n.Type.(*ast.MapType); isMap {
								add(kv.Value, path)
							}
						}
					}
					if strings.HasSuffix(path, "problem.go") { // the error table's details
						for _, e := range n.Elts {
							add(e, path)
						}
					}
				case *ast.CallExpr:
					name := ""
					switch fn := n.Fun.(type) {
					case *ast.SelectorExpr:
						name = fn.Sel.Name
					case *ast.Ident:
						name = fn.Name
					}
					if name == "Invalid" && len(n.Args) == 2 {
						add(n.Args[1], path)
					}
					if name == "New" && len(n.Args) == 1 && (strings.Contains(path, "core/") || strings.HasSuffix(path, "problem.go")) {
						add(n.Args[0], path)
					}
				}
				return true
			})
		})
	}
	// Not for players: what operators and programmers read.
	for _, s := range []string{"app: boss raid data is empty", "validation failed", "authentication required", "not allowed", "too many attempts", "handler panicked", "the client closed the request"} {
		delete(out, s)
	}
	return out
}

// englishText is a run of two or more ASCII letters: a word someone forgot to translate.
var englishText = regexp.MustCompile(`[A-Za-z]{2,}`)

// allowedWords are names and units every language writes the same way.
var allowedWords = []string{"UTC"}

// allowedPhrases are removed before looking for words: the game's name.
var allowedPhrases = []string{"Boss Raid"}

// TestTemplatesHaveNoLiteralEnglish reads every template's markup — text between tags and the
// title, aria-label, placeholder and alt attributes — and fails on English words outside a
// translation call ({ i18n.T(ctx, ...) }).
func TestTemplatesHaveNoLiteralEnglish(t *testing.T) {
	files := 0
	walk(t, filepath.Join(root, "views"), func(path string, src []byte) {
		if !strings.HasSuffix(path, ".templ") {
			return
		}
		files++
		for i, line := range markupLines(string(src)) {
			for _, p := range allowedPhrases {
				line = strings.ReplaceAll(line, p, "")
			}
			for _, w := range englishText.FindAllString(line, -1) {
				if !slices.Contains(allowedWords, w) {
					t.Errorf("%s: markup line %d has untranslated %q: %s", path, i+1, w, line)
				}
			}
		}
	})
	if files < 10 {
		t.Fatalf("read only %d templates", files)
	}
}

var (
	goExpr      = regexp.MustCompile(`\{[^{}]*(\{[^{}]*\}[^{}]*)*\}`) // { expr } with one level of braces inside
	visibleAttr = regexp.MustCompile(`\b(?:title|aria-label|placeholder|alt|value)="([^"]*)"`)
	tag         = regexp.MustCompile(`<[^>]*>`)
	statement   = regexp.MustCompile(`^\s*(?:if |else|for |switch |case |default:|@|}|templ |\{ children)`)
)

// markupLines are the user-visible literal parts of each line inside templ bodies: statements
// and Go expressions dropped, tags reduced to their visible attributes. Lines outside templ
// bodies (imports, Go functions) come out empty.
func markupLines(src string) []string {
	lines := strings.Split(src, "\n")
	out := make([]string, len(lines))
	inTempl := false
	inTag := false
	depth := 0 // open parentheses of a component call spanning lines: Go, not markup
	for i, line := range lines {
		if depth > 0 {
			depth += strings.Count(line, "(") - strings.Count(line, ")")
			continue
		}
		switch {
		case strings.HasPrefix(line, "templ "):
			inTempl = true
			continue
		case line == "}":
			inTempl = false
			continue
		case !inTempl:
			continue
		case statement.MatchString(line):
			if strings.HasPrefix(strings.TrimSpace(line), "@") {
				depth = strings.Count(line, "(") - strings.Count(line, ")")
			}
			continue
		}
		s := dropCalls(line)
		s = goExpr.ReplaceAllString(s, " ")
		// Attributes of a tag that spans lines: keep only the visible ones.
		if inTag || strings.Contains(s, "<") {
			var vis []string
			for _, m := range visibleAttr.FindAllStringSubmatch(s, -1) {
				vis = append(vis, m[1])
			}
			rest := tag.ReplaceAllString(s, " ")
			if strings.Contains(rest, "<") { // a tag opens here and closes on a later line
				inTag = true
				rest = rest[:strings.Index(rest, "<")]
			} else if inTag {
				if j := strings.Index(rest, ">"); j >= 0 {
					inTag, rest = false, rest[j+1:]
				} else {
					rest = ""
				}
			}
			s = strings.Join(append(vis, rest), " ")
		}
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// dropCalls removes component calls (@name(args)) from a line of markup.
func dropCalls(line string) string {
	for {
		at := strings.Index(line, "@")
		if at < 0 {
			return line
		}
		open := strings.Index(line[at:], "(")
		if open < 0 || strings.ContainsAny(line[at+1:at+open], " <>\"") {
			return line
		}
		depth, end := 0, len(line)
		for j := at + open; j < len(line); j++ {
			if line[j] == '(' {
				depth++
			} else if line[j] == ')' {
				if depth--; depth == 0 {
					end = j + 1
					break
				}
			}
		}
		line = line[:at] + " " + line[end:]
	}
}

func walk(t *testing.T, dir string, fn func(path string, src []byte)) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fn(filepath.ToSlash(path), src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestMatch(t *testing.T) {
	cases := []struct {
		cookie, accept string
		want           language.Tag
	}{
		{"", "", language.English},
		{"", "ko-KR,ko;q=0.9,en-US;q=0.8", language.Korean},
		{"", "ko", language.Korean},
		{"", "en-GB,en;q=0.9", language.English},
		{"", "fr-FR,fr;q=0.9", language.English},
		{"", "fr;q=0.9, ko;q=0.5", language.Korean},
		{"ko", "en-US", language.Korean},
		{"en", "ko-KR", language.English},
		{"xx-not-ours", "ko", language.Korean},
		{strings.Repeat("k", 5000), "ko", language.Korean},
		{"", strings.Repeat("ko,", 2000), language.Korean},
		{"", "*;q=0.1,;;;", language.English},
	}
	for _, c := range cases {
		if got := i18n.Match(c.cookie, c.accept); got != c.want {
			t.Errorf("Match(%.20q, %.40q) = %s, want %s", c.cookie, c.accept, got, c.want)
		}
	}
}

func TestDatesNumbersAndPlurals(t *testing.T) {
	en, ko := i18n.For(language.English), i18n.For(language.Korean)
	day := time.Date(2026, 12, 1, 15, 4, 5, 0, time.UTC)
	checks := []struct{ got, want string }{
		{ko.Date(day), "2026년 12월 1일"},
		{en.Date(day), "1 December 2026"},
		{ko.DateTime(day), "2026년 12월 1일 15:04:05 (UTC)"},
		{en.DateTime(day), "1 December 2026, 15:04:05 UTC"},
		{ko.Ago(day.Add(-3*time.Minute), day), "3분 전"},
		{en.Ago(day.Add(-3*time.Minute), day), "3 minutes ago"},
		{en.Ago(day.Add(-time.Minute), day), "1 minute ago"},
		{en.Ago(day.Add(-26*time.Hour), day), "1 day ago"},
		{ko.Ago(day.Add(2*time.Hour), day), "2시간 후"},
		{en.Ago(day.Add(-10*time.Second), day), "just now"},
		{ko.Num(1234567), "1,234,567"},
		{en.Num(int64(4282)), "4,282"},
		{en.N("level.points", 1), "+1 pt"},
		{en.N("level.points", 1200), "+1,200 pts"},
		{ko.N("level.points", 1), "+1점"},
		{ko.T("nav.ranking"), "랭킹"},
		{ko.Detail("nickname is required"), "닉네임을 입력해 주세요."},
		{en.Detail("nickname is required"), "nickname is required"},
		{ko.Detail("a message nobody translated"), "a message nobody translated"},
		{i18n.T(context.Background(), "nav.lobby"), "Lobby"},
		{i18n.T(i18n.With(context.Background(), language.Korean, "/"), "nav.lobby"), "로비"},
		{en.T("no.such.message"), "no.such.message"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
