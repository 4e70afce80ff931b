package config

import (
	"encoding"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// tomlKeys returns every setting of t (a struct) by its dotted path as the file writes it:
// "sip", "room.record", "security.sip.invite_rate", "cluster.node.name".
func tomlKeys(t reflect.Type, prefix string) []string {
	var out []string
	text := reflect.TypeFor[encoding.TextUnmarshaler]()
	for f := range t.Fields() {
		tag := f.Tag.Get("toml")
		if tag == "" || tag == "-" {
			continue
		}
		key := prefix + tag
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(text) {
			out = append(out, tomlKeys(ft, key+".")...)
			continue
		}
		out = append(out, key)
	}
	return out
}

var (
	exampleTable = regexp.MustCompile(`^\[\[?([a-z_.]+)\]\]?\s*(#.*)?$`)
	exampleKey   = regexp.MustCompile(`^([a-z_]+)\s*=\s*(.*)$`)
	exampleInner = regexp.MustCompile(`([a-z_]+)\s*=`)
)

// exampleKeys returns the settings the example file shows, set or commented out ("# key =
// ..."), by dotted path; the keys of an inline table ("users = [{ user = ... }]") count too.
func exampleKeys(t *testing.T, path string) map[string]bool {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	table := ""
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
		if m := exampleTable.FindStringSubmatch(line); m != nil {
			table = m[1] + "."
			continue
		}
		m := exampleKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if value := m[2]; !strings.HasPrefix(value, "{") && !strings.HasPrefix(value, "[{") {
			keys[table+m[1]] = true
			continue
		}
		inline, _, _ := strings.Cut(m[2], "}]")
		for _, in := range exampleInner.FindAllStringSubmatch(inline, -1) {
			keys[table+m[1]+"."+in[1]] = true
		}
	}
	return keys
}

// TestExampleFileShowsEverySetting holds confd.example.toml to the Config structs: every
// setting they read is shown in the example (set or commented out, in its table), and every
// setting the example shows is one they read, so neither can drift from the other.
func TestExampleFileShowsEverySetting(t *testing.T) {
	want := tomlKeys(reflect.TypeFor[Config](), "")
	shown := exampleKeys(t, "../../confd.example.toml")
	for _, k := range want {
		if !shown[k] {
			t.Errorf("confd.example.toml does not show %s", k)
		}
	}
	for k := range shown {
		if !slices.Contains(want, k) {
			t.Errorf("confd.example.toml shows %s, which is no setting", k)
		}
	}
}

// TestEveryFlagIsDocumented holds README's flag table and docs/SPEC.md's "Start" to the flags
// Parse defines.
func TestEveryFlagIsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("../../docs/SPEC.md")
	if err != nil {
		t.Fatal(err)
	}
	section := func(doc []byte, heading string) string {
		_, s, ok := strings.Cut(string(doc), "\n"+heading+"\n")
		if !ok {
			t.Fatalf("no %q section", heading)
		}
		s, _, _ = strings.Cut(s, "\n## ")
		return s
	}
	var table []string
	for line := range strings.Lines(section(readme, "## Running")) {
		if strings.HasPrefix(line, "| `-") {
			table = append(table, line)
		}
	}
	start := section(spec, "## Start")
	fs := flag.NewFlagSet("confd", flag.ContinueOnError)
	var cfg Config
	var path string
	defineFlags(fs, &cfg, &path)
	fs.VisitAll(func(f *flag.Flag) {
		// -NAME in code, alone or beside others ("`-tls-cert FILE -tls-key FILE`").
		named := regexp.MustCompile("[` ]-" + regexp.QuoteMeta(f.Name) + "[` ]")
		inTable := slices.ContainsFunc(table, func(row string) bool {
			cell, _, _ := strings.Cut(row[1:], "|") // the first column only
			return named.MatchString(cell)
		})
		if !inTable {
			t.Errorf("README's flag table (## Running) lacks -%s", f.Name)
		}
		if !named.MatchString(start) {
			t.Errorf("docs/SPEC.md \"Start\" lacks -%s", f.Name)
		}
	})
}
