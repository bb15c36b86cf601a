// Package openapidoc merges the API's OpenAPI document (api/openapi.yaml)
// with the fragments each process adds (api/openapi.d/*.yaml). The API
// merges its embedded copies at start; the type generator
// (internal/apitypes) merges the files on disk, the same way.
package openapidoc

import (
	"fmt"
	"io/fs"
	"sort"

	"go.yaml.in/yaml/v3"
)

// Merge adds the paths and components of every fragment in fragments
// matching glob, in name order, to the base document, then the base
// document's shared answers (SharedAnswersKey) to every operation. A path or
// component defined twice is an error.
func Merge(baseDocument []byte, fragments fs.FS, glob string) ([]byte, error) {
	var base map[string]any
	if err := yaml.Unmarshal(baseDocument, &base); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	names, err := fs.Glob(fragments, glob)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		raw, err := fs.ReadFile(fragments, name)
		if err != nil {
			return nil, err
		}
		var frag map[string]any
		if err := yaml.Unmarshal(raw, &frag); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := MergeSection(base, frag, "paths", name); err != nil {
			return nil, err
		}
		comps, _ := frag["components"].(map[string]any)
		baseComps, _ := base["components"].(map[string]any)
		for section := range comps {
			if err := MergeSection(baseComps, comps, section, name); err != nil {
				return nil, err
			}
		}
	}
	addSharedAnswers(base)
	return yaml.Marshal(base)
}

// MergeSection adds src[section] to dst[section] (a fragment's paths or one
// kind of component), refusing a name defined twice; a path may gain
// operations it did not have.
func MergeSection(dst, src map[string]any, section, from string) error {
	add, _ := src[section].(map[string]any)
	if len(add) == 0 {
		return nil
	}
	into, _ := dst[section].(map[string]any)
	if into == nil {
		into = map[string]any{}
		dst[section] = into
	}
	for k, v := range add {
		if existing, dup := into[k]; dup {
			// A fragment may add operations (methods) to a path another
			// document defines, but not redefine one.
			have, ok1 := existing.(map[string]any)
			more, ok2 := v.(map[string]any)
			if section != "paths" || !ok1 || !ok2 {
				return fmt.Errorf("%s: %s %q is defined twice", from, section, k)
			}
			for op, def := range more {
				if _, twice := have[op]; twice {
					return fmt.Errorf("%s: %s %q %s is defined twice", from, section, k, op)
				}
				have[op] = def
			}
			continue
		}
		into[k] = v
	}
	return nil
}
