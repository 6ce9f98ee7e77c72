package cdc

// This file implements Debezium's per-column options (ColumnMappers) and
// message.key.columns (Key.CustomKeyMapper) for both CDC sources.

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/tributary-cdc/tributary/connector/config"
	"github.com/tributary-cdc/tributary/schema"
)

// Keys of the column options (Debezium's names). The numbered and hashed
// ones are families: column.mask.with.<N>.chars, column.truncate.to.<N>.chars,
// column.mask.hash.<alg>.with.salt.<salt> and column.mask.hash.v2.<alg>.with.salt.<salt>.
const (
	KeyMessageKeyColumns      = "message.key.columns"
	KeyColumnPropagateType    = "column.propagate.source.type"
	KeyDatatypePropagateType  = "datatype.propagate.source.type"
	columnMaskPrefix          = "column.mask."
	columnTruncatePrefix      = "column.truncate.to."
	ParamSourceColumnType     = "__debezium.source.column.type"
	ParamSourceColumnLength   = "__debezium.source.column.length"
	ParamSourceColumnScale    = "__debezium.source.column.scale"
	ParamSourceColumnName     = "__debezium.source.column.name"
	paramMasked               = "masked"
	paramTruncateLength       = "truncateLength"
	columnRuleFamiliesSummary = "column.mask.with.<N>.chars, column.truncate.to.<N>.chars, column.mask.hash.<alg>.with.salt.<salt>, column.mask.hash.v2.<alg>.with.salt.<salt>"
)

// ColumnRulePrefixes are the key prefixes of the column option families, for
// config.Def.PassThrough (ParseColumnRules checks every key under them).
var ColumnRulePrefixes = []string{columnMaskPrefix, columnTruncatePrefix}

// DefineColumnKeys declares the fixed-name column options on d.
func DefineColumnKeys(d *config.Def) {
	d.Define(config.Key{Name: KeyMessageKeyColumns, Type: config.String, Default: "", Importance: config.Medium,
		Doc: "Semicolon-separated <table regex>:<col>,<col> entries: these columns (in this order) form the message key of matching tables instead of the primary key, e.g. db.orders:order_id,line;db.t.*:uuid."})
	d.Define(config.Key{Name: KeyColumnPropagateType, Type: config.List, Default: []string{}, Importance: config.Low, Validator: config.ValidRegex,
		Doc: "Regular expressions of fully qualified column names whose value-schema field gets the parameters __debezium.source.column.type, .length, .scale and .name."})
	d.Define(config.Key{Name: KeyDatatypePropagateType, Type: config.List, Default: []string{}, Importance: config.Low, Validator: config.ValidRegex,
		Doc: "Regular expressions of <table>.<type name> (for example .+\\.VARCHAR) whose columns get the __debezium.source.column.* schema parameters."})
}

// SourceColumn describes a source column as Debezium's Column does.
type SourceColumn struct {
	Table    string // fully qualified table id: db.table (MySQL) or schema.table (PostgreSQL)
	Name     string
	TypeName string // the source type name, as Debezium reports it
	Length   int    // declared length or precision; -1 when the type has none
	Scale    int
	HasScale bool
	// Character is true for the types Debezium masks and hashes (JDBC
	// CHAR, VARCHAR, LONGVARCHAR, CLOB, NCHAR, …).
	Character bool
}

type ruleKind int

const (
	ruleTruncate ruleKind = iota
	ruleMask
	rulePropagate
	rulePropagateType
	ruleHash
	ruleHashV2
)

type columnRule struct {
	kind ruleKind
	pats []*regexp.Regexp
	n    int
	alg  string
	salt []byte
}

// ColumnRules holds the parsed column options and message.key.columns. The
// zero value and nil apply none.
type ColumnRules struct {
	rules []columnRule
	keys  []keyRule
}

type keyRule struct {
	table string // regex source of the table part
	col   *regexp.Regexp
}

var (
	reMaskN     = regexp.MustCompile(`^column\.mask\.with\.(\d+)\.chars$`)
	reTruncN    = regexp.MustCompile(`^column\.truncate\.to\.(\d+)\.chars$`)
	reHashV2    = regexp.MustCompile(`^column\.mask\.hash\.v2\.([^.]+)\.with\.salt\.(.+)$`)
	reHash      = regexp.MustCompile(`^column\.mask\.hash\.([^.]+)\.with\.salt\.(.+)$`)
	reKeyColumn = regexp.MustCompile(`^\s*([^:]+):([^:,]+(,[^:,]+)*)\s*$`) // Key.CustomKeyMapper.MSG_KEY_COLUMNS_PATTERN
)

// compileList compiles Debezium's comma-separated regular expressions
// (Predicates.includes: whole-name, case-insensitive matches).
func compileList(key, list string) ([]*regexp.Regexp, *config.KeyError) {
	var out []*regexp.Regexp
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		re, err := regexp.Compile("(?i)^(?:" + p + ")$")
		if err != nil {
			return nil, &config.KeyError{Key: key, Message: fmt.Sprintf("%s: not a valid regular expression %q: %v", key, p, err)}
		}
		out = append(out, re)
	}
	if len(out) == 0 {
		return nil, &config.KeyError{Key: key, Message: key + " needs a comma-separated list of column name regular expressions"}
	}
	return out, nil
}

// newHash returns the Java MessageDigest algorithm name's Go hash.
func newHash(alg string) (func() hash.Hash, bool) {
	switch strings.ToUpper(alg) {
	case "MD5":
		return md5.New, true
	case "SHA", "SHA1", "SHA-1":
		return sha1.New, true
	case "SHA-224", "SHA224":
		return sha256.New224, true
	case "SHA-256", "SHA256":
		return sha256.New, true
	case "SHA-384", "SHA384":
		return sha512.New384, true
	case "SHA-512", "SHA512":
		return sha512.New, true
	case "SHA-512/224":
		return sha512.New512_224, true
	case "SHA-512/256":
		return sha512.New512_256, true
	case "SHA3-224":
		return func() hash.Hash { return sha3.New224() }, true
	case "SHA3-256":
		return func() hash.Hash { return sha3.New256() }, true
	case "SHA3-384":
		return func() hash.Hash { return sha3.New384() }, true
	case "SHA3-512":
		return func() hash.Hash { return sha3.New512() }, true
	}
	return nil, false
}

// ParseColumnRules reads the column options and message.key.columns from a
// connector config. Every key under the option families must parse, or it
// is reported by name.
func ParseColumnRules(raw map[string]string) (*ColumnRules, config.Errors) {
	var errs config.Errors
	r := &ColumnRules{}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var byKind [6][]columnRule
	for _, k := range keys {
		v := raw[k]
		var kind ruleKind
		var rule columnRule
		switch {
		case k == KeyColumnPropagateType:
			if strings.TrimSpace(v) == "" {
				continue
			}
			kind = rulePropagate
		case k == KeyDatatypePropagateType:
			if strings.TrimSpace(v) == "" {
				continue
			}
			kind = rulePropagateType
		case reMaskN.MatchString(k):
			kind = ruleMask
			rule.n, _ = strconv.Atoi(reMaskN.FindStringSubmatch(k)[1])
		case reTruncN.MatchString(k):
			kind = ruleTruncate
			rule.n, _ = strconv.Atoi(reTruncN.FindStringSubmatch(k)[1])
		case reHashV2.MatchString(k), reHash.MatchString(k):
			m := reHashV2.FindStringSubmatch(k)
			kind = ruleHashV2
			if m == nil {
				m = reHash.FindStringSubmatch(k)
				kind = ruleHash
			}
			if _, ok := newHash(m[1]); !ok {
				errs = append(errs, config.KeyError{Key: k, Message: fmt.Sprintf("%s: hash algorithm %q is not supported (MD5, SHA-1, SHA-224, SHA-256, SHA-384, SHA-512, SHA-512/224, SHA-512/256, SHA3-224, SHA3-256, SHA3-384, SHA3-512)", k, m[1])})
				continue
			}
			rule.alg, rule.salt = m[1], []byte(m[2])
		case strings.HasPrefix(k, columnMaskPrefix) || strings.HasPrefix(k, columnTruncatePrefix):
			errs = append(errs, config.KeyError{Key: k, Message: fmt.Sprintf("%s is not a column option; expected one of %s", k, columnRuleFamiliesSummary)})
			continue
		default:
			continue
		}
		pats, e := compileList(k, v)
		if e != nil {
			errs = append(errs, *e)
			continue
		}
		rule.kind, rule.pats = kind, pats
		byKind[kind] = append(byKind[kind], rule)
	}
	// Debezium's ColumnMappers keeps the first matching rule, with the
	// families registered in this order.
	for _, rs := range byKind {
		r.rules = append(r.rules, rs...)
	}
	if v, ok := raw[KeyMessageKeyColumns]; ok && strings.TrimSpace(v) != "" {
		for _, part := range strings.Split(v, ";") {
			if !reKeyColumn.MatchString(part) {
				errs = append(errs, config.KeyError{Key: KeyMessageKeyColumns, Message: fmt.Sprintf("%s: %q has an invalid format (expecting '<table>:<column>[,<column>…]')", KeyMessageKeyColumns, part)})
				continue
			}
			tbl, cols, _ := strings.Cut(part, ":")
			tbl = strings.TrimSpace(tbl)
			for _, c := range strings.Split(cols, ",") {
				p := tbl + "." + strings.TrimSpace(c)
				re, err := regexp.Compile("(?i)^(?:" + p + ")$")
				if err != nil {
					errs = append(errs, config.KeyError{Key: KeyMessageKeyColumns, Message: fmt.Sprintf("%s: not a valid regular expression %q: %v", KeyMessageKeyColumns, p, err)})
					continue
				}
				r.keys = append(r.keys, keyRule{table: tbl, col: re})
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return r, nil
}

// KeyColumns returns the indexes (into cols, table order) of the columns
// message.key.columns selects for table, in rule order; nil when no rule
// matches (the primary key is the key).
func (r *ColumnRules) KeyColumns(table string, cols []string) []int {
	if r == nil || len(r.keys) == 0 {
		return nil
	}
	var out []int
	for _, k := range r.keys {
		for i, c := range cols {
			if k.col.MatchString(table+"."+c) && !slices.Contains(out, i) {
				out = append(out, i)
			}
		}
	}
	return out
}

// ColumnMapping is what the options do to one column: parameters for its
// value-schema field and a value conversion (applied after the type
// conversion, to the value struct only — never to the key).
type ColumnMapping struct {
	Params  []schema.Param
	convert func(any) any
}

// Convert applies the mapping to a converted value.
func (m *ColumnMapping) Convert(v any) any {
	if m == nil || m.convert == nil {
		return v
	}
	return m.convert(v)
}

// Schema returns s with the mapping's parameters added.
func (m *ColumnMapping) Schema(s *schema.Schema) *schema.Schema {
	if m == nil || len(m.Params) == 0 {
		return s
	}
	c := *s
	c.Parameters = append(slices.Clone(s.Parameters), m.Params...)
	return &c
}

// Mapping returns the mapping of the first rule matching c (Debezium applies
// one mapper per column), or nil.
func (r *ColumnRules) Mapping(c SourceColumn) *ColumnMapping {
	if r == nil {
		return nil
	}
	id := c.Table + "." + c.Name
	for _, rule := range r.rules {
		subject := id
		if rule.kind == rulePropagateType {
			subject = c.Table + "." + c.TypeName
		}
		if !slices.ContainsFunc(rule.pats, func(re *regexp.Regexp) bool { return re.MatchString(subject) }) {
			continue
		}
		return rule.mapping(c)
	}
	return nil
}

func (rule columnRule) mapping(c SourceColumn) *ColumnMapping {
	switch rule.kind {
	case ruleTruncate:
		// TruncateColumn: only when the declared length is unknown or longer
		if c.Length >= 0 && c.Length <= rule.n {
			return &ColumnMapping{}
		}
		n := rule.n
		return &ColumnMapping{Params: []schema.Param{{Key: paramTruncateLength, Value: strconv.Itoa(n)}}, convert: func(v any) any { return truncateValue(v, n) }}
	case ruleMask:
		m := &ColumnMapping{Params: []schema.Param{{Key: paramMasked, Value: "true"}}}
		if c.Character {
			mask := strings.Repeat("*", rule.n)
			m.convert = func(any) any { return mask } // MaskingValueConverter: nulls too
		}
		return m
	case ruleHash, ruleHashV2:
		m := &ColumnMapping{Params: []schema.Param{{Key: paramMasked, Value: "true"}}}
		if c.Character {
			newH, _ := newHash(rule.alg)
			salt, v2, length := rule.salt, rule.kind == ruleHashV2, c.Length
			m.convert = func(v any) any {
				s, ok := v.(string)
				if !ok {
					return nil // HashValueConverter: null (and non-serializable) values hash to null
				}
				out := HashColumnValue(newH, salt, s, v2)
				if length > 0 {
					out = truncateValue(out, length).(string)
				}
				return out
			}
		}
		return m
	case rulePropagate, rulePropagateType:
		ps := []schema.Param{{Key: ParamSourceColumnType, Value: strings.ToUpper(c.TypeName)}}
		if c.Length >= 0 {
			ps = append(ps, schema.Param{Key: ParamSourceColumnLength, Value: strconv.Itoa(c.Length)})
		}
		if c.HasScale {
			ps = append(ps, schema.Param{Key: ParamSourceColumnScale, Value: strconv.Itoa(c.Scale)})
		}
		ps = append(ps, schema.Param{Key: ParamSourceColumnName, Value: c.Name})
		return &ColumnMapping{Params: ps}
	}
	return nil
}

// truncateValue cuts strings to n UTF-16 code units (Java's
// String.substring) and byte slices to n bytes.
func truncateValue(v any, n int) any {
	switch x := v.(type) {
	case string:
		if len(x) <= n { // UTF-8 bytes ≥ UTF-16 units
			return x
		}
		u := utf16.Encode([]rune(x))
		if len(u) <= n {
			return x
		}
		return string(utf16.Decode(u[:n]))
	case []byte:
		if len(x) > n {
			return x[:n:n]
		}
	}
	return v
}

// HashColumnValue is Debezium's MaskStrings.HashValueConverter: the hex
// digest of salt followed by the value's bytes — V1: the value as Java
// serialization writes a String (ObjectOutputStream.writeObject), V2: its
// UTF-8 bytes.
func HashColumnValue(newH func() hash.Hash, salt []byte, value string, v2 bool) string {
	h := newH()
	h.Write(salt)
	if v2 {
		h.Write([]byte(value))
	} else {
		h.Write(JavaSerializedString(value))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// JavaSerializedString returns the bytes of a fresh ObjectOutputStream
// after writeObject(s): the stream header (0xACED, version 5), then
// TC_STRING with a 2-byte length, or TC_LONGSTRING with an 8-byte length
// above 65535 bytes, and the modified UTF-8 of s.
func JavaSerializedString(s string) []byte {
	var mu []byte
	for _, u := range utf16.Encode([]rune(s)) {
		switch {
		case u >= 1 && u <= 0x7f:
			mu = append(mu, byte(u))
		case u <= 0x7ff: // includes U+0000 as 0xC0 0x80
			mu = append(mu, byte(0xc0|(u>>6)&0x1f), byte(0x80|u&0x3f))
		default:
			mu = append(mu, byte(0xe0|(u>>12)&0x0f), byte(0x80|(u>>6)&0x3f), byte(0x80|u&0x3f))
		}
	}
	out := []byte{0xac, 0xed, 0x00, 0x05}
	if len(mu) <= 0xffff {
		out = append(out, 0x74)
		out = binary.BigEndian.AppendUint16(out, uint16(len(mu)))
	} else {
		out = append(out, 0x7c)
		out = binary.BigEndian.AppendUint64(out, uint64(len(mu)))
	}
	return append(out, mu...)
}
