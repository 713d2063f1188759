package processor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/logveil/logveil/transforms"
)

// Config is logveil's whole configuration, as read from a YAML file. Keys
// not listed here are an error, so a typo cannot silently fall back to a
// default.
type Config struct {
	Anonymize transforms.Config `yaml:"anonymize"`
}

// LoadConfig reads a YAML config file. An empty path gives the defaults.
func LoadConfig(path string) (Config, error) {
	var c Config
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("cannot read config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}
