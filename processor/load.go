package processor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Reading the configuration: the YAML file, then LOGVEIL_* environment
// variables (flags are applied by the commands); EffectiveYAML writes it back.

// LoadConfig reads a YAML config file (empty path: defaults), then applies
// LOGVEIL_* environment variables from env (os.Environ() form).
func LoadConfig(path string) (Config, error) {
	return loadConfig(path, os.Environ())
}

func loadConfig(path string, env []string) (Config, error) {
	var c Config
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
		var tree map[string]any
		if err := yaml.Unmarshal(data, &tree); err == nil {
			for _, key := range zeroMeansDefault {
				section, field, _ := strings.Cut(key, ".")
				if m, ok := tree[section].(map[string]any); ok {
					if v, ok := m[field]; ok && fmt.Sprint(v) == "0" {
						return c, zeroError(key, path)
					}
				}
			}
		}
	}
	for _, key := range zeroMeansDefault {
		name := "LOGVEIL_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		for _, kv := range env {
			if v, ok := strings.CutPrefix(kv, name+"="); ok && strings.TrimSpace(v) == "0" {
				return c, zeroError(key, name)
			}
		}
	}
	if err := applyEnv(&c, env); err != nil {
		return c, err
	}
	return c, nil
}

// zeroMeansDefault are the keys whose zero value reads as "not set" and
// takes the default: written as 0 they are refused, since the default is
// not what was written (k: 0 would publish with k = 5; ipv4_prefix: 0
// would keep a /24).
var zeroMeansDefault = []string{"stats.k", "stats.k_search", "stats.max_values", "anonymize.ipv4_prefix", "anonymize.ipv6_prefix"}

func zeroError(key, where string) error {
	switch key {
	case "stats.k", "stats.k_search":
		return fmt.Errorf("%s: %s is 0: k must be at least 1 (default %s; 1 turns k-anonymity off)", where, key,
			map[string]string{"stats.k": "5", "stats.k_search": "10"}[key])
	case "stats.max_values":
		return fmt.Errorf("%s: %s is 0: at least 1 value per dimension (default 1000)", where, key)
	}
	return fmt.Errorf("%s: %s is 0, which is not supported (it would read as the default); the smallest prefix is 1", where, key)
}

// applyEnv sets fields from LOGVEIL_<SECTION>_<KEY> variables, e.g.
// LOGVEIL_KAFKA_BROKERS=a:9092,b:9092 or LOGVEIL_ANONYMIZE_IPV4_PREFIX=16.
// Lists are comma-separated. Unknown LOGVEIL_ variables are an error, so a
// typo is not silently ignored (LOGVEIL_TEST_* are the test suite's).
func applyEnv(c *Config, env []string) error {
	fields := map[string]reflect.Value{}
	collectFields(reflect.ValueOf(c).Elem(), "LOGVEIL", fields)
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "LOGVEIL_") || strings.HasPrefix(name, "LOGVEIL_TEST_") {
			continue // LOGVEIL_TEST_* belong to the test suite
		}
		f, known := fields[name]
		if !known {
			return fmt.Errorf("environment: %s is not a logveil setting", name)
		}
		if err := setFromString(f, val); err != nil {
			return fmt.Errorf("environment: %s=%q: %w", name, maskIfSecret(name, val), err)
		}
	}
	return nil
}

func collectFields(v reflect.Value, prefix string, out map[string]reflect.Value) {
	t := v.Type()
	for i := range t.NumField() {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		name := prefix + "_" + strings.ToUpper(tag)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			collectFields(f, name, out)
			continue
		}
		out[name] = f
	}
}

func setFromString(f reflect.Value, s string) error {
	switch f.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.Set(reflect.ValueOf(&b))
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
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
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
