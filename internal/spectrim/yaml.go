package spectrim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// keyOrder puts the keys OpenAPI readers expect first in their usual order;
// other keys follow alphabetically.
var keyOrder = map[string]int{}

func init() {
	for i, k := range []string{
		"openapi", "info", "servers", "paths", "components",
		"title", "version", "name", "in", "url", "operationId", "summary", "description",
		"get", "put", "post", "patch", "delete",
		"tags", "parameters", "requestBody", "responses", "security",
		"$ref", "type", "format", "enum", "required", "properties", "items",
		"additionalProperties",
	} {
		keyOrder[k] = i + 1
	}
}

func less(a, b string) bool {
	oa, ob := keyOrder[a], keyOrder[b]
	switch {
	case oa != 0 && ob != 0:
		return oa < ob
	case oa != 0:
		return true
	case ob != 0:
		return false
	}
	return a < b
}

// Marshal renders a document as YAML with a stable key order.
func Marshal(doc map[string]any) ([]byte, error) {
	n, err := toNode(doc)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, fmt.Errorf("spectrim: encoding YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("spectrim: encoding YAML: %w", err)
	}
	return buf.Bytes(), nil
}

// namedMaps hold names chosen by the document's author rather than OpenAPI
// keywords; their keys sort alphabetically.
var namedMaps = map[string]bool{
	"paths": true, "properties": true, "patternProperties": true, "schemas": true,
	"responses": true, "scopes": true, "variables": true, "securitySchemes": true,
}

func toNode(v any) (*yaml.Node, error) { return node(v, false) }

func node(v any, named bool) (*yaml.Node, error) {
	switch v := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		if named {
			sort.Strings(keys)
		} else {
			sort.Slice(keys, func(i, j int) bool { return less(keys[i], keys[j]) })
		}
		for _, k := range keys {
			c, err := node(v[k], !named && namedMaps[k])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, c)
		}
		return n, nil
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, e := range v {
			c, err := node(e, false)
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	case string:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v}, nil
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}, nil
	case json.Number:
		tag := "!!int"
		if _, err := v.Int64(); err != nil {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: v.String()}, nil
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}, nil
	case int64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}, nil
	case uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatUint(v, 10)}, nil
	case float64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!float", Value: strconv.FormatFloat(v, 'g', -1, 64)}, nil
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	}
	return nil, fmt.Errorf("%w: unsupported value of type %T", ErrInput, v)
}
