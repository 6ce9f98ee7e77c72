package mysql

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/tributary-cdc/tributary/schema"
)

// keyJSON renders a key struct as Kafka Connect JSON without a schema
// (JsonConverter with schemas.enable=false): the bytes of the
// __debezium.newkey / __debezium.oldkey headers.
func keyJSON(k *schema.Struct) []byte {
	if k == nil {
		return []byte("null")
	}
	return appendStructJSON(nil, k)
}

func appendStructJSON(b []byte, st *schema.Struct) []byte {
	b = append(b, '{')
	for i, f := range st.Schema.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, f.Name)
		b = append(b, ':')
		b = appendValueJSON(b, f.Schema, st.Values[i])
	}
	return append(b, '}')
}

func appendValueJSON(b []byte, s *schema.Schema, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case *schema.Struct:
		return appendStructJSON(b, x)
	case string:
		q, _ := json.Marshal(x)
		return append(b, q...)
	case []byte:
		return strconv.AppendQuote(b, base64.StdEncoding.EncodeToString(x))
	case bool:
		return strconv.AppendBool(b, x)
	case int8:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return strconv.AppendQuote(b, strconv.FormatFloat(float64(x), 'g', -1, 32))
		}
		return strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.AppendQuote(b, strconv.FormatFloat(x, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, x, 'g', -1, 64)
	case decimal.Decimal:
		scale := int32(0)
		if s != nil {
			scale, _ = schema.DecimalScale(s)
		}
		return strconv.AppendQuote(b, base64.StdEncoding.EncodeToString(schema.DecimalToUnscaled(x, scale)))
	case time.Time:
		if s != nil {
			switch s.Name {
			case schema.DateName:
				return strconv.AppendInt(b, int64(schema.DateToDays(x)), 10)
			case schema.TimeName:
				return strconv.AppendInt(b, int64(schema.TimeToMillis(x)), 10)
			}
		}
		return strconv.AppendInt(b, x.UnixMilli(), 10)
	}
	q, _ := json.Marshal(v)
	return append(b, q...)
}
