package runtime

import "github.com/tributary-cdc/tributary/transforms"

// ParseTransforms is the default TransformFactory: the connector's
// transforms/predicates keys parsed by the transforms package. A connector
// without transforms gets a nil Transformer (records pass untouched).
func ParseTransforms(cfg map[string]string) (Transformer, error) {
	c, err := transforms.Parse(cfg)
	if err != nil {
		return nil, err
	}
	if c.Len() == 0 {
		return nil, nil
	}
	return c, nil
}
