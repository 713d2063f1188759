package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Reading the configuration: Default, then the YAML file, then LOGVEIL_*
// environment variables, then flags, each over the one before. A key
// written with its zero value (k: 0) is that value, not the default; Resolve
// refuses what is out of range.

// Load reads a YAML config file over the defaults (empty path: none), then
// applies LOGVEIL_* environment variables from env (os.Environ() form).
func Load(path string, env []string) (Config, error) {
	c := Default()
	c.origin = map[string]string{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("cannot read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		// Where a key's value came from, for errors: what the file changed.
		def := Default()
		for _, p := range paths() {
			if !reflect.DeepEqual(field(&c, p).Interface(), field(&def, p).Interface()) {
				c.origin[p] = path
			}
		}
	}
	return c, applyEnv(&c, env)
}

// Explain adds to an error of Resolve where the key it names was set (the
// file, the variable or the flag), when not by Default.
func (c Config) Explain(err error) error {
	if err == nil {
		return nil
	}
	key, _, _ := strings.Cut(err.Error(), ":")
	if where := c.origin[key]; where != "" {
		return fmt.Errorf("%w (set by %s)", err, where)
	}
	return err
}

// Binder gives a command's flag set --config and a flag for each of some
// keys; Load then applies the file, the environment and the flags given.
type Binder struct {
	fs     *flag.FlagSet
	file   string
	values []*flagValue
}

// Bind adds --config and the flags of the keys at paths to fs.
func Bind(fs *flag.FlagSet, paths ...string) *Binder {
	b := &Binder{fs: fs}
	fs.StringVar(&b.file, "config", "", "YAML config file (the environment and flags override it)")
	def := Default()
	for _, p := range paths {
		k := keyByPath[p]
		if k == nil || k.flag == "" {
			panic("BUG: no flag for config key " + p)
		}
		v := &flagValue{k: k, def: formatValue(field(&def, p))}
		fs.Var(v, k.flag, k.help+" ("+p+")")
		b.values = append(b.values, v)
	}
	return b
}

// SetFile names the config file when a command takes it as an argument.
func (b *Binder) SetFile(path string) { b.file = path }

// File is the config file named, if any.
func (b *Binder) File() string { return b.file }

// Load reads the file, applies the process's environment, then the flags
// given on the command line.
func (b *Binder) Load() (Config, error) {
	c, err := Load(b.file, os.Environ())
	if err != nil {
		return c, err
	}
	for _, v := range b.values {
		if v.set {
			if err := setFromString(field(&c, v.k.path), v.val); err != nil {
				return c, fmt.Errorf("--%s %q: %w", v.k.flag, v.val, err)
			}
			c.origin[v.k.path] = "--" + v.k.flag
		}
	}
	return c, nil
}

// flagValue is one key's flag; its value is checked for its type when set.
type flagValue struct {
	k        *key
	def, val string
	set      bool
}

func (v *flagValue) String() string {
	if v == nil || v.k == nil {
		return ""
	}
	if v.set {
		return v.val
	}
	return strings.Trim(v.def, "[]")
}

func (v *flagValue) Set(s string) error {
	var scratch Config
	if err := setFromString(field(&scratch, v.k.path), s); err != nil {
		return err
	}
	v.val, v.set = s, true
	return nil
}

// applyEnv sets fields from LOGVEIL_<SECTION>_<KEY> variables, e.g.
// LOGVEIL_KAFKA_BROKERS=a:9092,b:9092 or LOGVEIL_ANONYMIZE_IPV4_PREFIX=16.
// Lists are comma-separated. Unknown LOGVEIL_ variables are an error, so a
// typo is not silently ignored (LOGVEIL_TEST_* are the test suite's).
func applyEnv(c *Config, env []string) error {
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "LOGVEIL_") || strings.HasPrefix(name, "LOGVEIL_TEST_") {
			continue // LOGVEIL_TEST_* belong to the test suite
		}
		path, known := envPaths[name]
		if !known {
			return fmt.Errorf("environment: %s is not a logveil setting", name)
		}
		if err := setFromString(field(c, path), val); err != nil {
			return fmt.Errorf("environment: %s=%q: %w", name, maskIfSecret(name, val), err)
		}
		if c.origin != nil {
			c.origin[path] = name
		}
	}
	return nil
}

// envPaths maps each key's environment variable to its path.
var envPaths = func() map[string]string {
	m := map[string]string{}
	for _, p := range paths() {
		m[EnvName(p)] = p
	}
	return m
}()

// EnvName is a key's environment variable: LOGVEIL_KAFKA_BROKERS.
func EnvName(path string) string {
	return "LOGVEIL_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

func setFromString(f reflect.Value, s string) error {
	list := func() []string {
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		return parts
	}
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	case []time.Duration:
		var ds []time.Duration
		for _, p := range list() {
			d, err := time.ParseDuration(p)
			if err != nil {
				return err
			}
			ds = append(ds, d)
		}
		f.Set(reflect.ValueOf(ds))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int:
		n, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(n))
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Float64:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.SetFloat(x)
	case reflect.Slice:
		f.Set(reflect.ValueOf(list()))
	default:
		return fmt.Errorf("unsupported setting type %s", f.Type())
	}
	return nil
}

func maskIfSecret(name, val string) string {
	if strings.Contains(name, "PASSWORD") {
		return "***"
	}
	return val
}

// EffectiveYAML renders c with secrets masked, for check-config.
func (c Config) EffectiveYAML() ([]byte, error) {
	if c.Kafka.SASL.Password != "" {
		c.Kafka.SASL.Password = "***"
	}
	return yaml.Marshal(c)
}
